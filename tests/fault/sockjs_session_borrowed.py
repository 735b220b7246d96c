"""fault.sockjs_session_borrowed: a SockJS session belongs to the client that opened it.

alice opens /sockjs/000/<id>/xhr from 127.0.0.1 with a users file, logs in and subscribes to
/user/queue/inbox; the opening response sets a session cookie, which her later requests present.
  1. mallory, from 127.0.0.2, with the session id and no credentials: `xhr_send` with a
     SUBSCRIBE to /user/queue/inbox and an `xhr` poll both get 404 (before: 204, and the poll
     read alice's private messages).
  2. a request from alice's own address without the cookie, once the cookie has been presented:
     404 for `xhr_send` and `xhr`.
  3. a backend publishes to /user/alice/queue/inbox: alice's own poll receives exactly that
     one MESSAGE, on her subscription; the refusals are logged.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import Broker, WorkDir, write_users  # noqa: E402
from lib.client import api_publish  # noqa: E402
from lib.frames import encode  # noqa: E402
from lib.sockjs import http_socket, read_response, request_bytes, status_of  # noqa: E402

SESSION = "s3cr3t-session"
COOKIE = "stompbox_sockjs"


def request(port, transport, body=b"", cookie=None, source_host="127.0.0.1"):
    """One POST to /sockjs/000/SESSION/<transport>; returns (status, headers dict, body)."""
    sock = http_socket(port, source_host=source_host)
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else None
    try:
        sock.sendall(request_bytes("POST", f"/sockjs/000/{SESSION}/{transport}", body,
                                   headers=headers))
        response = read_response(sock)
    finally:
        sock.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        fields.setdefault(name.strip().lower(), value.strip())
    return status_of(response), fields, payload


def send_frames(port, frames, cookie=None, source_host="127.0.0.1"):
    body = json.dumps([encode(*f).decode() for f in frames]).encode()
    return request(port, "xhr_send", body, cookie, source_host)


def poll_frames(port, cookie):
    """One xhr poll; returns the STOMP frames' texts of its `a[...]` frame."""
    status, _, payload = request(port, "xhr", cookie=cookie)
    assert status == 200, (status, payload)
    assert payload.startswith(b"a["), payload
    return json.loads(payload[1:])


def poll_until(port, cookie, count):
    """Polls until `count` frames came (a login answers on its own time); returns their texts."""
    frames = []
    while len(frames) < count:
        frames += poll_frames(port, cookie)
    return frames


def main():
    with WorkDir() as work:
        config = write_users(work, {"alice": ("alice-pw", ["user"]),
                                    "backend": ("backend-pw", ["publisher"])})
        with Broker(work, config=config).start() as broker:
            port = broker.ws_port
            status, fields, payload = request(port, "xhr")
            assert status == 200 and payload == b"o\n", (status, payload)
            set_cookie = fields.get("set-cookie", "")
            print(f"opening response: Set-Cookie: {set_cookie}")
            assert set_cookie.startswith(COOKIE + "="), fields
            assert "HttpOnly" in set_cookie, set_cookie
            cookie = set_cookie.split(";", 1)[0].split("=", 1)[1]

            connect = ("CONNECT", {"accept-version": "1.2", "host": "/", "login": "alice",
                                   "passcode": "alice-pw", "heart-beat": "0,0"})
            subscribe = ("SUBSCRIBE", {"destination": "/user/queue/inbox", "id": "alice-sub",
                                       "receipt": "r1"})
            assert send_frames(port, [connect, subscribe], cookie)[0] == 204
            got = poll_until(port, cookie, 2)
            assert [f.split("\n", 1)[0] for f in got] == ["CONNECTED", "RECEIPT"], got

            mallory = ("SUBSCRIBE", {"destination": "/user/queue/inbox", "id": "mallory-sub"})
            borrowed = {
                "mallory xhr_send": send_frames(port, [mallory], source_host="127.0.0.2")[0],
                "mallory xhr": request(port, "xhr", source_host="127.0.0.2")[0],
                "no cookie xhr_send": send_frames(port, [mallory])[0],
                "no cookie xhr": request(port, "xhr")[0],
                "wrong cookie xhr": request(port, "xhr", cookie="0" * 32)[0],
            }
            print(f"borrowing attempts: {borrowed}")
            assert all(s == 404 for s in borrowed.values()), borrowed

            status, answer = api_publish(port, "/user/alice/queue/inbox", "for alice only",
                                         auth=("backend", "backend-pw"))
            assert status == 202, (status, answer)
            got = poll_frames(port, cookie)
            print(f"alice received: {[f.split(chr(10), 1)[0] for f in got]}")
            assert len(got) == 1 and got[0].startswith("MESSAGE\n"), got
            assert "subscription:alice-sub\n" in got[0], got[0]
            assert got[0].endswith("for alice only\x00"), got[0]
            assert broker.wait_log("sockjs session"), "the refusals were not logged"
            broker.stop()
            broker.assert_clean_exit()
    print("sockjs_session_borrowed: OK")


if __name__ == "__main__":
    main()
