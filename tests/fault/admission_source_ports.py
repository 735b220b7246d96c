"""fault.admission_source_ports: admission un-counts exactly what it counted.

max_connections_per_ip = 5. Ten times: a SockJS session is created by an xhr request from
source port P, then a STOMP-over-TCP connection is made from the same address and port P, then
the session is left to time out (sockjs.session_timeout_ms = 300). The session used to un-count
by the address "127.0.0.1:P" copied from its long-closed request, which un-counted the TCP
connection instead: 10 live TCP connections from one address against a limit of 5. Now each
holder releases its own place: at most 5 CONNECTED, the rest get ERROR "too many connections" (and their SockJS requests 503).
"""

import sys
import time

from lib.broker import Broker, WorkDir, free_port
from lib.client import Closed
from lib.frames import FrameReader, encode
from lib.sockjs import http_socket, open_session

PER_IP = 5
ROUNDS = 10
CONFIG = f"""
[limits]
max_connections_per_ip = {PER_IP}
[sockjs]
session_timeout_ms = 300
"""


def stomp_from(port, source_port):
    """CONNECT over TCP from `source_port`; returns (socket, first frame or None)."""
    sock = http_socket(port, source_port)
    sock.sendall(encode("CONNECT", {"accept-version": "1.2", "host": "/"}))
    reader = FrameReader()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        frame = reader.next_frame()
        if frame is not None:
            return sock, frame
        try:
            data = sock.recv(65536)
        except OSError:
            return sock, None
        if not data:
            return sock, reader.next_frame()
        reader.feed(data)
    return sock, None


def main():
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        live, refused = [], 0
        for i in range(ROUNDS):
            port = free_port()
            status, body = open_session(broker.ws_port, f"s{i}", source_port=port)
            # Once 5 TCP connections are live the request itself is refused (503): fine.
            assert (status == 200 and body.startswith(b"o")) or status == 503, (status, body)
            sock, frame = stomp_from(broker.tcp_port, port)
            if frame is not None and frame.command == "CONNECTED":
                live.append(sock)
            else:
                assert frame is not None and frame.headers.get("message") == \
                    "too many connections", f"round {i}: expected CONNECTED or a refusal, {frame!r}"
                refused += 1
                sock.close()
            time.sleep(0.8)  # the session times out and leaves
        print(f"{len(live)} TCP connections live from one address (limit {PER_IP}), "
              f"{refused} refused")
        assert len(live) <= PER_IP, (f"expected at most {PER_IP} live connections from one "
                                     f"address, {len(live)} are CONNECTED")
        assert len(live) + refused == ROUNDS
        for sock in live:
            sock.close()


if __name__ == "__main__":
    sys.exit(main())
