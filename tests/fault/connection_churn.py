"""fault.connection_churn: 10,000 connections opened and dropped abruptly (RST), TCP and
WebSocket mixed, half of them after CONNECT (and some after SUBSCRIBE), the others at earlier
stages (right after accept, mid-frame, mid-handshake, right after the upgrade).

Afterwards the broker's fd count must return to its baseline and its RSS near it (allocator
slack allowed), and it must still serve a new client.
"""

import threading
import time

from lib.broker import Broker, WorkDir
from lib.client import TcpStomp, WsStomp, open_socket, rst_close

TOTAL = 10_000
WORKERS = 4
WARMUP = 200
RSS_SLACK_KIB = 20 * 1024
CONFIG = ""  # defaults: an info log line per open and per close, as in production


def tcp_rst(port):
    rst_close(open_socket(port))


def tcp_partial(port):
    sock = open_socket(port)
    sock.sendall(b"CONNECT\naccept-version:1.2\nhost:/\nlog")  # cut mid-header
    rst_close(sock)


def ws_partial(port):
    sock = open_socket(port)
    sock.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConn")
    rst_close(sock)


def ws_upgraded(port):
    WsStomp(port).abort()


def connected(kind, subscribe):
    def run(port):
        conn = kind(port)
        conn.connect(login="churn")
        if subscribe:
            conn.subscribe("/topic/churn", "s", receipt="r")
        conn.abort()
    return run


# Half of them CONNECT first (the last four).
VARIANTS = [("tcp_rst", tcp_rst, "tcp"), ("tcp_partial", tcp_partial, "tcp"),
            ("ws_partial", ws_partial, "ws"), ("ws_upgraded", ws_upgraded, "ws"),
            ("tcp_connected", connected(TcpStomp, False), "tcp"),
            ("tcp_subscribed", connected(TcpStomp, True), "tcp"),
            ("ws_connected", connected(WsStomp, False), "ws"),
            ("ws_subscribed", connected(WsStomp, True), "ws")]


def churn(broker, first, count, errors):
    ports = {"tcp": broker.tcp_port, "ws": broker.ws_port}
    for i in range(first, first + count):
        name, fn, kind = VARIANTS[i % len(VARIANTS)]
        try:
            fn(ports[kind])
        except Exception as e:  # noqa: BLE001 - every failure is reported, none is expected
            errors.append(f"#{i} {name}: {e!r}")


def run_workers(broker, total):
    errors, per = [], total // WORKERS
    threads = [threading.Thread(target=churn, args=(broker, w * per, per, errors))
               for w in range(WORKERS)]
    peak_fds = peak_rss = 0
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak_fds, peak_rss = max(peak_fds, broker.fd_count()), max(peak_rss, broker.rss_kib())
        time.sleep(0.1)
    assert not errors, f"{len(errors)} connections failed: {errors[:5]}"
    return peak_fds, peak_rss


def still_serves(broker):
    conn = TcpStomp(broker.tcp_port)
    conn.connect(login="after")
    conn.subscribe("/topic/after", "s", receipt="sub")
    conn.send("/topic/after", "still here")
    frame = conn.expect("MESSAGE")
    assert frame.text() == "still here", frame
    conn.disconnect()


def under_asan(broker):
    """True when the broker was built with AddressSanitizer (its runtime is mapped). Its RSS then
    holds ASan's quarantine of freed memory (up to 256 MiB) and shadow pages, not our growth;
    LeakSanitizer checks for leaks when the broker exits instead."""
    with open(f"/proc/{broker.pid}/maps") as f:
        return "libasan" in f.read()


def main():
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        run_workers(broker, WARMUP)  # first allocations (thread caches, arenas) are not growth
        base_fds = broker.wait_fds(0, timeout=1.0)
        base_rss = broker.rss_kib()
        started = time.monotonic()
        peak_fds, peak_rss = run_workers(broker, TOTAL)
        elapsed = time.monotonic() - started
        fds = broker.wait_fds(base_fds, timeout=30.0)
        time.sleep(1.0)
        rss = broker.rss_kib()
        print(f"{TOTAL} connections ({len(VARIANTS)} variants, {WORKERS} client threads) in "
              f"{elapsed:.1f} s ({TOTAL / elapsed:.0f}/s)")
        print(f"fds: baseline {base_fds}, peak {peak_fds}, after {fds}")
        print(f"RSS: baseline {base_rss / 1024:.1f} MiB, peak {peak_rss / 1024:.1f} MiB, after "
              f"{rss / 1024:.1f} MiB (+{(rss - base_rss) / 1024:.1f} MiB)")
        assert fds <= base_fds, f"fd leak: {fds} open, baseline {base_fds}"
        if not under_asan(broker):
            assert rss - base_rss < RSS_SLACK_KIB, f"RSS grew by {(rss - base_rss) / 1024:.1f} MiB"
        still_serves(broker)
        assert broker.alive()
    # Leaving the `with` stops the broker and checks its exit status: under ASan, 23 means
    # LeakSanitizer found a leak (listed in stompbox.log).
    print("connection_churn: OK")


if __name__ == "__main__":
    main()
