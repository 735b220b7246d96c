"""Issue #15 case 1 behind a real HTTP proxy (nginx or HAProxy `mode http`): the scenario
shared by fault.proxy_nginx and fault.proxy_haproxy_http.

The broker trusts the proxy ([proxies] trusted = ["127.0.0.1"]); clients come from 127.0.0.2
(A) and 127.0.0.3 (B) through the proxy, so the broker's sockets all come from 127.0.0.1.
1. 1,200 WebSocket upgrades, 750 from A and 450 from B, against max_connections_per_ip = 700:
   A gets 700 (then 503), B all 450; the broker log names A and B, never the proxy.
   (Before: every client was 127.0.0.1, so 700 upgrades in all, B refused.)
2. The failed-login limiter (failed_logins_per_minute = 5): A fails 6 logins; A is then locked
   out even with the right password, and B still logs in. (Before: B locked out too.)
"""

import re
import time

from lib.broker import Broker, WorkDir, write_users
from lib.client import Closed, WsStomp, _Stomp, ws_frame
from lib.edge import client_socket
from lib.frames import FrameReader

A, B = "127.0.0.2", "127.0.0.3"
PER_IP = 700
FROM_A, FROM_B = 750, 450


def config(work):
    return write_users(work, {"alice": ("right-pw", ["user"])}).replace(
        "[auth]\n", "[auth]\nfailed_logins_per_minute = 5\n") + f"""
[proxies]
trusted = ["127.0.0.1"]
[limits]
max_connections_per_ip = {PER_IP}
[timeouts]
connect_ms = 120000
"""


def upgrade(source_ip, port):
    """One WebSocket upgrade from `source_ip`; returns (status, socket)."""
    sock = client_socket(source_ip, port)
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n")
                 .encode())
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(4096)
        if not data:
            break
        head += data
    parts = head.split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 else None
    return status, sock


class ProxiedWs(WsStomp):
    """STOMP over WebSocket from `source_ip` through the proxy at `port`."""

    def __init__(self, source_ip, port):
        status, sock = upgrade(source_ip, port)
        _Stomp.__init__(self, sock)
        assert status == 101, f"upgrade from {source_ip} answered {status}"
        self.wsbuf = b""
        self.close_code = None


def login(source_ip, port, passcode):
    conn = ProxiedWs(source_ip, port)
    try:
        conn.send_frame("CONNECT", {"accept-version": "1.2", "host": "/", "heart-beat": "0,0",
                                    "login": "alice", "passcode": passcode})
        frame = conn.recv_frame(10.0)
        return frame.command if frame else None
    except Closed:
        return None
    finally:
        conn.close()


def check_upgrades(broker, proxy_port):
    statuses = {A: {}, B: {}}
    held = []
    started = time.monotonic()
    for source, count in ((A, FROM_A), (B, FROM_B)):
        for _ in range(count):
            status, sock = upgrade(source, proxy_port)
            statuses[source][status] = statuses[source].get(status, 0) + 1
            if status == 101:
                held.append(sock)
            else:
                sock.close()
    elapsed = time.monotonic() - started
    print(f"{FROM_A + FROM_B} upgrades through the proxy in {elapsed:.1f} s: from {A} "
          f"{statuses[A]}, from {B} {statuses[B]} (max_connections_per_ip = {PER_IP})")
    assert statuses[A] == {101: PER_IP, 503: FROM_A - PER_IP}, statuses
    assert statuses[B] == {101: FROM_B}, statuses
    assert broker.wait_log(f"open {B} ws", 10)
    log = broker.log()
    opened_a, opened_b = log.count(f"open {A} ws"), log.count(f"open {B} ws")
    from_proxy = len(re.findall(r"open 127\.0\.0\.1:\d+ ws", log))
    print(f"broker log: {opened_a} WebSocket opens from {A}, {opened_b} from {B}, "
          f"{from_proxy} from the proxy's address")
    assert (opened_a, opened_b, from_proxy) == (PER_IP, FROM_B, 0), (opened_a, opened_b)
    assert f"refused {A}: max_connections_per_ip" in log, log[-2000:]
    for sock in held:
        sock.close()


def check_login_limiter(broker, proxy_port):
    wrong = [login(A, proxy_port, "wrong-pw") for _ in range(6)]
    assert wrong == ["ERROR"] * 6, wrong
    locked = login(A, proxy_port, "right-pw")
    other = login(B, proxy_port, "right-pw")
    print(f"after 6 wrong passwords from {A}: {A} with the right one gets {locked}, "
          f"{B} gets {other}")
    assert locked == "ERROR", locked
    assert other == "CONNECTED", other
    assert f"session ({A}): authentication of \"alice\" failed: too many failed logins" in \
        broker.log()


def run(start_proxy):
    """start_proxy(work, ws_port) -> a started lib.edge proxy with .port."""
    with WorkDir() as work, Broker(work, config=config(work)).start() as broker:
        with start_proxy(work, broker.ws_port) as proxy:
            check_upgrades(broker, proxy.port)
            check_login_limiter(broker, proxy.port)
