"""The publish API refuses what a page on another site can send without a CORS preflight
(issue #15, case 3): `fetch(url, {mode: 'no-cors', body: blob})` carries `Origin` and no
`Content-Type`. A disallowed Origin gets 403 (the WebSocket upgrade's rule), a body that is not
`application/json` gets 415, both with a JSON error and nothing published. Same-origin and
listed-origin JSON POSTs, and requests without Origin (curl, servers), still publish.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import Broker, WorkDir  # noqa: E402
from lib.client import TcpStomp, api_post  # noqa: E402

JSON = "application/json"


def post(broker, body, content_type=None, origin=None):
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if origin is not None:
        headers["Origin"] = origin
    payload = json.dumps({"destination": "/topic/x", "body": body}).encode()
    return api_post(broker.ws_port, payload, headers)


def main():
    with WorkDir() as work:
        config = '[websocket]\nallowed_origins = ["https://app.example"]\n'
        with Broker(work, config=config).start() as broker:
            reader = TcpStomp(broker.tcp_port)
            reader.connect(login="reader")
            reader.subscribe("/topic/x", receipt="sub")
            same_origin = f"http://127.0.0.1:{broker.ws_port}"
            refused = [
                # (what, status expected, answer)
                ("no-cors from evil", 403, post(broker, "evil-1", origin="https://evil.example")),
                ("json from evil", 403, post(broker, "evil-2", JSON, "https://evil.example")),
                ("no content type", 415, post(broker, "bare")),
                ("text/plain, same origin", 415, post(broker, "text", "text/plain", same_origin)),
                ("form, no origin", 415,
                 post(broker, "form", "application/x-www-form-urlencoded")),
            ]
            for what, expected, (status, answer) in refused:
                print(f"{what}: {status} {answer}")
                assert status == expected, (what, status, answer)
                assert isinstance(answer, dict) and answer.get("error"), (what, answer)
            accepted = [
                ("same origin", post(broker, "same", JSON + "; charset=utf-8", same_origin)),
                ("listed origin", post(broker, "listed", JSON, "https://app.example")),
                ("no origin (curl)", post(broker, "curl", JSON)),
            ]
            for what, (status, answer) in accepted:
                print(f"{what}: {status} {answer}")
                assert status == 202, (what, status, answer)
            bodies = [m.body.decode() for m in reader.messages(idle_s=1.0)]
            print(f"delivered: {bodies}")
            assert bodies == ["same", "listed", "curl"], bodies
            reader.disconnect()
    print("api_origin: OK")


if __name__ == "__main__":
    main()
