"""Development mode accepts the developer's own page (issue #15, case 6): a page served from
another local port (`http://localhost:3000`, `http://127.0.0.1:5173`, `http://[::1]:8080`, https
too) may open a WebSocket, SockJS or publish API request against a development-mode broker at
127.0.0.1; production mode refuses them (403) and the log line names the Origin, the Host (both
escaped) and the settings that would allow it; `--allowed-origin` (repeatable) allows an
Origin from the command line.
"""

import json
import os
import socket
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import Broker, WorkDir, write_users  # noqa: E402
from lib.client import HOST, api_post, ws_handshake  # noqa: E402

LOCAL_PAGES = ["http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8080",
               "https://localhost:3443", "http://LOCALHOST:3000/"]
FOREIGN = ["http://evil.example", "http://localhost.evil.example:3000",
           "http://127.0.0.1.evil.example", "null"]


def upgrade_status(broker, origin):
    with socket.create_connection((HOST, broker.ws_port), timeout=10) as sock:
        status, _, _ = ws_handshake(sock, broker.ws_port, origin=origin)
        return status


def sockjs_info_status(broker, origin):
    req = urllib.request.Request(f"http://{HOST}:{broker.ws_port}/sockjs/info",
                                 headers={"Origin": origin})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def api_status(broker, origin):
    body = json.dumps({"destination": "/topic/x", "body": "hi"}).encode()
    status, _ = api_post(broker.ws_port, body,
                         {"Content-Type": "application/json", "Origin": origin})
    return status


def statuses(broker, origins):
    return {o: upgrade_status(broker, o) for o in origins}


def development(work):
    with Broker(work).start() as broker:
        seen = statuses(broker, LOCAL_PAGES + FOREIGN)
        print(f"development mode, WebSocket upgrade: {seen}")
        assert all(seen[o] == 101 for o in LOCAL_PAGES), seen
        assert all(seen[o] == 403 for o in FOREIGN), seen
        sockjs = {o: sockjs_info_status(broker, o) for o in ("http://localhost:3000",
                                                               "http://evil.example")}
        api = {o: api_status(broker, o) for o in ("http://localhost:3000", "http://evil.example")}
        print(f"development mode, SockJS info: {sockjs}; publish API: {api}")
        assert sockjs == {"http://localhost:3000": 200, "http://evil.example": 403}, sockjs
        assert api == {"http://localhost:3000": 202, "http://evil.example": 403}, api


def production(work):
    config = write_users(work, {"alice": ("right", ["user"])})
    with Broker(work, config=config).start() as broker:
        origin = "http://localhost:3000/\u00e9"  # not ASCII: must come out escaped
        status = upgrade_status(broker, origin)
        print(f"production mode, {origin!r}: {status}")
        assert status == 403, status
        line = f'Origin "http://localhost:3000/\\xc3\\xa9", Host "{HOST}:{broker.ws_port}"'
        assert broker.wait_log(line), broker.log()[-2000:]
        refusal = next(x for x in broker.log().splitlines() if line in x)
        print(f"log: {refusal}")
        assert "websocket.allowed_origins" in refusal and "--allowed-origin" in refusal, refusal
        seen = statuses(broker, LOCAL_PAGES)
        print(f"production mode, local pages: {seen}")
        assert all(s == 403 for s in seen.values()), seen


def allowed_by_flag(work):
    config = write_users(work, {"alice": ("right", ["user"])})
    args = ["--allowed-origin", "https://app.example", "--allowed-origin", "https://b.example"]
    with Broker(work, config=config, args=args).start() as broker:
        seen = statuses(broker, ["https://app.example", "https://b.example", "https://c.example"])
        print(f"--allowed-origin: {seen}")
        assert seen == {"https://app.example": 101, "https://b.example": 101,
                        "https://c.example": 403}, seen


def main():
    with WorkDir() as work:
        development(work)
        production(work)
        allowed_by_flag(work)
    print("dev_origins: OK")


if __name__ == "__main__":
    main()
