"""fault.topic_recovery: topic history and recovery (#18) against the real binary.

With [[history]] pattern = "/topic/room.*":
  1. over TCP, then over raw WebSocket: a publisher sends 1,000 messages to /topic/room.<t> at a
     steady rate (one per 2 ms); the reader's connection is closed by the server mid-run (the
     console's admin close, after ~300 messages); the reader reconnects and subscribes with
     x-recover-from = the last x-position it saw: RECEIPT x-recovered:true, and it has all 1,000
     exactly once, in order, offsets 1..1000 with one epoch.
  2. a wildcard subscription /topic/room.* recovering with DEST=EPOCH:OFFSET entries: the named
     topic after its offset, a topic first published during the gap from its start
     (x-recovered:true).
  3. too far back (a rule with max_messages = 10, 50 published, recover from offset 5):
     x-recovered:false and nothing from history, only the next live message (offset 51).
  4. epoch changed by a broker restart: x-recovered:false, the new epoch differs.
  5. no [[history]]: MESSAGEs carry no x-position (today's behaviour); x-recover-from gets
     x-recovered:false and the live messages.
  6. a malformed x-recover-from: ERROR "invalid x-recover-from header".
"""

import base64
import json
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import Broker, WorkDir, write_users  # noqa: E402
from lib.client import Closed, TcpStomp, WsStomp  # noqa: E402
from lib.metrics import metrics_port  # noqa: E402

USERS = {"root": ("root-pw", ["admin"]), "reader": ("reader-pw", ["user"]),
         "writer": ("writer-pw", ["user", "publisher"])}
HISTORY = """
[[history]]
pattern = "/topic/small.*"
max_messages = 10

[[history]]
pattern = "/topic/room.*"
max_messages = 2000
max_age_seconds = 300
"""
TOTAL = 1000


def admin(broker, method, path):
    req = urllib.request.Request(f"http://127.0.0.1:{metrics_port(broker)}{path}", method=method)
    token = base64.b64encode(b"root:root-pw").decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, json.loads(r.read().decode() or "null")


def close_user_connection(broker, user):
    _, listed = admin(broker, "GET", "/api/v1/connections")
    ids = [c["id"] for c in listed["connections"] if c.get("user") == user]
    assert len(ids) == 1, listed
    status, _ = admin(broker, "POST", f"/api/v1/connections/{ids[0]}/close")
    assert status == 202, status


def client(kind, broker, login):
    conn = TcpStomp(broker.tcp_port) if kind == "tcp" else WsStomp(broker.ws_port)
    conn.connect(login, passcode=USERS[login][0])
    return conn


def subscribe(conn, dest, recover_from=None, sub_id="s"):
    headers = {"destination": dest, "id": sub_id, "receipt": "r-" + sub_id}
    if recover_from is not None:
        headers["x-recover-from"] = recover_from
    conn.send_frame("SUBSCRIBE", headers)
    return conn.expect("RECEIPT")


def publish_steadily(broker, dest, count, period_s=0.002):
    """A thread sending `count` messages ("0".."count-1") at a steady rate; returns it."""
    def run():
        pub = client("tcp", broker, "writer")
        start = time.monotonic()
        for i in range(count):
            delay = start + i * period_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pub.send(dest, str(i))
        pub.disconnect()
    t = threading.Thread(target=run)
    t.start()
    return t


def read_until_closed(conn, got, close_after, on_close):
    """MESSAGEs into `got` until the broker closes the connection; `on_close` runs once
    `close_after` have come."""
    closed_asked = False
    while True:
        try:
            f = conn.recv_frame(10)
        except (Closed, OSError):
            return
        assert f is not None, f"no frame for 10 s after {len(got)} messages"
        if f.command == "ERROR":
            assert "administrator" in f.headers.get("message", ""), f
            continue
        assert f.command == "MESSAGE", f
        got.append(f)
        if len(got) >= close_after and not closed_asked:
            closed_asked = True
            on_close()


def check_all(got, dest):
    bodies = [f.text() for f in got]
    assert bodies == [str(i) for i in range(TOTAL)], (
        f"{len(bodies)} bodies; first differences: "
        f"{[(i, b) for i, b in enumerate(bodies) if b != str(i)][:5]}")
    positions = [f.headers["x-position"] for f in got]
    epochs = {p.split(":")[0] for p in positions}
    assert len(epochs) == 1, epochs
    assert [int(p.split(":")[1]) for p in positions] == list(range(1, TOTAL + 1))
    assert all(f.headers["destination"] == dest for f in got)


def case_cut_and_recover(broker, kind):
    dest = f"/topic/room.{kind}"
    reader = client(kind, broker, "reader")
    subscribe(reader, dest)
    publisher = publish_steadily(broker, dest, TOTAL)
    got = []
    read_until_closed(reader, got, 300, lambda: close_user_connection(broker, "reader"))
    before_cut = len(got)
    assert 300 <= before_cut < TOTAL, before_cut
    reader.close()
    reader = client(kind, broker, "reader")
    receipt = subscribe(reader, dest, recover_from=got[-1].headers["x-position"])
    assert receipt.headers.get("x-recovered") == "true", receipt
    got += reader.messages(limit=TOTAL - before_cut, timeout=15)
    publisher.join()
    assert reader.messages(idle_s=0.3) == []  # no duplicate after the last
    reader.disconnect()
    check_all(got, dest)
    print(f"{kind}: cut after {before_cut}, recovered to {len(got)}: 1..{TOTAL} exactly once")
    return got[-1].headers["x-position"].split(":")[0]


