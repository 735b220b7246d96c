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

import base64
import http.client
import json
import re
import time

from lib.broker import Broker, WorkDir, write_users
from lib.client import Closed, WsStomp, _Stomp, ws_frame
from lib.edge import client_socket, read_to_eof, ws_upgrade
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
    """One WebSocket upgrade (v12.stomp) from `source_ip`; returns (status, socket)."""
    return ws_upgrade(source_ip, port, "Sec-WebSocket-Protocol: v12.stomp\r\n")


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
    deadline = time.monotonic() + 15  # the last lines may be written just after the 101s
    while broker.log().count(f"open {B} ws") < FROM_B and time.monotonic() < deadline:
        time.sleep(0.1)
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


def api_publish_from(source_ip, port, password):
    """POST /api/v1/publish as alice from `source_ip` through the proxy; returns the status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source_ip, 0))
    token = base64.b64encode(f"alice:{password}".encode()).decode()
    try:
        conn.request("POST", "/api/v1/publish",
                     body=json.dumps({"destination": "/topic/t", "body": "hi"}).encode(),
                     headers={"Content-Type": "application/json",
                              "Authorization": f"Basic {token}"})
        return conn.getresponse().status
    finally:
        conn.close()


def check_sockjs_and_api(broker, proxy_port):
    """SockJS and the publish API see the client too: B's SockJS session is opened as B, and
    after A's failed logins the API refuses A's right password but takes B's."""
    sock = client_socket(B, proxy_port)
    sock.sendall(b"POST /sockjs/000/s1/xhr HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    sock.settimeout(10)
    answer = read_to_eof(sock)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"o\n"), answer
    assert broker.wait_log(f"open {B} sockjs"), broker.log()[-2000:]
    from_a, from_b = api_publish_from(A, proxy_port, "right-pw"), api_publish_from(B, proxy_port, "right-pw")
    print(f"SockJS session opened as {B}; publish API with the right password: from {A} "
          f"{from_a}, from {B} {from_b}")
    assert from_a == 401 and from_b == 202, (from_a, from_b)


def run(start_proxy):
    """start_proxy(work, ws_port) -> a started lib.edge proxy with .port."""
    with WorkDir() as work, Broker(work, config=config(work)).start() as broker:
        with start_proxy(work, broker.ws_port) as proxy:
            check_upgrades(broker, proxy.port)
            check_login_limiter(broker, proxy.port)
            check_sockjs_and_api(broker, proxy.port)
