"""fault.user_queue_prefetch: prefetch-count bounds the unacked messages of a durable user queue.

100 messages are stored in a user's queue; the user subscribes /user/queue/x with
prefetch-count:10.
- ack:client-individual: exactly 10 arrive, then nothing (an 11th must not come within 1 s);
  each ACK (of the oldest or of the newest held) lets exactly one more through; all 100 arrive
  in order, never more than 10 unacked at once.
- ack:client: 10 arrive, then nothing for 0.5 s; the cumulative ACK of the 10th lets the next 10
  through; and so on to 100.
"Never more than 10 unacked" is checked on every MESSAGE against the ACKs sent so far: an ACK
still on its way can only make the broker's count higher than ours, so ours above 10 is a
breach. Then a new subscription must find the queue empty (every message was acked).
"""

import time

from lib.broker import Broker, WorkDir
from lib.client import TcpStomp, send_receipted

MESSAGES = 100
PREFETCH = 10
SILENCE_S = 1.0        # client-individual: an 11th unacked message must not come within this
ROUND_SILENCE_S = 0.5  # client: after each batch of 10


def store(broker, user):
    pub = TcpStomp(broker.tcp_port)
    pub.connect(login="backend")
    bodies = [f"{seq:03d} for {user}" for seq in range(MESSAGES)]
    send_receipted(pub, f"/user/{user}/queue/x", bodies)
    assert pub.disconnect(), "publisher: no RECEIPT for DISCONNECT"


class Holder:
    """A subscriber's view: MESSAGEs received (seqs) and the ack ids not yet acked."""

    def __init__(self, broker, user, ack):
        self.user, self.ack = user, ack
        self.conn = TcpStomp(broker.tcp_port)
        self.conn.connect(login=user)
        self.conn.subscribe("/user/queue/x", "s", ack=ack, receipt="sub",
                            **{"prefetch-count": str(PREFETCH)})
        self.received, self.unacked, self.most_unacked, self.redelivered = [], {}, 0, 0

    def take(self):
        """The next MESSAGE (within 10 s); checks the unacked count."""
        frame = self.conn.recv_frame(10.0)
        assert frame is not None and frame.command == "MESSAGE", (
            f"{self.ack}: expected MESSAGE #{len(self.received)} (unacked {len(self.unacked)}, "
            f"prefetch {PREFETCH}), got {frame!r}")
        self.received.append(int(frame.body[:3]))
        self.unacked[frame.headers["ack"]] = self.received[-1]
        self.redelivered += frame.headers.get("redelivered") == "true"
        self.most_unacked = max(self.most_unacked, len(self.unacked))
        assert len(self.unacked) <= PREFETCH, (
            f"{self.ack}: expected at most {PREFETCH} unacked (prefetch-count), MESSAGE "
            f"#{len(self.received) - 1} made {len(self.unacked)}")

    def silent(self, seconds):
        """Nothing may come for `seconds` while PREFETCH messages are unacked."""
        frame = self.conn.recv_frame(seconds)
        assert frame is None, (
            f"{self.ack}: expected no MESSAGE for {seconds} s with {len(self.unacked)} unacked "
            f"(prefetch-count {PREFETCH}), {len(self.received)} received so far; got {frame!r}")

    def ack_one(self, ack_id, receipt=None):
        """ACKs `ack_id`; in client mode that settles every earlier one too."""
        headers = {"id": ack_id}
        if receipt:
            headers["receipt"] = receipt
        self.conn.send_frame("ACK", headers)
        if self.ack == "client":
            ids = list(self.unacked)
            for earlier in ids[:ids.index(ack_id) + 1]:
                del self.unacked[earlier]
        else:
            del self.unacked[ack_id]
        if receipt:
            frame = self.conn.recv_frame(10.0)
            assert frame is not None and frame.command == "RECEIPT", \
                f"{self.ack}: expected the ACK's RECEIPT, got {frame!r}"

    def finish(self, started):
        """All received and acked: checks order, that nothing else comes, and disconnects."""
        self.silent(ROUND_SILENCE_S)
        elapsed = time.monotonic() - started
        print(f"{self.ack}: {len(self.received)} messages in {elapsed:.2f} s (silence checks "
              f"included), at most {self.most_unacked} unacked, redelivered "
              f"{self.redelivered}")
        assert self.received == list(range(MESSAGES)), \
            f"{self.ack}: expected seqs 0..{MESSAGES - 1} once each in order, got {self.received}"
        assert self.redelivered == 0, \
            f"{self.ack}: expected no redelivered:true, got {self.redelivered}"
        assert self.conn.disconnect(), f"{self.ack}: no RECEIPT for DISCONNECT"


def client_individual(broker):
    store(broker, "ivy")
    started = time.monotonic()
    h = Holder(broker, "ivy", "client-individual")
    for _ in range(PREFETCH):
        h.take()
    h.silent(SILENCE_S)
    acks = 0
    while len(h.received) < MESSAGES:
        # The oldest and the newest held in turn: any single ACK frees one slot.
        ack_id = next(iter(h.unacked)) if acks % 2 == 0 else next(reversed(h.unacked))
        h.ack_one(ack_id)
        acks += 1
        h.take()  # exactly one more: a second one would make 11 unacked at the next take
        if len(h.received) == MESSAGES // 2:
            h.silent(SILENCE_S)
    while h.unacked:
        h.ack_one(next(iter(h.unacked)), receipt="last" if len(h.unacked) == 1 else None)
    h.finish(started)


def client_cumulative(broker):
    store(broker, "cleo")
    started = time.monotonic()
    h = Holder(broker, "cleo", "client")
    while len(h.received) < MESSAGES:
        for _ in range(PREFETCH):
            h.take()
        h.silent(ROUND_SILENCE_S)
        last = next(reversed(h.unacked))
        h.ack_one(last, receipt="last" if len(h.received) == MESSAGES else None)
    h.finish(started)


def queue_empty(broker, user):
    conn = TcpStomp(broker.tcp_port)
    conn.connect(login=user)
    conn.subscribe("/user/queue/x", "s", ack="auto", receipt="sub")
    left = conn.messages(idle_s=1.0)
    assert not left, f"{user}: expected an empty queue after every ACK, got {len(left)} again"
    assert conn.disconnect()


def main():
    with WorkDir() as work, Broker(work).start() as broker:
        client_individual(broker)
        client_cumulative(broker)
        queue_empty(broker, "ivy")
        queue_empty(broker, "cleo")
        assert broker.alive()
    print("user_queue_prefetch: OK")


if __name__ == "__main__":
    main()
