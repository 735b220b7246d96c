"""fault.fd_limit: the broker at its descriptor limit (prlimit --nofile=256:256).

Connections are opened (each CONNECTs and subscribes) until the broker refuses one. The refusal
must be clean: an ERROR frame on TCP, HTTP 503 on a WebSocket upgrade; not a silent hang.
While at the limit (with more peers knocking) the broker must not spin (utime+stime over 2 s
below half a core), the connections it holds keep working, and the log says so in a bounded
number of lines.
"""

import os
import socket
import time

from lib.broker import Broker, WorkDir, skip
from lib.client import Closed, TcpStomp, open_socket, rst_close, ws_handshake

NOFILE = 256
MAX_TRIES = 2 * NOFILE
CPU_WINDOW_S = 2.0
MAX_LIMIT_LOG_LINES = 50


def feature_present():
    """The connection-limit knob exists in this source tree (transport::server_config)."""
    src = os.environ.get("STOMPBOX_SOURCE_DIR", "")
    try:
        with open(os.path.join(src, "transport", "server.hpp")) as f:
            return "max_connections" in f.read()
    except OSError:
        return False


def try_connect(port, index):
    """('ok', conn) or ('refused', ERROR frame) or ('hung'/'closed', detail)."""
    try:
        conn = TcpStomp(port, timeout=5.0)
        conn.send_frame("CONNECT", {"accept-version": "1.2", "host": "/", "login": f"c{index}"})
        frame = conn.recv_frame(5.0)
    except (Closed, OSError) as e:
        return "closed", repr(e)
    if frame is None:
        conn.abort()
        return "hung", "no answer to CONNECT in 5 s"
    if frame.command == "ERROR":
        conn.close()
        return "refused", frame
    assert frame.command == "CONNECTED", frame
    conn.subscribe("/topic/all", "s", receipt="sub")
    return "ok", conn


def ws_refused(port):
    sock = open_socket(port, timeout=5.0)
    try:
        status, head, _ = ws_handshake(sock, port)
    except (Closed, OSError, socket.timeout) as e:
        return f"no HTTP answer: {e!r}"
    finally:
        rst_close(sock)
    return status


def cpu_at_limit(broker, port):
    """CPU seconds used over CPU_WINDOW_S while peers keep knocking at the full broker."""
    before, end, knocks = broker.cpu_seconds(), time.monotonic() + CPU_WINDOW_S, 0
    while time.monotonic() < end:
        try:
            rst_close(open_socket(port, timeout=1.0))
            knocks += 1
        except OSError:
            pass
        time.sleep(0.05)
    return broker.cpu_seconds() - before, knocks


def main():
    if not feature_present():
        skip("no connection limit in transport::server_config (max_connections): "
             "fd_limit needs the connection-limit / fd-limit feature")
    with WorkDir() as work:
        broker = Broker(work, wrapper=("prlimit", f"--nofile={NOFILE}:{NOFILE}", "--"))
        with broker.start():
            held, outcome = [], None
            for i in range(MAX_TRIES):
                kind, what = try_connect(broker.tcp_port, i)
                if kind != "ok":
                    outcome = (kind, what)
                    break
                held.append(what)
            print(f"held {len(held)} connections at nofile={NOFILE}; then: {outcome}")
            assert outcome is not None, f"{MAX_TRIES} connections and never refused"
            assert outcome[0] == "refused", f"refusal not clean: {outcome}"
            status = ws_refused(broker.ws_port)
            print(f"WebSocket upgrade at the limit: {status}")
            assert status == 503, f"WebSocket upgrade at the limit: {status}"
            cpu, knocks = cpu_at_limit(broker, broker.tcp_port)
            print(f"CPU at the limit: {cpu:.2f} s over {CPU_WINDOW_S:.0f} s "
                  f"({knocks} more peers knocking)")
            assert cpu < 0.5 * CPU_WINDOW_S, f"busy at the limit: {cpu:.2f} s CPU"
            held[0].send("/topic/all", "still here")
            for conn in held:
                frame = conn.expect("MESSAGE")
                assert frame.text() == "still here", frame
            lines = [ln for ln in broker.log().splitlines()
                     if "limit" in ln or "accept" in ln or "Too many open files" in ln]
            print(f"log lines about the limit: {len(lines)}")
            assert len(lines) <= MAX_LIMIT_LOG_LINES, "\n".join(lines[-20:])
            for conn in held:
                conn.close()
    print("fd_limit: OK")


if __name__ == "__main__":
    main()