def case_wildcard(broker, epoch):
    reader = client("tcp", broker, "reader")
    pub = client("tcp", broker, "writer")
    subscribe(reader, "/topic/room.*")
    pub.send("/topic/room.a", "a1", receipt="p")
    pub.expect("RECEIPT")
    seen = reader.messages(limit=1)
    reader.close()  # gone: room.a goes on, room.b starts
    for body, dest in [("a2", "/topic/room.a"), ("b1", "/topic/room.b"), ("a3", "/topic/room.a")]:
        pub.send(dest, body, receipt="p")
        pub.expect("RECEIPT")
    reader = client("tcp", broker, "reader")
    entries = f"/topic/room.a={seen[0].headers['x-position']}"
    receipt = subscribe(reader, "/topic/room.*", recover_from=entries)
    assert receipt.headers.get("x-recovered") == "true", receipt
    bodies = [f.text() for f in reader.messages(idle_s=0.5)]
    assert bodies == ["a2", "b1", "a3"], bodies
    # an entry with another epoch: incomplete, nothing from history
    reader2 = client("tcp", broker, "reader")
    other = "0" if epoch != "0" else "1"
    receipt = subscribe(reader2, "/topic/room.*", recover_from=f"/topic/room.a={other}:1")
    assert receipt.headers.get("x-recovered") == "false", receipt
    assert reader2.messages(idle_s=0.3) == []
    for c in (reader, reader2, pub):
        c.close()
    print(f"wildcard: recovered {bodies} (room.b first seen during the gap); other epoch: false")


def case_too_far_back(broker):
    pub = client("tcp", broker, "writer")
    for i in range(50):
        pub.send("/topic/small.x", str(i))
    pub.send("/topic/small.x", "last", receipt="p")
    pub.expect("RECEIPT")
    reader = client("tcp", broker, "reader")
    epoch = None
    probe = client("tcp", broker, "reader")
    subscribe(probe, "/topic/small.x")
    pub.send("/topic/small.x", "probe", receipt="p")
    pub.expect("RECEIPT")
    epoch = probe.messages(limit=1)[0].headers["x-position"].split(":")[0]
    receipt = subscribe(reader, "/topic/small.x", recover_from=f"{epoch}:5")
    assert receipt.headers.get("x-recovered") == "false", receipt
    assert reader.messages(idle_s=0.3) == []
    pub.send("/topic/small.x", "live", receipt="p")
    pub.expect("RECEIPT")
    live = reader.messages(limit=1)
    assert [f.text() for f in live] == ["live"], live
    assert live[0].headers["x-position"] == f"{epoch}:53", live[0].headers
    for c in (reader, probe, pub):
        c.close()
    print("too far back (max_messages 10, from 5 of 52): x-recovered:false, then live 53")


def case_restart(work, users, old_epoch):
    with Broker(work, config=users + HISTORY).start() as broker:
        reader = client("tcp", broker, "reader")
        receipt = subscribe(reader, "/topic/room.tcp", recover_from=f"{old_epoch}:10")
        assert receipt.headers.get("x-recovered") == "false", receipt
        pub = client("tcp", broker, "writer")
        pub.send("/topic/room.tcp", "after restart", receipt="p")
        pub.expect("RECEIPT")
        msg = reader.messages(limit=1)[0]
        new_epoch, offset = msg.headers["x-position"].split(":")
        assert new_epoch != old_epoch and offset == "1", msg.headers
        for c in (reader, pub):
            c.close()
        broker.stop()
        broker.assert_clean_exit()
    print(f"restart: epoch {old_epoch} -> {new_epoch}, x-recovered:false, offsets from 1")


def case_no_history(work, users):
    with Broker(work, config=users).start() as broker:
        reader = client("tcp", broker, "reader")
        receipt = subscribe(reader, "/topic/room.tcp", recover_from="abcd0123:10")
        assert receipt.headers.get("x-recovered") == "false", receipt
        plain = client("tcp", broker, "reader")
        subscribe(plain, "/topic/room.tcp")
        receipt_headers = dict(subscribe(plain, "/topic/other", sub_id="o").headers)
        assert "x-recovered" not in receipt_headers, receipt_headers
        pub = client("tcp", broker, "writer")
        pub.send("/topic/room.tcp", "plain", receipt="p")
        pub.expect("RECEIPT")
        for c in (reader, plain):
            msg = c.messages(limit=1)[0]
            assert msg.text() == "plain" and "x-position" not in msg.headers, msg.headers
        bad = client("tcp", broker, "reader")
        bad.send_frame("SUBSCRIBE", {"destination": "/topic/room.tcp", "id": "x",
                                     "x-recover-from": "no-offset"})
        err = bad.expect("ERROR")
        assert err.headers["message"] == "invalid x-recover-from header", err.headers
        for c in (reader, plain, pub, bad):
            c.close()
        broker.stop()
        broker.assert_clean_exit()
    print("no [[history]]: no x-position, x-recover-from -> x-recovered:false; malformed: ERROR")


def main():
    with WorkDir() as work:
        users = write_users(work, USERS)
        with Broker(work, config=users + HISTORY).start() as broker:
            epoch = case_cut_and_recover(broker, "tcp")
            assert case_cut_and_recover(broker, "ws") == epoch
            case_wildcard(broker, epoch)
            case_too_far_back(broker)
            broker.stop()
            broker.assert_clean_exit()
        case_restart(work, users, epoch)
        case_no_history(work, users)
    print("topic_recovery: OK")


if __name__ == "__main__":
    main()
