"""fault.proxy_protocol_haproxy: issue #15 case 1, the PROXY protocol from a real HAProxy
(`mode tcp`, `server ... send-proxy` and `send-proxy-v2`) into both the WebSocket and the TCP
STOMP listener ([websocket] and [tcp] proxy_protocol = true, [proxies] trusted = 127.0.0.1).

1. Through each of the four routes (v1/v2 x WebSocket/TCP) a client from 127.0.0.2 connects:
   CONNECTED, and the broker logs it as 127.0.0.2 with the client's own source port.
2. max_connections_per_ip = 5 counts the client, not HAProxy: 127.0.0.2 holds 4, a 5th is
   admitted, a 6th refused (ERROR "too many connections"); 127.0.0.3 still gets in.
3. Without a PROXY header (a direct client) the connection is closed unanswered and logged.
4. A v2 LOCAL header from the trusted address keeps the socket's own address; a v1 header from
   an untrusted peer (127.0.0.2 directly) is ignored (logged): it cannot claim 203.0.113.9.
5. Half a header, then silence: closed after timeouts.handshake_ms (1 s here), logged.
"""

import struct
import sys
import time

from lib.behind_proxy import A, B
from lib.broker import Broker, WorkDir
from lib.client import Closed, TcpStomp, WsStomp, _Stomp, ws_handshake
from lib.edge import HAProxy, client_socket, require

PER_IP = 5
CONFIG = f"""
[proxies]
trusted = ["127.0.0.1"]
[websocket]
proxy_protocol = true
[tcp]
proxy_protocol = true
[limits]
max_connections_per_ip = {PER_IP}
[timeouts]
handshake_ms = 1000
"""
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


class Tcp(TcpStomp):
    def __init__(self, sock):
        _Stomp.__init__(self, sock)


class Ws(WsStomp):
    def __init__(self, sock, port):
        _Stomp.__init__(self, sock)
        status, head, self.wsbuf = ws_handshake(sock, port)
        assert status == 101, head
        self.close_code = None


def stomp(source_ip, port, websocket, preface=b""):
    """Connects from `source_ip`, sends `preface` raw, then STOMP CONNECT; returns
    (client, source port, answer command or None)."""
    sock = client_socket(source_ip, port)
    source_port = sock.getsockname()[1]
    if preface:
        sock.sendall(preface)
    try:
        conn = Ws(sock, port) if websocket else Tcp(sock)
        conn.send_frame("CONNECT", {"accept-version": "1.2", "host": "/", "heart-beat": "0,0"})
        frame = conn.recv_frame(10.0)
        return conn, source_port, frame.command if frame else None
    except (Closed, AssertionError, OSError):
        sock.close()
        return None, source_port, None


def main():
    require("haproxy")
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        routes = {"ws_v1": (broker.ws_port, "send-proxy"), "ws_v2": (broker.ws_port, "send-proxy-v2"),
                  "tcp_v1": (broker.tcp_port, "send-proxy"),
                  "tcp_v2": (broker.tcp_port, "send-proxy-v2")}
        with HAProxy(work).start_tcp(routes) as haproxy:
            held = []
            # 1. every route names the client, port included
            for name in routes:
                websocket = name.startswith("ws")
                conn, port, answer = stomp(A, haproxy.ports[name], websocket)
                assert answer == "CONNECTED", (name, answer)
                held.append(conn)
                line = f"open {A}:{port} {'ws' if websocket else 'tcp'}"
                assert broker.wait_log(line), f"{name}: no '{line}' in\n{broker.log()[-2000:]}"
                print(f"{name}: CONNECTED, broker log: '{line}'")
            # 2. the per-IP limit counts 127.0.0.2, not HAProxy's 127.0.0.1
            fifth = stomp(A, haproxy.ports["tcp_v2"], False)
            sixth = stomp(A, haproxy.ports["ws_v1"], True)
            other = stomp(B, haproxy.ports["tcp_v1"], False)
            print(f"{A} 5th connection: {fifth[2]}, 6th: {sixth[2]}; {B}: {other[2]} "
                  f"(max_connections_per_ip = {PER_IP})")
            assert fifth[2] == "CONNECTED" and other[2] == "CONNECTED", (fifth, other)
            assert sixth[2] is None, sixth  # the 503 answer is not a 101
            assert broker.wait_log(f"refused {A}:{sixth[1]}: max_connections_per_ip")
            held += [fifth[0], other[0]]
            for c in held:
                c.close()
        # 3. no PROXY header: closed, unanswered, logged (one line a second: the readiness
        # probes of Broker.start() had this second's line)
        time.sleep(1.1)
        sock = client_socket("127.0.0.1", broker.tcp_port)
        sock.sendall(b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00")
        sock.settimeout(10)
        try:
            answer = sock.recv(4096)
        except ConnectionResetError:  # closed with our CONNECT unread
            answer = b""
        sock.close()
        print(f"without a PROXY header: answer {answer!r}")
        assert answer == b"", answer
        assert broker.wait_log("no valid PROXY protocol header (no PROXY header")
        # 4. v2 LOCAL from the trusted proxy; a v1 header from an untrusted peer
        local = V2_SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
        conn, port, answer = stomp("127.0.0.1", broker.tcp_port, False, local)
        assert answer == "CONNECTED", answer
        assert broker.wait_log(f"open 127.0.0.1:{port} tcp")
        conn.close()
        forged = b"PROXY TCP4 203.0.113.9 127.0.0.1 4444 61613\r\n"
        conn, port, answer = stomp(A, broker.tcp_port, False, forged)
        assert answer == "CONNECTED", answer
        assert broker.wait_log(f"open {A}:{port} tcp")
        assert "PROXY header from an untrusted peer ignored (it names 203.0.113.9:4444)" in \
            broker.log()
        assert "open 203.0.113.9" not in broker.log()
        conn.close()
        print("v2 LOCAL keeps the socket address; an untrusted peer's v1 header is ignored")
        # 5. half a header, then nothing
        time.sleep(1.1)  # a new second for the throttled log line
        sock = client_socket("127.0.0.1", broker.ws_port)
        sock.sendall(b"PROXY TCP4 192.0.2")
        started = time.monotonic()
        sock.settimeout(15)
        try:
            answer = sock.recv(4096)
        except ConnectionResetError:
            answer = b""
        waited = time.monotonic() - started
        sock.close()
        print(f"half a PROXY header: closed after {waited:.1f} s (handshake_ms = 1000)")
        assert answer == b"" and 0.8 < waited < 5, (answer, waited)
        assert broker.wait_log("no valid PROXY protocol header (none within the handshake")


if __name__ == "__main__":
    sys.exit(main())
