"""fault.backpressured_publisher: a publisher blasts SENDs (each with a receipt) at a queue
whose only consumer is slow (client-individual acks, prefetch 20, a pause per message while the
blast lasts), heart-beating as negotiated (1000,1000, tolerance 2) whenever it has sent nothing
for an interval.

It may be slowed by TCP back-pressure, but it must never be disconnected (no ERROR, no
heart-beat timeout, no slow-consumer cut for its RECEIPTs), and every message it got a RECEIPT
for must reach the consumer exactly once, in order. Phase 1 stays under queues.max_messages.
Phase 2 (slowed_at_small_queue) blasts several times queues.max_messages: publisher flow
control pauses reading from the publisher while the queue is full, so it is slowed to the
consumer's pace, never refused. Phase 3 (flow_control_off) keeps the old answer of
`[limits] flow_control = false`: a clean ERROR "queue full" and the close.
"""

import threading
import time

from lib.broker import Broker, WorkDir
from lib.client import Closed, ReceiptReader, TcpStomp

MESSAGES = 50_000            # under queues.max_messages (100,000): all must be accepted
BODY_PAD = "z" * 512
SMALL_QUEUE = 1_000          # phases 2 and 3: a bound the blast passes
SMALL_MESSAGES = 10 * SMALL_QUEUE
INTERVAL_MS = 1000
SLOW_CONSUMER_PAUSE_S = 0.002


def config(limits="", extra=""):
    """send_rate = 0: the default per-session limit answers a faster publisher with ERROR "send
    rate exceeded" and a close; this test is about back-pressure, not that policy."""
    return f"""
[limits]
send_rate = 0.0
{limits}
[heartbeat]
send_ms = {INTERVAL_MS}
receive_ms = {INTERVAL_MS}
tolerance = 2.0
{extra}"""


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
    def __init__(self, port, count):
        super().__init__(daemon=True)
        self.count = count
        self.conn = TcpStomp(port)
        self.conn.connect(login="worker", heart_beat=f"{INTERVAL_MS},{INTERVAL_MS}")
        self.conn.subscribe("/queue/work", "s", ack="client-individual", receipt="sub",
                            **{"prefetch-count": "20"})
        self.bodies, self.redelivered, self.slow, self.error = [], 0, True, None

    def run(self):
        try:
            while len(self.bodies) < self.count:
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


class Backlog(threading.Thread):
    """Samples receipted minus consumed messages: what the queue (and the consumer's prefetch)
    holds, give or take the frames on their way."""

    def __init__(self, receipts, consumer):
        super().__init__(daemon=True)
        self.receipts, self.consumer, self.stop, self.most = receipts, consumer, False, 0

    def run(self):
        while not self.stop:
            receipted = len(self.receipts.ids)  # first: a lagging count only lowers the sample
            self.most = max(self.most, receipted - len(self.consumer.bodies))
            time.sleep(0.01)


def blast(conn, count):
    """Sends every message; returns (seconds, longest single blocked send in seconds)."""
    started, longest = time.monotonic(), 0.0
    for seq in range(count):
        before = time.monotonic()
        conn.send("/queue/work", f"w{seq} {BODY_PAD}", receipt=f"w{seq}")
        longest = max(longest, time.monotonic() - before)
    return time.monotonic() - started, longest


def flow_control_off(work):
    """Phase 3: `[limits] flow_control = false`, the blast passes queues.max_messages while the
    consumer holds its prefetch: the SEND over the bound gets ERROR "queue full" (with its
    receipt-id) and the publisher is closed. Checked: that answer is clean, and every message
    receipted before it reaches the consumer exactly once; the refused one never."""
    cfg = config("flow_control = false", f"[queues]\nmax_messages = {SMALL_QUEUE}\n")
    with Broker(work, config=cfg).start() as broker:
        consumer = Consumer(broker.tcp_port, 2 * SMALL_QUEUE + 100)
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
        print(f"phase 3 (flow_control = false, max_messages {SMALL_QUEUE}): "
              f"{len(receipted)} receipted, then "
              f"{error.headers if error else 'no ERROR: the publisher was never refused'}")
        consumer.slow = False
        consumer.start()
        deadline = time.monotonic() + 60
        while len(consumer.bodies) < len(receipted) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # anything extra (the refused message, a duplicate) would show now
        assert error is not None, "flow_control = false: the publisher was never refused"
        if error is not None:
            assert error.headers.get("message") == "queue full", error
            assert error.headers.get("receipt-id") == f"w{len(receipted)}", error
        assert consumer.bodies == receipted, \
            f"consumer got {len(consumer.bodies)}, {len(receipted)} were receipted"
        assert broker.alive()


