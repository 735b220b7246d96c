"""Heart-beats as fast as the client asks, down to a floor (issue #15, case 7): a client asking
`heart-beat:0,1000` got `10000,0` (the configured 10 s never went lower). Now it gets
`1000,0` and the server's heart-beats (EOLs) arrive about every second; `0,100` is held at the
floor (`[heartbeat] min_ms`, 1000 by default); a client offering to send every 5 s is expected
every 5 s (`0,5000`), and a client asking nothing gets nothing (`0,0`).
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import HOST, Broker, WorkDir  # noqa: E402
from lib.frames import encode  # noqa: E402

WATCH_S = 3.5


def connect(port, heart_beat):
    """A raw TCP client: CONNECT with `heart_beat`; returns (socket, CONNECTED heart-beat value,
    bytes read past the CONNECTED frame)."""
    sock = socket.create_connection((HOST, port), timeout=10)
    sock.sendall(encode("CONNECT", {"accept-version": "1.2", "host": "/", "login": "hb",
                                    "heart-beat": heart_beat}))
    buf = b""
    while b"\0" not in buf:
        data = sock.recv(4096)
        assert data, "closed before CONNECTED"
        buf += data
    frame, _, rest = buf.partition(b"\0")
    head = frame.decode().split("\n")
    assert head[0] == "CONNECTED", head
    value = next(h.split(":", 1)[1] for h in head[1:] if h.startswith("heart-beat:"))
    return sock, value, rest


def heart_beat_times(sock, rest, seconds):
    """Arrival times (s since the start) of the EOLs the server sends for `seconds`."""
    start = time.monotonic()
    times = [0.0] * rest.count(b"\n")
    while (left := start + seconds - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except socket.timeout:
            break
        assert data, "the broker closed the connection"
        assert data.strip(b"\r\n") == b"", f"expected only heart-beats, got {data!r}"
        times += [time.monotonic() - start] * data.count(b"\n")
    return times


def negotiated(broker, heart_beat):
    sock, value, _ = connect(broker.tcp_port, heart_beat)
    sock.close()
    print(f"CONNECT heart-beat:{heart_beat} -> CONNECTED heart-beat:{value}")
    return value


def main():
    with WorkDir() as work:
        with Broker(work).start() as broker:
            sock, value, rest = connect(broker.tcp_port, "0,1000")
            print(f"CONNECT heart-beat:0,1000 -> CONNECTED heart-beat:{value}")
            assert value == "1000,0", value
            times = heart_beat_times(sock, rest, WATCH_S)
            sock.close()
            gaps = [round(b - a, 2) for a, b in zip(times, times[1:])]
            print(f"server heart-beats in {WATCH_S} s: {len(times)} at {[round(t, 2) for t in times]}"
                  f" (gaps {gaps})")
            # One a second: 3 in 3.5 s; loose bounds for a loaded machine or a sanitizer build.
            assert 2 <= len(times) <= 5, times
            assert all(0.5 <= g <= 2.0 for g in gaps), gaps
            assert negotiated(broker, "0,100") == "1000,0"
            assert negotiated(broker, "5000,0") == "0,5000"
            assert negotiated(broker, "0,0") == "0,0"
        with Broker(work, config="[heartbeat]\nmin_ms = 250\n").start() as broker:
            assert negotiated(broker, "0,100") == "250,0"
    print("heartbeat_floor: OK")


if __name__ == "__main__":
    main()
