"""fault.user_queue_slow_reader: a large stored backlog replayed to a reader with a small window.

A publisher stores 400 messages of 20 KB (8 MB, twice queues.max_pending_bytes) in bob's durable
queue, each SEND with a receipt. bob then subscribes /user/queue/x with ack:auto on a TCP socket
whose receive buffer is 4 KiB and reads nothing for 2 s, then reads. The replay must be paced by
what the connection writes, not queued all at once: bob is never cut as a slow consumer (no
ERROR, the connection stays open) and receives all 400, in order, exactly once, in that one
session. Auto-acked means gone once written: a fresh subscription afterwards receives nothing.
"""

import time

from lib.broker import Broker, WorkDir
from lib.client import Closed, TcpStomp, send_receipted

MESSAGES = 400
BODY_BYTES = 20_000
STALL_S = 2.0
RCVBUF = 4096


def body(seq):
    head = f"{seq:05d} "
    return head + "x" * (BODY_BYTES - len(head))


def main():
    with WorkDir() as work, Broker(work).start() as broker:
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="backend")
        started = time.monotonic()
        send_receipted(pub, "/user/bob/queue/x", [body(seq) for seq in range(MESSAGES)])
        stored_s = time.monotonic() - started
        assert pub.disconnect(), "publisher: no RECEIPT for DISCONNECT"
        print(f"stored {MESSAGES} x {BODY_BYTES} B with a RECEIPT each in {stored_s:.2f} s")

        bob = TcpStomp(broker.tcp_port, rcvbuf=RCVBUF)
        bob.connect(login="bob")
        bob.subscribe("/user/queue/x", "s", ack="auto", receipt="sub")
        time.sleep(STALL_S)  # not reading: the kernel buffers fill, the broker's writes stall
        seqs, bad_bodies, error, closed = [], 0, None, None
        read_started = time.monotonic()
        try:
            while len(seqs) < MESSAGES:
                frame = bob.recv_frame(30.0)
                if frame is None:
                    break
                if frame.command != "MESSAGE":
                    error = frame
                    break
                seq = int(frame.body[:5])
                bad_bodies += frame.body != body(seq).encode()
                seqs.append(seq)
        except (Closed, OSError) as e:
            closed = e
        read_s = time.monotonic() - read_started
        print(f"bob (SO_RCVBUF {RCVBUF}, stalled {STALL_S:.0f} s): {len(seqs)} messages in "
              f"{read_s:.2f} s after the stall; ERROR: "
              f"{error.headers.get('message') if error else None}; closed by the broker: "
              f"{closed!r}")
        assert error is None, (f"expected only MESSAGEs, got {error!r} after {len(seqs)} of "
                               f"{MESSAGES} (cut by the backlog replay)")
        assert closed is None, (f"expected the connection to stay open, the broker closed it "
                                f"after {len(seqs)} of {MESSAGES} messages ({closed!r})")
        assert len(seqs) == MESSAGES, \
            f"expected {MESSAGES} messages, {len(seqs)} came (none for 30 s after the last)"
        assert seqs == list(range(MESSAGES)), (
            f"expected seqs 0..{MESSAGES - 1} in order, once each; got "
            f"{len(set(seqs))} distinct, first out of place at index "
            f"{next(i for i, s in enumerate(seqs) if s != i)}")
        assert bad_bodies == 0, f"expected every body intact, {bad_bodies} differ"
        extra = bob.recv_frame(1.0)
        assert extra is None, f"expected nothing after the {MESSAGES} messages, got {extra!r}"
        assert bob.disconnect(), "bob: expected a RECEIPT for DISCONNECT (connection open)"

        again = TcpStomp(broker.tcp_port)
        again.connect(login="bob")
        again.subscribe("/user/queue/x", "s", ack="auto", receipt="sub")
        left = again.messages(idle_s=1.0)
        assert not left, (f"expected an empty queue after the auto-acked replay, a new "
                          f"subscription got {len(left)} (first seq {int(left[0].body[:5])})")
        assert again.disconnect()
        assert "slow consumer" not in broker.log(), "expected no slow-consumer cut in the log"
        assert broker.alive()
    print("user_queue_slow_reader: OK")


if __name__ == "__main__":
    main()
