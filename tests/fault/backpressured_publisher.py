"""fault.backpressured_publisher: a publisher blasts SENDs (each with a receipt) at a queue
whose only consumer is slow (client-individual acks, prefetch 20, a pause per message while the
blast lasts), heart-beating as negotiated whenever it has sent nothing for an interval.

It may be slowed by TCP back-pressure, but it must never be disconnected (no ERROR, no
heart-beat timeout, no slow-consumer cut for its RECEIPTs), and every message it got a RECEIPT
for must reach the consumer exactly once. Phase 2 (outrun_small_queue) shows what happens past
queues.max_messages: no flow control, a clean ERROR "queue full" instead.
"""

import threading
import time

from lib.broker import Broker, WorkDir
from lib.client import Closed, TcpStomp

MESSAGES = 50_000            # under queues.max_messages (100,000): all must be accepted
BODY_PAD = "z" * 512
SMALL_QUEUE = 2_000          # phase 2: a bound the blast passes
INTERVAL_MS = 1000
SLOW_CONSUMER_PAUSE_S = 0.002
# send_rate = 0: the default per-session limit (1000/s, burst 2000) answers a faster publisher
# with ERROR "send rate exceeded" and a close; this test is about back-pressure, not that policy.
CONFIG = f"""
[limits]
send_rate = 0.0
[heartbeat]
send_ms = {INTERVAL_MS}
receive_ms = {INTERVAL_MS}
tolerance = 2.0
"""


class Receipts(threading.Thread):
    """Reads the publisher's socket: RECEIPTs (and the broker's heart-beats)."""

    def __init__(self, conn):
        super().__init__(daemon=True)
        self.conn, self.ids, self.error = conn, set(), None

    def run(self):
        try:
            while len(self.ids) < MESSAGES:
                frame = self.conn.recv_frame(60.0)
                if frame is None or frame.command != "RECEIPT":
                    self.error = f"got {frame!r} after {len(self.ids)} receipts"
                    return
                self.ids.add(frame.headers["receipt-id"])
        except (Closed, OSError) as e:
            self.error = f"closed after {len(self.ids)} receipts: {e!r}"


class Heartbeat(threading.Thread):
    """Sends an EOL whenever the publisher has written nothing for an interval."""

    def __init__(self, conn):
        super().__init__(daemon=True)
        self.conn, self.stop, self.sent = conn, False, 0

    def run(self):
        while not self.stop:
            if time.monotonic() - self.conn.last_send >= INTERVAL_MS / 1000:
                self.conn.heartbeat()  # waits for the send lock if a SEND is blocked
                self.sent += 1
            time.sleep(0.05)


class Consumer(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.conn = TcpStomp(port)
        self.conn.connect(login="worker", heart_beat=f"{INTERVAL_MS},{INTERVAL_MS}")
        self.conn.subscribe("/queue/work", "s", ack="client-individual", receipt="sub",
                            **{"prefetch-count": "20"})
        self.bodies, self.redelivered, self.slow, self.error = [], 0, True, None

    def run(self):
        try:
            while len(self.bodies) < MESSAGES:
                frame = self.conn.recv_frame(60.0)
                if frame is None or frame.command != "MESSAGE":
                    self.error = f"got {frame!r} after {len(self.bodies)} messages"
                    return
                self.bodies.append(frame.text().split(" ", 1)[0])
                self.redelivered += frame.headers.get("redelivered") == "true"
                if self.slow:
                    time.sleep(SLOW_CONSUMER_PAUSE_S)
                self.conn.send_frame("ACK", {"id": frame.headers["ack"]})
        except (Closed, OSError) as e:
            self.error = f"closed after {len(self.bodies)} messages: {e!r}"


def blast(conn):
    """Sends every message; returns (seconds, longest single blocked send in seconds)."""
    started, longest = time.monotonic(), 0.0
    for seq in range(MESSAGES):
        before = time.monotonic()
        conn.send("/queue/work", f"w{seq} {BODY_PAD}", receipt=f"w{seq}")
        longest = max(longest, time.monotonic() - before)
    return time.monotonic() - started, longest


def outrun_small_queue(work):
    """Phase 2: the blast passes queues.max_messages while the consumer holds its prefetch.
    There is no publisher flow control: the SEND over the bound gets ERROR "queue full" (with
    its receipt-id) and the publisher is closed. Checked: that answer is clean, and every
    message receipted before it reaches the consumer exactly once; the refused one never."""
    config = CONFIG + f"[queues]\nmax_messages = {SMALL_QUEUE}\n"
    with Broker(work, config=config).start() as broker:
        consumer = Consumer(broker.tcp_port)
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="blaster")
        receipted, error = [], None
        for seq in range(2 * SMALL_QUEUE + 100):
            pub.send("/queue/work", f"w{seq} {BODY_PAD}", receipt=f"w{seq}")
            frame = pub.recv_frame(10.0)
            assert frame is not None, f"no answer to SEND w{seq}"
            if frame.command == "ERROR":
                error = frame
                break
            receipted.append(frame.headers["receipt-id"])
        print(f"phase 2 (max_messages {SMALL_QUEUE}): {len(receipted)} receipted, then "
              f"{error.headers if error else 'no ERROR: the publisher was never refused'}")
        consumer.slow = False
        consumer.start()
        deadline = time.monotonic() + 60
        while len(consumer.bodies) < len(receipted) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # anything extra (the refused message, a duplicate) would show now
        if error is not None:
            assert error.headers.get("message") == "queue full", error
            assert error.headers.get("receipt-id") == f"w{len(receipted)}", error
        assert consumer.bodies == receipted, \
            f"consumer got {len(consumer.bodies)}, {len(receipted)} were receipted"
        assert broker.alive()


def main():
    with WorkDir() as work:
        blast_within_bound(work)
        outrun_small_queue(work)
    print("backpressured_publisher: OK")


def blast_within_bound(work):
    with Broker(work, config=CONFIG).start() as broker:
        consumer = Consumer(broker.tcp_port)
        consumer.start()
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="blaster", heart_beat=f"{INTERVAL_MS},{INTERVAL_MS}")
        receipts, heartbeat = Receipts(pub), Heartbeat(pub)
        receipts.start()
        heartbeat.start()
        elapsed, longest = blast(pub)
        slow_seen = len(consumer.bodies)
        consumer.slow = False
        receipts.join(120)
        consumer.join(120)
        heartbeat.stop = True
        heartbeat.join(5)
        print(f"publisher: {MESSAGES} SENDs of {len(BODY_PAD) + 8} B in {elapsed:.2f} s "
              f"({MESSAGES / elapsed:.0f}/s), longest blocked send {longest * 1000:.1f} ms, "
              f"{len(receipts.ids)} RECEIPTs, heart-beat EOLs sent {heartbeat.sent}")
        print(f"consumer: {slow_seen} messages at the slow pace during the blast, "
              f"{len(consumer.bodies)} in all, redelivered {consumer.redelivered}")
        assert receipts.error is None, f"publisher: {receipts.error}"
        assert consumer.error is None, f"consumer: {consumer.error}"
        expected = [f"w{seq}" for seq in range(MESSAGES)]
        assert sorted(consumer.bodies) == sorted(expected), "lost or duplicated messages"
        assert consumer.bodies == expected, "queue order not kept for one consumer"
        assert pub.disconnect(), "publisher: no RECEIPT for DISCONNECT (closed?)"
        assert consumer.conn.disconnect(), "consumer: no RECEIPT for DISCONNECT"
        log = broker.log()
        assert "slow consumer" not in log and "heartbeat_timeout" not in log, log[-2000:]


if __name__ == "__main__":
    main()
