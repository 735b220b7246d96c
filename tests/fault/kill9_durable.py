"""fault.kill9_durable: SIGKILL the broker while 4 publishers send durable user notifications.

Each publisher i sends to /user/u<i>/queue/n with a receipt per SEND (body = receipt id =
"p<i>-<seq>"). The broker is killed with SIGKILL mid-stream, restarted on the same data dir,
and the publishers go on; after CYCLES kills, each user u<i> subscribes to /user/queue/n and
must receive every receipted message exactly once (in send order), and nothing twice.
"""

import os
import threading
import time

from lib.broker import Broker, WorkDir, require_data_dir_flag
from lib.client import Closed, TcpStomp

PUBLISHERS = 4
CYCLES = 3                 # kills
PER_CYCLE = 250            # SENDs per publisher per cycle at most (user queues hold 1000)
KILL_AFTER_RECEIPTS = 100  # per publisher on average in a cycle, then SIGKILL
WINDOW = 64                # SENDs without their RECEIPT yet, per publisher


class Publisher(threading.Thread):
    def __init__(self, port, index, first_seq, log):
        super().__init__(daemon=True)
        self.port, self.index, self.seq, self.log = port, index, first_seq, log
        self.sent, self.receipted = [], set()
        self.end = None

    def run(self):
        try:
            conn = TcpStomp(self.port)
            conn.connect(login=f"pub{self.index}")
            stop = self.seq + PER_CYCLE
            while self.seq < stop:
                body = f"p{self.index}-{self.seq}"
                self.sent.append(body)  # counted as sent before the bytes go: it may arrive
                conn.send(f"/user/u{self.index}/queue/n", body, receipt=body)
                self.seq += 1
                self.drain(conn, 0.0)
                while len(self.sent) - len(self.receipted) > WINDOW:
                    self.drain(conn, 1.0)
                time.sleep(0.002)  # a steady stream: the kill lands in the middle of it
            while len(self.receipted) < len(self.sent):
                self.drain(conn, 5.0)
            conn.disconnect()
            self.end = "completed"
        except (Closed, OSError) as e:
            self.end = f"cut: {e!r}"
        except AssertionError as e:
            self.end = f"error: {e}"

    def drain(self, conn, timeout):
        frame = conn.recv_frame(timeout)
        while frame is not None:
            if frame.command != "RECEIPT":
                raise AssertionError(f"publisher {self.index} got {frame!r}")
            self.receipted.add(frame.headers["receipt-id"])
            frame = conn.recv_frame(0.0)


def run_cycle(broker, next_seq):
    pubs = [Publisher(broker.tcp_port, i, next_seq[i], broker.log) for i in range(PUBLISHERS)]
    for p in pubs:
        p.start()
    deadline = time.monotonic() + 60
    while sum(len(p.receipted) for p in pubs) < PUBLISHERS * KILL_AFTER_RECEIPTS:
        assert time.monotonic() < deadline, "publishers made no progress"
        failed = [p.end for p in pubs if p.end and p.end.startswith("error")]
        assert not failed, failed
        assert broker.alive(), "broker died on its own"
        time.sleep(0.002)
    broker.kill9()
    for p in pubs:
        p.join(30)
        assert not p.is_alive(), "publisher hung after the kill"
        assert not p.end.startswith("error"), p.end
        next_seq[p.index] = p.seq
    return pubs


def drain_user(port, user, idle_s=3.0):
    """Every body user receives on /user/queue/n until idle for idle_s seconds."""
    conn = TcpStomp(port)
    conn.connect(login=user)
    started = time.monotonic()
    conn.subscribe("/user/queue/n", "s", receipt="sub")
    bodies, last = [], started
    while True:
        frame = conn.recv_frame(idle_s)
        if frame is None:
            break
        assert frame.command == "MESSAGE", frame
        bodies.append(frame.text())
        last = time.monotonic()
    conn.disconnect()
    if bodies:
        print(f"{user}: {len(bodies)} stored messages replayed in {last - started:.3f} s")
    return bodies


def check_user(i, bodies, sent, receipted):
    seqs = [int(b.split("-")[1]) for b in bodies]
    dupes = len(bodies) - len(set(bodies))
    lost = receipted - set(bodies)
    unknown = set(bodies) - set(sent)
    print(f"u{i}: sent {len(sent)}, receipted {len(receipted)}, received {len(bodies)}, "
          f"unreceipted but delivered {len(set(bodies) - receipted)}, lost {len(lost)}, "
          f"duplicates {dupes}")
    assert not lost, f"u{i}: receipted but lost: {sorted(lost)[:10]}"
    assert dupes == 0, f"u{i}: delivered twice: {[b for b in bodies if bodies.count(b) > 1][:10]}"
    assert not unknown, f"u{i}: never sent: {sorted(unknown)[:10]}"
    assert seqs == sorted(seqs), f"u{i}: out of send order: {seqs[:50]}"


def main():
    require_data_dir_flag()
    with WorkDir() as work:
        data = os.path.join(work, "data")
        broker = Broker(work, data_dir=data)
        next_seq = [0] * PUBLISHERS
        sent = [[] for _ in range(PUBLISHERS)]
        receipted = [set() for _ in range(PUBLISHERS)]
        try:
            for cycle in range(CYCLES):
                broker.start()
                pubs = run_cycle(broker, next_seq)
                for p in pubs:
                    sent[p.index] += p.sent
                    receipted[p.index] |= p.receipted
                print(f"cycle {cycle}: SIGKILL after "
                      f"{sum(len(p.receipted) for p in pubs)} receipts, "
                      f"{sum(len(p.sent) for p in pubs)} SENDs; publishers: "
                      f"{[p.end for p in pubs]}")
            broker.start()
            for i in range(PUBLISHERS):
                check_user(i, drain_user(broker.tcp_port, f"u{i}"), sent[i], receipted[i])
            for i in range(PUBLISHERS):  # delivered (auto ack) means gone: nothing comes twice
                again = drain_user(broker.tcp_port, f"u{i}", idle_s=1.0)
                assert not again, f"u{i}: redelivered after a full drain: {again[:10]}"
            assert broker.alive()
        finally:
            broker.stop()
        broker.assert_clean_exit()
    print("kill9_durable: OK")


if __name__ == "__main__":
    main()
