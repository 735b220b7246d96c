"""fault.slow_reader: one subscriber stops reading on a busy topic; three others keep up.

The stalled one has a tiny SO_RCVBUF and never calls recv while MESSAGES are published; the
broker must disconnect it once its queued bytes pass queues.max_pending_bytes (ERROR, then
close), while the three readers receive every message, in order. Their latency (send time is in
the body) is printed, not asserted.
"""

import threading
import time

from lib.broker import Broker, WorkDir
from lib.client import Closed, TcpStomp

MESSAGES = 20_000
BODY_PAD = "x" * 400
# 1 MiB, not less: a reader that keeps up can still be one gather write (up to 256 frames) plus
# what queues behind it while that write is in flight away from the broker's pending count; on
# the ASan build (2-3x slower broker, bigger batches) 256 KiB cut a healthy Python reader.
PENDING_CAP = 1024 * 1024
READERS = 3
# send_rate = 0: one publisher floods the topic here; the per-session SEND rate limit (its own
# ERROR-then-close policy) is not what this test is about.
CONFIG = f"""
[limits]
send_rate = 0.0
max_frame_bytes = {PENDING_CAP}   # the pending cap holds at least one frame
max_body_bytes = {PENDING_CAP // 2}
[queues]
max_pending_bytes = {PENDING_CAP}
[timeouts]
close_ms = 1000
"""


class Reader(threading.Thread):
    """Receives until it has MESSAGES messages (or the connection ends)."""

    def __init__(self, port, index):
        super().__init__(daemon=True)
        self.conn = TcpStomp(port)
        self.conn.connect(login=f"reader{index}")
        self.conn.subscribe("/topic/busy", "s", receipt="sub")
        self.seqs, self.max_latency, self.error = [], 0.0, None

    def run(self):
        try:
            while len(self.seqs) < MESSAGES:
                frame = self.conn.recv_frame(30.0)
                if frame is None or frame.command != "MESSAGE":
                    self.error = f"got {frame!r} after {len(self.seqs)} messages"
                    return
                seq, sent_at, _ = frame.text().split(" ", 2)
                self.seqs.append(int(seq))
                self.max_latency = max(self.max_latency, time.monotonic() - float(sent_at))
        except (Closed, OSError) as e:
            self.error = f"closed after {len(self.seqs)} messages: {e!r}"


def publish(port):
    """Sends MESSAGES to the topic, waiting for a receipt every 200 (so the publisher does not
    run ahead of the broker by more than that)."""
    conn = TcpStomp(port)
    conn.connect(login="publisher")
    for seq in range(MESSAGES):
        receipt = str(seq) if seq % 200 == 199 else None
        conn.send("/topic/busy", f"{seq} {time.monotonic():.6f} {BODY_PAD}", receipt=receipt)
        if receipt:
            frame = conn.expect("RECEIPT", 30.0)
            assert frame.headers["receipt-id"] == receipt, frame
    conn.disconnect()


def drain_stalled(conn):
    """Reads what the stalled subscriber was sent until the broker's close; returns
    (messages, ERROR frame or None). Fails if the connection stays open."""
    messages, error = 0, None
    try:
        while True:
            frame = conn.recv_frame(15.0)
            assert frame is not None, f"stalled subscriber still open after {messages} messages"
            if frame.command == "MESSAGE":
                messages += 1
            elif frame.command == "ERROR":
                error = frame
    except (Closed, OSError) as e:
        print(f"stalled subscriber: closed by the broker ({e!r})")
    return messages, error


def main():
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        stalled = TcpStomp(broker.tcp_port, rcvbuf=2048)
        stalled.connect(login="stalled")
        stalled.subscribe("/topic/busy", "s", receipt="sub")
        readers = [Reader(broker.tcp_port, i) for i in range(READERS)]
        for r in readers:
            r.start()
        started = time.monotonic()
        publish(broker.tcp_port)
        elapsed = time.monotonic() - started
        for r in readers:
            r.join(60)
        for i, r in enumerate(readers):
            assert r.error is None, f"reader {i}: {r.error}"
            assert r.seqs == list(range(MESSAGES)), f"reader {i}: lost or reordered messages"
        messages, error = drain_stalled(stalled)
        print(f"published {MESSAGES} x {len(BODY_PAD) + 30} B in {elapsed:.2f} s "
              f"({MESSAGES / elapsed:.0f} msg/s) to {READERS} readers + 1 stalled; "
              f"pending cap {PENDING_CAP} B")
        print(f"readers: all {MESSAGES} in order; max latency "
              f"{[round(r.max_latency * 1000, 1) for r in readers]} ms")
        print(f"stalled subscriber: got {messages} messages before the cut, ERROR: "
              f"{error.headers.get('message') if error else None}")
        assert messages < MESSAGES, "the stalled subscriber was never cut"
        assert "slow consumer" in broker.log(), "no slow-consumer line in the log"
        assert broker.alive()
    print("slow_reader: OK")


if __name__ == "__main__":
    main()
