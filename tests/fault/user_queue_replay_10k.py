"""fault.user_queue_replay_10k: 10,000 stored notifications (10 MB) handed over across three
sessions of the same user, none cut by the replay, none lost.

A publisher stores 10,000 messages of ~1 KB in carol's durable queue, each SEND with a receipt
(`[store] user_queue_max_messages` raised to hold them). Then, one after the other:
 (i)   ack:auto on a 4 KiB receive buffer, reading slowly (a pause every few frames); after
       ~2,000 it sends DISCONNECT with a receipt and counts every MESSAGE before the RECEIPT
       (auto: delivered once written, so all of these are its own);
 (ii)  ack:client-individual, ACKing each message it processes; after ~3,000 more it sends its
       last ACK with a receipt, reads (without ACKing) what arrives until that RECEIPT, then
       resets the connection (RST) while the replay still runs;
 (iii) a plain ack:auto reader that reads the rest.
Checked: no ERROR, nobody cut; what (i) received, (ii) acked and (iii) received are disjoint and
together exactly the 10,000; every reader's messages ascend, (i) and (ii) saw gap-free runs;
(iii) gets again exactly the ones (ii) had delivered but not acked, each with redelivered:true:
those (ii) read after its last ACK, plus the run right after them that was written to (ii)'s
socket but still unread at the RST; nothing else is flagged. A last subscription finds the
queue empty.
"""

import time

from lib.broker import Broker, WorkDir
from lib.client import Closed, TcpStomp, send_receipted

MESSAGES = 10_000
BODY_PAD = "n" * 1000      # 10 MB in all: more than twice queues.max_pending_bytes
FIRST_READS = 2_000        # (i), then DISCONNECT
SECOND_ACKS = 3_000        # (ii), then RST
RCVBUF = 4096
SLOW_EVERY, SLOW_PAUSE_S = 5, 0.002
CONFIG = f"""
[limits]
send_rate = 0.0
[store]
user_queue_max_messages = {2 * MESSAGES}
"""


def body(seq):
    return f"{seq:05d} {BODY_PAD}"


def seq_of(frame):
    return int(frame.body[:5])


def connect(broker, ack, rcvbuf=None):
    conn = TcpStomp(broker.tcp_port, rcvbuf=rcvbuf)
    conn.connect(login="carol")
    conn.subscribe("/user/queue/feed", "s", ack=ack, receipt="sub")
    return conn


def recv(conn, who, count):
    """The next frame within 30 s; a close, an ERROR or nothing fails the test."""
    try:
        frame = conn.recv_frame(30.0)
    except (Closed, OSError) as e:
        raise AssertionError(f"{who}: expected MESSAGEs, the broker closed the connection after "
                             f"{count} ({e!r})") from e
    assert frame is not None, f"{who}: expected more MESSAGEs, none for 30 s after {count}"
    assert frame.command in ("MESSAGE", "RECEIPT"), f"{who}: got {frame!r} after {count} MESSAGEs"
    return frame


def first_reader(broker):
    """(i): returns (seqs received, how many came between DISCONNECT and its RECEIPT, seconds,
    redelivered flags seen)."""
    started = time.monotonic()
    conn = connect(broker, "auto", rcvbuf=RCVBUF)
    seqs, flagged, after_disconnect = [], 0, 0
    while len(seqs) < FIRST_READS:
        frame = recv(conn, "(i)", len(seqs))
        assert frame.command == "MESSAGE", f"(i): unexpected {frame!r}"
        seqs.append(seq_of(frame))
        flagged += frame.headers.get("redelivered") == "true"
        if len(seqs) % SLOW_EVERY == 0:
            time.sleep(SLOW_PAUSE_S)
    conn.send_frame("DISCONNECT", {"receipt": "bye"})
    while True:
        frame = recv(conn, "(i) after DISCONNECT", len(seqs))
        if frame.command == "RECEIPT":
            assert frame.headers.get("receipt-id") == "bye", frame
            break
        seqs.append(seq_of(frame))
        flagged += frame.headers.get("redelivered") == "true"
        after_disconnect += 1
    conn.close()
    return seqs, after_disconnect, time.monotonic() - started, flagged


def second_reader(broker):
    """(ii): returns (seqs read, seqs acked, seconds, redelivered flags seen)."""
    started = time.monotonic()
    conn = connect(broker, "client-individual")
    seqs, acked, flagged = [], [], 0
    while len(acked) < SECOND_ACKS:
        frame = recv(conn, "(ii)", len(seqs))
        assert frame.command == "MESSAGE", f"(ii): unexpected {frame!r}"
        seqs.append(seq_of(frame))
        flagged += frame.headers.get("redelivered") == "true"
        headers = {"id": frame.headers["ack"]}
        if len(acked) == SECOND_ACKS - 1:
            headers["receipt"] = "acked"  # RECEIPT: every ACK before it was settled too
        conn.send_frame("ACK", headers)
        acked.append(seqs[-1])
    while True:  # what arrives until the RECEIPT is read but not acked
        frame = recv(conn, "(ii) awaiting the ACK's RECEIPT", len(seqs))
        if frame.command == "RECEIPT":
            break
        seqs.append(seq_of(frame))
        flagged += frame.headers.get("redelivered") == "true"
    conn.abort()
    return seqs, acked, time.monotonic() - started, flagged