def main():
    with WorkDir() as work:
        blast_within_bound(work)
        slowed_at_small_queue(work)
        flow_control_off(work)
    print("backpressured_publisher: OK")


def run_blast(broker, count, label):
    """The slow consumer, the heart-beating publisher with its receipts reader, the blast;
    checks nothing was refused, lost, duplicated or reordered and nobody was disconnected."""
    consumer = Consumer(broker.tcp_port, count)
    consumer.start()
    pub = TcpStomp(broker.tcp_port)
    pub.connect(login="blaster", heart_beat=f"{INTERVAL_MS},{INTERVAL_MS}")
    receipts, heartbeat = ReceiptReader(pub, count), Heartbeat(pub)
    receipts.start()
    heartbeat.start()
    backlog = Backlog(receipts, consumer)
    backlog.start()
    elapsed, longest = blast(pub, count)
    slow_seen = len(consumer.bodies)
    consumer.slow = False
    receipts.join(120)
    consumer.join(120)
    heartbeat.stop = backlog.stop = True
    heartbeat.join(5)
    backlog.join(5)
    print(f"{label} publisher: {count} SENDs of {len(BODY_PAD) + 8} B in {elapsed:.2f} s "
          f"({count / elapsed:.0f}/s), longest blocked send {longest * 1000:.1f} ms, "
          f"{len(receipts.ids)} RECEIPTs, heart-beat EOLs sent {heartbeat.sent}")
    print(f"{label} consumer: {slow_seen} messages at the slow pace during the blast "
          f"({slow_seen / elapsed:.0f}/s), {len(consumer.bodies)} in all, "
          f"redelivered {consumer.redelivered}; most receipted and not yet consumed "
          f"{backlog.most}")
    assert receipts.error is None, f"publisher: {receipts.error}"
    assert consumer.error is None, f"consumer: {consumer.error}"
    expected = [f"w{seq}" for seq in range(count)]
    assert sorted(consumer.bodies) == sorted(expected), "lost or duplicated messages"
    assert consumer.bodies == expected, "queue order not kept for one consumer"
    assert pub.disconnect(), "publisher: no RECEIPT for DISCONNECT (closed?)"
    assert consumer.conn.disconnect(), "consumer: no RECEIPT for DISCONNECT"
    log = broker.log()
    assert "slow consumer" not in log and "heartbeat_timeout" not in log, log[-2000:]
    assert "queue full" not in log, log[-2000:]
    return backlog.most


def blast_within_bound(work):
    with Broker(work, config=config()).start() as broker:
        run_blast(broker, MESSAGES, "phase 1:")


def slowed_at_small_queue(work):
    """Phase 2: SMALL_MESSAGES (10 x max_messages) at a queue the slow consumer drains: the
    publisher's reading is paused whenever the queue is full, so it is slowed to the consumer's
    pace (its SENDs block once the socket buffers are full), heart-beating, never refused."""
    cfg = config(extra=f"[queues]\nmax_messages = {SMALL_QUEUE}\n")
    with Broker(work, config=cfg).start() as broker:
        most = run_blast(broker, SMALL_MESSAGES, f"phase 2 (max_messages {SMALL_QUEUE}):")
        # Flow control, not luck: accepted and not yet consumed never passed the bound by more
        # than one paused read (64 KiB, ~120 of these SENDs) plus the prefetch.
        assert most <= SMALL_QUEUE + 500, f"the publisher outran the bound: backlog {most}"
        assert broker.alive()


if __name__ == "__main__":
    main()
