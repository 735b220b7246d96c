"""fault.kill9_durable: SIGKILL the broker while durable user notifications stream in, sent as
plain SENDs, in transactions and through the HTTP publish API.

Six publishers, publisher i to its own user u<i> (/user/u<i>/queue/n), body = "p<i>-<seq>":
- 0..3: one SEND at a time with a receipt each (body = receipt id), at most 64 without their
  RECEIPT; a RECEIPT counts its message as receipted;
- 4: transactions of 5 SENDs (BEGIN, 5 SENDs, COMMIT with a receipt), at most 8 COMMITs without
  their RECEIPT; only a COMMIT's RECEIPT counts its SENDs as receipted, and they count as sent
  only once their COMMIT is (the SENDs of a transaction never committed must never be delivered);
- 5: POST /api/v1/publish, one request at a time, Basic auth as a user with role publisher and
  an Idempotency-Key; a 202 counts as receipted, a connection error as not (never retried).
The broker runs with a users file (every client logs in). Once the publishers have receipts
(about 100 per plain publisher), the kill is armed: SIGKILL lands right after a COMMIT's RECEIPT
(cycles 0 and 2: the publisher then sends one transaction of 100 SENDs and waits for its RECEIPT;
a COMMIT must not be receipted before its SENDs are stored) or after the next 202 (cycle 1),
while the other publishers stream on. The broker is restarted on the same data dir and the
publishers go on, three times. Then each user u<i> subscribes to /user/queue/n and must receive
every receipted message exactly once, in send order, and nothing that was never sent; a second
subscription after the drain must get nothing (auto-acked messages are gone).
"""

import http.client
import os
import threading
import time

from lib.broker import Broker, WorkDir, require_data_dir_flag, write_users
from lib.client import Closed, TcpStomp, api_publish

STOMP_PUBLISHERS = 4       # plain SENDs, indexes 0..3
TX_INDEX, API_INDEX = 4, 5
PUBLISHERS = 6
CYCLES = 3                 # kills
TRIGGERS = [TX_INDEX, API_INDEX, TX_INDEX]  # whose receipt the SIGKILL follows, per cycle
PER_CYCLE = 250            # messages per publisher per cycle at most (+ the armed transaction)
KILL_AFTER_RECEIPTS = 100  # per plain publisher on average in a cycle, then the kill is armed
MIN_RECEIPTED = 10         # ... and the transaction and API publishers have at least this many
WINDOW = 64                # plain SENDs without their RECEIPT yet, per publisher
TX_SIZE, TX_WINDOW = 5, 8  # SENDs per transaction; COMMITs without their RECEIPT yet
TX_PAUSE_S = 0.01          # between transactions: a steady stream, as the plain ones (2 ms)
ARMED_TX_SIZE = 100        # SENDs of the transaction whose RECEIPT the kill follows
API_LOGIN = "backend"


def password(name):
    return f"pw-{name}"


USERS = {f"pub{i}": (password(f"pub{i}"), ["publisher"]) for i in range(TX_INDEX + 1)}
USERS[API_LOGIN] = (password(API_LOGIN), ["publisher"])
USERS.update({f"u{i}": (password(f"u{i}"), ["user"]) for i in range(PUBLISHERS)})


class KillSwitch:
    """SIGKILL once: right after the armed publisher's next receipt, or by the main thread."""

    def __init__(self, broker):
        self.broker, self.armed, self.fired_by = broker, None, None
        self.lock = threading.Lock()

    def arm(self, index):
        self.armed = index

    def after_receipt(self, index, what="receipt"):
        if self.armed == index:
            self.fire(f"publisher {index}'s {what}")

    def fire(self, who):
        with self.lock:
            if self.fired_by is None:
                self.broker.kill9()
                self.fired_by = who


