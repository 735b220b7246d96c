"""Every way a peer can make the broker hold memory, at once, against a 256 MiB server budget
(`limits.max_held_bytes`): open transactions full of 1 MiB SENDs, /queue/s without consumers
filled with 4 MiB messages, frames of one header name repeated a million times, SockJS
`xhr_send` requests that announce 4 MiB and send half, and 4 MiB messages to topic readers that
do read. Meanwhile a victim publishes small receipted messages to a topic reader and to a queue.

Asserts: the broker's RSS never passes the budget plus the documented overhead
(docs/security.md, "Hoarding memory"), the victim's topic messages keep flowing (none missing,
no gap over 3 s), every receipted victim queue message is consumed afterwards, the 4 MiB topic
messages reach every reader whole, and the broker is still serving once the hoarders give up.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import HOST, Broker, WorkDir  # noqa: E402
from lib.client import TcpStomp  # noqa: E402
from lib.frames import encode  # noqa: E402
from lib.metrics import under_asan  # noqa: E402

MIB = 1024 * 1024
BUDGET = 256 * MIB
# What the process holds beside the held bytes: code, thread stacks, allocator slack, socket
# and read buffers of ~150 connections, the frames in flight to the readers (up to one frame
# each plus what waits behind it). Documented in docs/security.md.
OVERHEAD = 160 * MIB
# Under ASan every allocation carries redzones and 1/8 of its size in shadow memory (and the
# quarantine of freed memory is cut to 16 MiB below).
ASAN_FACTOR = 1.3
RUN_S = 12.0

CONFIG = f"""
[limits]
max_held_bytes = {BUDGET}
max_connections = 1000
max_connections_per_ip = 1000
max_connections_per_user = 0
send_rate = 0

