"""fault.user_queue_redelivered_restart: the `redelivered` state of user-queue messages survives
a restart of the broker.

20 messages are stored in dora's queue; dora subscribes with ack:client-individual, receives
all 20 and ACKs 5 of them (the last ACK with a receipt, awaited). Then the broker stops, dora
still connected:
- sigterm: SIGTERM (clean shutdown, exit status 0);
- kill9: SIGKILL 1 s after the ACKs' RECEIPT (the store commits delivery marks and removals
  asynchronously, well within that second).
Restarted on the same data dir, a new subscription must receive exactly the 15 unacked
messages, in order, each with redelivered:true (they were delivered before); the 5 acked never
come back. Then dora ACKs them all, and a third subscription finds the queue empty.
"""

import os
import threading
import time

from lib.broker import Broker, WorkDir, require_data_dir_flag
from lib.client import Closed, TcpStomp, send_receipted

MESSAGES = 20
ACKED = {1, 2, 7, 12, 19}  # spread out, the last one included
MARKS_SETTLE_S = 1.0


def subscriber(broker):
    conn = TcpStomp(broker.tcp_port)
    conn.connect(login="dora")
    conn.subscribe("/user/queue/x", "s", ack="client-individual", receipt="sub")
    return conn


def seq_of(frame):
    return int(frame.body.split(b" ", 1)[0])


def ack_all(conn, frames):
    for i, frame in enumerate(frames):
        headers = {"id": frame.headers["ack"]}
        if i == len(frames) - 1:
            headers["receipt"] = "acked"
        conn.send_frame("ACK", headers)
    if frames:
        conn.expect("RECEIPT")


def before_restart(broker):
    pub = TcpStomp(broker.tcp_port)
    pub.connect(login="backend")
    send_receipted(pub, "/user/dora/queue/x", [f"{seq} for dora" for seq in range(MESSAGES)])
    assert pub.disconnect()
    dora = subscriber(broker)
    frames = dora.messages(limit=MESSAGES)
    seqs = [seq_of(f) for f in frames]
    assert seqs == list(range(MESSAGES)), f"expected seqs 0..{MESSAGES - 1} in order, got {seqs}"
    assert not any(f.headers.get("redelivered") == "true" for f in frames), \
        "expected no redelivered:true on a first delivery"
    ack_all(dora, [f for f in frames if seq_of(f) in ACKED])
    return dora


def after_restart(broker, variant):
    dora = subscriber(broker)
    frames = dora.messages(idle_s=1.5)
    seqs = [seq_of(f) for f in frames]
    flagged = [seq_of(f) for f in frames if f.headers.get("redelivered") == "true"]
    expected = [seq for seq in range(MESSAGES) if seq not in ACKED]
    print(f"{variant}: after the restart {len(seqs)} redelivered messages ({len(flagged)} "
          f"with redelivered:true), {len(set(seqs) & ACKED)} of the {len(ACKED)} acked")
    assert not set(seqs) & ACKED, \
        f"{variant}: expected the acked {sorted(ACKED)} gone, got {sorted(set(seqs) & ACKED)} again"
    assert seqs == expected, f"{variant}: expected the unacked {expected} in order, got {seqs}"
    assert flagged == expected, (f"{variant}: expected redelivered:true on all {len(expected)} "
                                 f"(delivered before the restart), it was on {flagged}")
    ack_all(dora, frames)
    assert dora.disconnect()
    third = subscriber(broker)
    left = third.messages(idle_s=1.0)
    assert not left, f"{variant}: expected an empty queue after the ACKs, got {len(left)} again"
    assert third.disconnect()


def read_until_closed(conn):
    """What a client does while the broker shuts down: reads until the close, then closes (the
    broker waits up to 5 s for a TCP peer to close its side)."""
    try:
        while conn.recv_frame(15.0) is not None:
            pass
    except (Closed, OSError):
        pass
    conn.close()


def run(work, variant):
    data = os.path.join(work, f"data-{variant}")
    broker = Broker(work, data_dir=data)
    try:
        broker.start()
        dora = before_restart(broker)
        if variant == "sigterm":
            closer = threading.Thread(target=read_until_closed, args=(dora,), daemon=True)
            closer.start()
            started = time.monotonic()
            broker.stop()
            print(f"sigterm: the broker exited {time.monotonic() - started:.2f} s after SIGTERM")
            broker.assert_clean_exit()
            closer.join(15)
        else:
            time.sleep(MARKS_SETTLE_S)
            broker.kill9()
        dora.close()
        broker.start()
        after_restart(broker, variant)
        assert broker.alive()
    finally:
        broker.stop()
    broker.assert_clean_exit()


def main():
    require_data_dir_flag()
    with WorkDir() as work:
        run(work, "sigterm")
        run(work, "kill9")
    print("user_queue_redelivered_restart: OK")


if __name__ == "__main__":
    main()
