"""fault.sockjs_http_limits: SockJS HTTP requests are inside the connection limits and deadlines.

max_connections_per_ip = 5, max_connections = 20, timeouts.handshake_ms = 1000.
  1. 60 sockets from one address each send `POST .../xhr_send` with Content-Length: 4194304
     and 16 KiB of body, then nothing. Before, every one stayed open (the request was no longer
     counted once the SockJS code took it over, and its body had no deadline). Now at most 5 are
     accepted and those are cut at the deadline; the others get 503 at once (and are closed once the
     refusal's 2 s linger ends). All 60 are closed by the broker within 4 s.
  2. Six SockJS sessions created one after another (each xhr request closes once answered): the
     sixth is refused with 503, since each live session holds one place.
  3. With limits.max_held_bytes = 1 MiB an xhr_send announcing 2 MiB gets 503 before its body is
     read: request bodies being received are charged to the server-wide budget.
"""

import socket
import sys
import time

from lib.broker import Broker, WorkDir
from lib.sockjs import http_socket, open_session, read_response, request_bytes, status_of

LIMITS = """
[limits]
max_connections_per_ip = 5
max_connections = 20
[timeouts]
handshake_ms = 1000
"""
HALF_SENDERS = 60


def closed_by_broker(sock, deadline):
    """Reads until EOF/reset (True) or the deadline passes (False); returns (closed, bytes)."""
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False, data
        except OSError:
            return True, data
        if not chunk:
            return True, data
        data += chunk
    return False, data


def half_sent_bodies(broker):
    socks = []
    for _ in range(HALF_SENDERS):
        sock = http_socket(broker.ws_port)
        try:
            sock.sendall(request_bytes("POST", "/sockjs/000/nosuch/xhr_send", b"[" + b"x" * 16383,
                                       content_length=4194304))
        except OSError:
            pass  # refused and closed already
        socks.append(sock)
    deadline = time.monotonic() + 4.0
    closed, refused = 0, 0
    for sock in socks:
        done, data = closed_by_broker(sock, deadline)
        closed += done
        refused += status_of(data) == 503
        sock.close()
    print(f"half-sent xhr_send bodies: {closed} of {HALF_SENDERS} closed by the broker within 4 s, "
          f"{refused} refused with 503")
    assert closed == HALF_SENDERS, (f"expected every socket closed by the broker (deadline or "
                                    f"limit), {HALF_SENDERS - closed} still open after 4 s")
    assert refused >= HALF_SENDERS - 5, f"expected at least {HALF_SENDERS - 5} refusals (503)"


def sessions_count(broker):
    statuses = [open_session(broker.ws_port, f"c{i}")[0] for i in range(6)]
    print(f"six sessions in a row: {statuses}")
    assert statuses[:5] == [200] * 5, statuses
    assert statuses[5] == 503, f"expected the sixth session refused (5 per address), {statuses}"


def budget_charged(work):
    # Every byte budget holds at least one frame (checked at start-up): smaller frames too.
    config = ("[limits]\nmax_held_bytes = 1048576\nmax_frame_bytes = 1048576\n"
              "max_body_bytes = 524288\n")
    with Broker(work, config=config).start() as broker:
        status, _ = open_session(broker.ws_port, "b")
        assert status == 200
        sock = http_socket(broker.ws_port)
        sock.sendall(request_bytes("POST", "/sockjs/000/b/xhr_send", b"[",
                                   content_length=2 * 1024 * 1024))
        status = status_of(read_response(sock, timeout=3.0))
        sock.close()
        print(f"xhr_send of 2 MiB with a 1 MiB server budget: {status}")
        assert status == 503, f"expected 503 before the body is read, got {status}"


def main():
    with WorkDir() as work:
        with Broker(work, config=LIMITS).start() as broker:
            half_sent_bodies(broker)
            time.sleep(0.5)  # the cut requests leave
            sessions_count(broker)
    with WorkDir() as work:
        budget_charged(work)


if __name__ == "__main__":
    sys.exit(main())