class Publisher(threading.Thread):
    """Plain SENDs, a receipt each."""

    kind = "SEND"

    def __init__(self, broker, index, first_seq, switch):
        super().__init__(daemon=True)
        self.broker, self.index, self.seq, self.switch = broker, index, first_seq, switch
        self.dest = f"/user/u{index}/queue/n"
        self.sent, self.receipted = [], set()
        self.end = None

    def login(self):
        conn = TcpStomp(self.broker.tcp_port)
        conn.connect(login=f"pub{self.index}", passcode=password(f"pub{self.index}"))
        return conn

    def run(self):
        try:
            self.publish()
            self.end = "completed"
        except (Closed, OSError, http.client.HTTPException) as e:
            self.end = f"cut: {e!r}"
        except AssertionError as e:
            self.end = f"error: {e}"
        except Exception as e:  # a bug here must fail the test, not hang it
            self.end = f"error: {e!r}"

    def publish(self):
        conn = self.login()
        stop = self.seq + PER_CYCLE
        while self.seq < stop:
            body = f"p{self.index}-{self.seq}"
            self.sent.append(body)  # counted as sent before the bytes go: it may arrive
            conn.send(self.dest, body, receipt=body)
            self.seq += 1
            self.drain(conn, 0.0)
            while len(self.sent) - len(self.receipted) > WINDOW:
                self.drain(conn, 1.0)
            time.sleep(0.002)  # a steady stream: the kill lands in the middle of it
        while len(self.receipted) < len(self.sent):
            self.drain(conn, 5.0)
        conn.disconnect()

    def drain(self, conn, timeout):
        frame = conn.recv_frame(timeout)
        while frame is not None:
            if frame.command != "RECEIPT":
                raise AssertionError(f"publisher {self.index} got {frame!r}")
            self.on_receipt(frame.headers["receipt-id"])
            frame = conn.recv_frame(0.0)

    def on_receipt(self, receipt_id):
        self.receipted.add(receipt_id)
        self.switch.after_receipt(self.index)


class TxPublisher(Publisher):
    """Transactions of TX_SIZE SENDs; the COMMIT carries the receipt."""

    kind = "transactions"

    def __init__(self, *args):
        super().__init__(*args)
        self.open_commits = {}  # COMMIT receipt id -> its bodies
        self.kill_after = None  # the big transaction sent once armed

    def publish(self):
        conn = self.login()
        stop = self.seq + PER_CYCLE
        while self.seq < stop:
            tx = f"t{self.index}-{self.seq}"
            conn.send_frame("BEGIN", {"transaction": tx})
            # Armed: the transaction that the kill will follow is a big one: storing it takes
            # longer than the kill takes to follow its RECEIPT, should that come first.
            armed = self.switch.armed == self.index and self.kill_after is None
            size = ARMED_TX_SIZE if armed else TX_SIZE
            bodies = []
            for _ in range(size):
                bodies.append(f"p{self.index}-{self.seq}")
                self.seq += 1
                conn.send(self.dest, bodies[-1], transaction=tx)
            self.sent += bodies  # sent once the COMMIT goes: before it, none may arrive
            self.open_commits[tx] = bodies
            if armed:
                self.kill_after = tx
            conn.send_frame("COMMIT", {"transaction": tx, "receipt": tx})
            # Armed: wait on this COMMIT's RECEIPT, so that the kill follows it within micro-
            # seconds: its SENDs must already be stored.
            while self.kill_after == tx and tx in self.open_commits:
                self.drain(conn, 1.0)
            self.drain(conn, 0.0)
            while len(self.open_commits) > TX_WINDOW:
                self.drain(conn, 1.0)
            time.sleep(TX_PAUSE_S)
        while self.open_commits:
            self.drain(conn, 5.0)
        conn.disconnect()

    def on_receipt(self, receipt_id):
        self.receipted.update(self.open_commits.pop(receipt_id))
        if receipt_id == self.kill_after:
            self.switch.after_receipt(self.index, f"RECEIPT of a COMMIT of {ARMED_TX_SIZE} SENDs")


class ApiPublisher(Publisher):
    """POST /api/v1/publish, one request at a time; 202 = receipted."""

    kind = "publish API"

    def publish(self):
        stop = self.seq + PER_CYCLE
        while self.seq < stop:
            body = f"p{self.index}-{self.seq}"
            self.sent.append(body)
            self.seq += 1
            status, answer = api_publish(self.broker.ws_port, self.dest, body,
                                         auth=(API_LOGIN, password(API_LOGIN)),
                                         idempotency_key=body)
            if status != 202:
                raise AssertionError(f"publish API: {body}: expected 202, got {status} {answer}")
            self.receipted.add(body)
            self.switch.after_receipt(self.index, "202")