[heartbeat]
send_ms = 0
receive_ms = 0
"""


class Hoarder(threading.Thread):
    """A thread pushing bytes at the broker until told to stop or until the broker stops
    reading (a send blocked for 2 s: it is paused) or refuses (ERROR, closed)."""

    def __init__(self, stop, target):
        super().__init__(daemon=True)
        self.stop, self.target = stop, target
        self.sent_bytes = 0
        self.outcome = "running"

    def run(self):
        try:
            self.target(self)
            self.outcome = "done"
        except socket.timeout:
            self.outcome = "paused"
        except OSError as e:
            self.outcome = f"closed ({e.__class__.__name__})"

    def open(self, login):
        sock = socket.create_connection((HOST, self.port), timeout=10)
        sock.sendall(encode("CONNECT", {"accept-version": "1.2", "host": "/", "login": login,
                                        "heart-beat": "0,0"}))
        sock.recv(4096)  # CONNECTED
        sock.settimeout(2.0)
        return sock

    def push(self, sock, data):
        sock.sendall(data)
        self.sent_bytes += len(data)


def transactions(h):
    """Sessions that open transactions and fill them with 1 MiB SENDs, never committing."""
    for s in range(6):
        if h.stop.is_set():
            return
        sock = h.open(f"tx{s}")
        h.socks.append(sock)
        try:
            for t in range(20):
                h.push(sock, encode("BEGIN", {"transaction": f"t{t}"}))
                for _ in range(20):
                    if h.stop.is_set():
                        return
                    h.push(sock, encode("SEND", {"destination": "/queue/tx", "transaction": f"t{t}"},
                                        b"t" * MIB))
        except OSError:
            continue  # refused (ERROR and close) or paused: next session


def queues(h):
    """Publishers filling /queue/s nobody reads with 4 MiB messages."""
    for q in range(8):
        if h.stop.is_set():
            return
        sock = h.open(f"q{q}")
        h.socks.append(sock)
        try:
            for _ in range(40):
                if h.stop.is_set():
                    return
                h.push(sock, encode("SEND", {"destination": f"/queue/hoard{q}"}, b"q" * (4 * MIB - 64)))
        except OSError:
            continue


def repeated_headers(h):
    """Frames of one header name repeated ~1.39 million times (within the 4 MiB frame limit)."""
    sock = h.open("hdr")
    h.socks.append(sock)
    frame = b"SEND\ndestination:/queue/hdr\n" + b"a:\n" * 1_390_000 + b"\n\x00"
    for _ in range(5):
        if h.stop.is_set():
            return
        h.push(sock, frame)


def sockjs_bodies(h):
    """SockJS sessions whose xhr_send announces 4 MiB and sends half of it."""
    for i in range(40):
        if h.stop.is_set():
            return
        try:
            opener = socket.create_connection((HOST, h.ws_port), timeout=5)
            opener.sendall(f"POST /sockjs/000/hoard{i}/xhr HTTP/1.1\r\nHost: x\r\n"
                           f"Content-Length: 0\r\n\r\n".encode())
            opener.recv(4096)  # "o": the session is open
            opener.close()
            sock = socket.create_connection((HOST, h.ws_port), timeout=5)
            h.socks.append(sock)
            sock.sendall(f"POST /sockjs/000/hoard{i}/xhr_send HTTP/1.1\r\nHost: x\r\n"
                         f"Content-Type: text/plain\r\nContent-Length: {4 * MIB}\r\n\r\n".encode())
            h.push(sock, b"[\"" + b"s" * (2 * MIB))
        except OSError:
            continue  # refused or closed: the limits at work


class BigTopic:
    """Three readers of /topic/big that read, and a publisher of ten 4 MiB messages."""

    def __init__(self, broker):
        self.readers = [TcpStomp(broker.tcp_port, timeout=30) for _ in range(3)]
        for i, r in enumerate(self.readers):
            r.connect(login=f"big-reader{i}")
            r.subscribe("/topic/big", receipt="sub")
        self.publisher = TcpStomp(broker.tcp_port, timeout=30)
        self.publisher.connect(login="big-publisher")
        self.received = [0, 0, 0]
        self.errors = []

    def run(self, count=10):
        threads = [threading.Thread(target=self.read, args=(i, count), daemon=True) for i in range(3)]
        for t in threads:
            t.start()
        for n in range(count):
            # Readers that read: at most one message behind (the pending cap lets a reader fall
            # one 4 MiB frame behind the one being written, not ten).
            deadline = time.monotonic() + 30
            while min(self.received) < n - 1 and not self.errors and time.monotonic() < deadline:
                time.sleep(0.01)
            self.publisher.send("/topic/big", bytes([65 + n]) * (4 * MIB - 64), receipt=f"b{n}")
            frame = self.publisher.recv_frame(30)
            assert frame is not None and frame.command == "RECEIPT", frame
        for t in threads:
            t.join(60)

    def read(self, i, count):
        for n in range(count):
            frame = self.readers[i].recv_frame(30)
            if frame is None or frame.command != "MESSAGE":
                self.errors.append(f"reader {i}, message {n}: {frame!r}")
                return
            if frame.body != bytes([65 + n]) * (4 * MIB - 64):
                self.errors.append(f"reader {i}, message {n}: body of {len(frame.body)} bytes")
                return
            self.received[i] += 1


class Victim(threading.Thread):
    """Small receipted messages from a session of their own to `destination`: a topic read live
    by `reader` (it must keep flowing), or a queue read afterwards (its publisher may be paused
    while the server budget is spent, but nothing receipted may be lost)."""

    def __init__(self, broker, stop, destination, reader=None):
        super().__init__(daemon=True)
        self.stop, self.destination, self.reader = stop, destination, reader
        self.publisher = TcpStomp(broker.tcp_port, timeout=10)
        self.publisher.connect(login=f"victim-{destination.rsplit('/', 1)[-1]}")
        self.receipted = []
        self.arrivals = []
        self.failure = None

    def run(self):
        try:
            n = 0
            while not self.stop.is_set():
                self.publisher.send(self.destination, f"v{n}", receipt=f"v{n}")
                frame = None
                while frame is None and not self.stop.is_set():
                    frame = self.publisher.recv_frame(0.5)  # a paused publisher waits
                if frame is None:
                    return
                assert frame.command == "RECEIPT", frame
                self.receipted.append(f"v{n}")
                if self.reader is not None:
                    got = self.reader.recv_frame(10)
                    assert got is not None and got.text() == f"v{n}", got
                    self.arrivals.append(time.monotonic())
                n += 1
                time.sleep(0.02)
        except AssertionError as e:
            self.failure = str(e)

    def longest_gap(self):
        return max((b - a for a, b in zip(self.arrivals, self.arrivals[1:])), default=0.0)


def main():
    # ASan keeps freed memory in a quarantine (256 MiB by default) that would count as RSS here.
    os.environ["ASAN_OPTIONS"] = ":".join(
        filter(None, [os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=16"]))
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        asan = under_asan(broker)
        base_rss = broker.rss_kib() * 1024
        limit = (BUDGET + OVERHEAD + base_rss) * (ASAN_FACTOR if asan else 1.0)
        stop = threading.Event()
        reader = TcpStomp(broker.tcp_port, timeout=10)
        reader.connect(login="victim-reader")
        reader.subscribe("/topic/victim", receipt="sub")
        victim = Victim(broker, stop, "/topic/victim", reader)
        queue_victim = Victim(broker, stop, "/queue/victim")
        big = BigTopic(broker)
        hoarders = []
        for target in (transactions, queues, repeated_headers, sockjs_bodies):
            h = Hoarder(stop, target)
            h.port, h.ws_port, h.socks = broker.tcp_port, broker.ws_port, []
            hoarders.append(h)
        peak = [base_rss]

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], broker.rss_kib() * 1024)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        started = time.monotonic()
        for t in (victim, queue_victim, sampler, *hoarders):
            t.start()
        big.run()
        while time.monotonic() - started < RUN_S:
            time.sleep(0.1)
        stop.set()
        for t in (victim, queue_victim, *hoarders):
            t.join(15)
        peak_rss = max(peak[0], broker.rss_kib() * 1024)

        print(f"budget {BUDGET // MIB} MiB, baseline RSS {base_rss / MIB:.0f} MiB, peak RSS "
              f"{peak_rss / MIB:.0f} MiB, allowed {limit / MIB:.0f} MiB{' (ASan)' if asan else ''}")
        for h in hoarders:
            print(f"  {h.target.__name__}: {h.sent_bytes / MIB:.0f} MiB sent, {h.outcome}")
        print(f"victim: {len(victim.receipted)} topic messages, longest gap "
              f"{victim.longest_gap():.2f} s; {len(queue_victim.receipted)} queue messages "
              f"receipted; big topic messages received {big.received} {big.errors}")
        assert victim.failure is None and queue_victim.failure is None, (victim.failure,
                                                                         queue_victim.failure)
        assert len(victim.receipted) >= 50, f"the victim published only {len(victim.receipted)}"
        assert victim.longest_gap() < 3.0, f"the victim's messages stalled {victim.longest_gap():.1f} s"
        assert not big.errors and big.received == [10, 10, 10], (big.errors, big.received)
        assert peak_rss <= limit, f"RSS {peak_rss / MIB:.0f} MiB over {limit / MIB:.0f} MiB"

        for h in hoarders:  # the hoarders give up: what they held is freed
            for sock in h.socks:
                sock.close()
        consumer = TcpStomp(broker.tcp_port, timeout=10)
        consumer.connect(login="victim-consumer")
        consumer.subscribe("/queue/victim")
        got = [f.text() for f in consumer.messages(idle_s=1.0)]
        missing = set(queue_victim.receipted) - set(got)
        print(f"victim queue: {len(queue_victim.receipted)} receipted, {len(got)} consumed, "
              f"{len(missing)} missing")
        assert not missing, f"receipted messages lost: {sorted(missing)[:5]}"
        consumer.disconnect()


if __name__ == "__main__":
    main()