def third_reader(broker, expected):
    """(iii): returns the MESSAGE frames, reading until `expected` came and then 1 s of silence."""
    started = time.monotonic()
    conn = connect(broker, "auto")
    frames = conn.messages(limit=expected)
    frames += conn.messages(idle_s=1.0)  # anything extra: a duplicate, a ghost
    assert conn.disconnect(), "(iii): no RECEIPT for DISCONNECT"
    return frames, time.monotonic() - started


def check_run(who, seqs, gap_free):
    dupes = len(seqs) - len(set(seqs))
    assert dupes == 0, f"{who}: expected each message once, {dupes} came twice"
    assert seqs == sorted(seqs), f"{who}: expected ascending seqs, got them out of order"
    if gap_free and seqs:
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), \
            f"{who}: expected a gap-free run from {seqs[0]}, messages were skipped"


def main():
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        base_fds = broker.fd_count()
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="backend")
        started = time.monotonic()
        send_receipted(pub, "/user/carol/queue/feed", [body(seq) for seq in range(MESSAGES)],
                       window=256)
        print(f"stored {MESSAGES} x {len(body(0))} B with a RECEIPT each in "
              f"{time.monotonic() - started:.2f} s")
        assert pub.disconnect()

        first, after_disconnect, first_s, first_flagged = first_reader(broker)
        print(f"(i) ack:auto, SO_RCVBUF {RCVBUF}, slow: {len(first)} received in {first_s:.2f} s, "
              f"{after_disconnect} of them between DISCONNECT and its RECEIPT")
        assert broker.wait_fds(base_fds) <= base_fds, "(i): the broker kept the socket"

        second, acked, second_s, second_flagged = second_reader(broker)
        acked_set = set(acked)
        read_unacked = [s for s in second if s not in acked_set]
        print(f"(ii) client-individual: {len(second)} read, {len(acked)} acked, "
              f"{len(read_unacked)} read after the last ACK; reset after {second_s:.2f} s")
        assert broker.wait_fds(base_fds) <= base_fds, "(ii): the broker kept the reset socket"

        expected = MESSAGES - len(first) - len(acked)
        third, third_s = third_reader(broker, expected)
        third_seqs = [seq_of(f) for f in third]
        flagged = [seq_of(f) for f in third if f.headers.get("redelivered") == "true"]
        last_read = second[-1] if second else (first[-1] if first else -1)
        unread = sorted(set(flagged) - set(read_unacked))  # written to (ii), never read by it
        print(f"(iii) ack:auto: {len(third)} received in {third_s:.2f} s, {len(flagged)} with "
              f"redelivered:true ({len(read_unacked)} read by (ii) after its last ACK + "
              f"{len(unread)} written to (ii) but unread at the RST)")

        assert first_flagged == 0 and second_flagged == 0, \
            f"expected no redelivered:true in (i), (ii); got {first_flagged}, {second_flagged}"
        check_run("(i)", first, gap_free=True)
        check_run("(ii)", second, gap_free=True)
        check_run("(iii)", third_seqs, gap_free=False)
        assert not set(first) & set(second), \
            f"expected (i)'s messages gone (auto-acked), (ii) got {len(set(first) & set(second))}"
        assert not set(first) & set(third_seqs), \
            f"expected (i)'s messages gone, (iii) got {len(set(first) & set(third_seqs))} again"
        assert not set(acked) & set(third_seqs), \
            f"expected (ii)'s acked messages gone, (iii) got {len(set(acked) & set(third_seqs))}"
        everything = set(first) | set(acked) | set(third_seqs)
        lost = sorted(set(range(MESSAGES)) - everything)
        assert not lost, f"expected all {MESSAGES} received, {len(lost)} lost: {lost[:20]}"
        assert everything == set(range(MESSAGES)), f"unknown seqs: {sorted(everything)[-5:]}"
        assert set(read_unacked) <= set(flagged), (
            f"expected redelivered:true on the {len(read_unacked)} (ii) read but did not ACK, "
            f"missing on {sorted(set(read_unacked) - set(flagged))[:20]}")
        assert unread == list(range(last_read + 1, last_read + 1 + len(unread))), (
            f"expected redelivered:true only on what (ii) had been written: the ones it read "
            f"unacked and a run right after its last read {last_read}; also on {unread[:20]}")

        again = connect(broker, "auto")
        left = again.messages(idle_s=1.0)
        assert not left, f"expected an empty queue, a new subscription got {len(left)} again"
        assert again.disconnect()
        assert "slow consumer" not in broker.log(), "expected no slow-consumer cut in the log"
        assert broker.alive()
    print("user_queue_replay_10k: OK")


if __name__ == "__main__":
    main()