def run_cycle(broker, next_seq, trigger):
    switch = KillSwitch(broker)
    kinds = [Publisher] * STOMP_PUBLISHERS + [TxPublisher, ApiPublisher]
    pubs = [kind(broker, i, next_seq[i], switch) for i, kind in enumerate(kinds)]
    for p in pubs:
        p.start()
    deadline = time.monotonic() + 60

    def enough():
        plain = sum(len(p.receipted) for p in pubs[:STOMP_PUBLISHERS])
        others = min(len(p.receipted) for p in pubs[STOMP_PUBLISHERS:])
        return plain >= STOMP_PUBLISHERS * KILL_AFTER_RECEIPTS and others >= MIN_RECEIPTED

    while not enough():
        assert time.monotonic() < deadline, \
            f"publishers made no progress: receipted {[len(p.receipted) for p in pubs]}"
        failed = [p.end for p in pubs if p.end and p.end.startswith("error")]
        assert not failed, failed
        assert broker.alive(), "broker died on its own"
        time.sleep(0.002)
    switch.arm(trigger)
    deadline = time.monotonic() + 10
    while switch.fired_by is None and pubs[trigger].is_alive() and time.monotonic() < deadline:
        time.sleep(0.002)
    switch.fire("the test (the armed publisher had no further receipt)")
    for p in pubs:
        p.join(30)
        assert not p.is_alive(), f"publisher {p.index} hung after the kill"
        assert not p.end.startswith("error"), p.end
        next_seq[p.index] = p.seq
    return pubs, switch.fired_by


def drain_user(port, user, idle_s=3.0):
    """Every body user receives on /user/queue/n until idle for idle_s seconds."""
    conn = TcpStomp(port)
    conn.connect(login=user, passcode=password(user))
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


def check_user(i, kind, bodies, sent, receipted):
    seqs = [int(b.split("-")[1]) for b in bodies]
    dupes = len(bodies) - len(set(bodies))
    lost = receipted - set(bodies)
    unknown = set(bodies) - set(sent)
    print(f"u{i} ({kind}): sent {len(sent)}, receipted {len(receipted)}, received "
          f"{len(bodies)}, unreceipted but delivered {len(set(bodies) - receipted)}, lost "
          f"{len(lost)}, duplicates {dupes}")
    assert not lost, f"u{i} ({kind}): receipted but lost: {sorted(lost)[:10]}"
    assert dupes == 0, \
        f"u{i} ({kind}): delivered twice: {[b for b in bodies if bodies.count(b) > 1][:10]}"
    assert not unknown, f"u{i} ({kind}): never sent (or never committed): {sorted(unknown)[:10]}"
    assert seqs == sorted(seqs), f"u{i} ({kind}): out of send order: {seqs[:50]}"


def main():
    require_data_dir_flag()
    with WorkDir() as work:
        data = os.path.join(work, "data")
        # Room for every message a user may get in three cycles (the transactions' publisher
        # sends up to PER_CYCLE + ARMED_TX_SIZE per cycle): none dropped by retention.
        config = write_users(work, USERS) + "[store]\nuser_queue_max_messages = 2000\n"
        broker = Broker(work, config=config, data_dir=data)
        next_seq = [0] * PUBLISHERS
        sent = [[] for _ in range(PUBLISHERS)]
        receipted = [set() for _ in range(PUBLISHERS)]
        kinds = [""] * PUBLISHERS
        try:
            for cycle in range(CYCLES):
                broker.start()
                pubs, fired_by = run_cycle(broker, next_seq, TRIGGERS[cycle])
                for p in pubs:
                    sent[p.index] += p.sent
                    receipted[p.index] |= p.receipted
                    kinds[p.index] = p.kind
                print(f"cycle {cycle}: SIGKILL after {fired_by}, with receipted "
                      f"{[len(p.receipted) for p in pubs]} of sent {[len(p.sent) for p in pubs]}; "
                      f"publishers: {[p.end for p in pubs]}")
            broker.start()
            failures = []  # every user is checked and reported before the test fails
            for i in range(PUBLISHERS):
                bodies = drain_user(broker.tcp_port, f"u{i}")
                try:
                    check_user(i, kinds[i], bodies, sent[i], receipted[i])
                except AssertionError as e:
                    failures.append(str(e))
            assert not failures, "\n".join(failures)
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
