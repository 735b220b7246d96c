"""cluster.topic_recovery: topic history shared by the nodes (issue #18, docs/recovery.md).

Two nodes with [[history]] pattern = "/topic/room.*" max_messages = 5000 (and /topic/small.*
keeping 10):
  1. a reader on node a subscribes /topic/room.1; a publisher sends 1,000 messages at a steady
     rate (one per 2 ms, RECEIPT each), three in four through node b, the rest through node a;
     after ~300 the reader's socket is cut, it reconnects to node b and subscribes with
     x-recover-from = the last x-position it saw: RECEIPT x-recovered:true, and it has all
     1,000 exactly once, in order, offsets 1..1000 on one epoch; an observer on node b that
     was never cut saw the same position for every message.
  2. a wildcard /topic/room.* reader on node a, cut after 10 messages of two rooms, recovers on
     node b with DEST=EPOCH:OFFSET entries: x-recovered:true, both rooms complete, in order.
  3. too far back (/topic/small.1 keeps about 10; 400 sent, recover from offset 5):
     x-recovered:false and nothing from history, then exactly the next live message (401).
  4. FLUSHALL on Redis (the epoch is lost): x-recovered:false; the next message starts a new
     epoch at offset 1.
  5. a third node whose [[history]] rules differ logs a warning at start (every node must
     have the same rules); the first two, with the same rules, do not.
  6. Redis down: a SEND to a topic with history cannot be kept: ERROR "message not stored",
     no RECEIPT, and the subscriber on the sending node gets nothing (never a silent loss).
"""

import threading
import time

from cluster_lib import Cluster, Node, Resp, collect, quiet, wait_until

HISTORY = """
[[history]]
pattern = "/topic/small.*"
max_messages = 10

[[history]]
pattern = "/topic/room.*"
max_messages = 5000
"""
TOTAL = 1000


def subscribe(conn, dest, sub_id="s", recover_from=None):
    headers = {"destination": dest, "id": sub_id, "receipt": "r-" + sub_id}
    if recover_from is not None:
        headers["x-recover-from"] = recover_from
    conn.send_frame("SUBSCRIBE", headers)
    return conn.expect("RECEIPT")


def position(frame):
    epoch, offset = frame.headers["x-position"].split(":")
    return epoch, int(offset)


def publish_steadily(nodes, dest, count, period_s=0.002, first=0):
    """A thread sending bodies first..first+count-1 at a steady rate, message i through
    nodes[i % len(nodes)], each waiting for its RECEIPT (so the offsets follow the bodies)."""
    def run():
        pubs = [n.client("pub") for n in nodes]
        start = time.monotonic()
        for i in range(first, first + count):
            delay = start + (i - first) * period_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pub = pubs[i % len(pubs)]
            pub.send(dest, str(i), receipt=f"p{i}")
            pub.expect("RECEIPT")
        for p in pubs:
            p.disconnect()
    t = threading.Thread(target=run)
    t.start()
    return t


def cut(conn):
    """Drops the connection without DISCONNECT (the client's network went away)."""
    conn.sock.close()


def recover_one_topic(cl, a, b):
    reader = a.client("reader")
    subscribe(reader, "/topic/room.1")
    observer = b.client("observer")
    subscribe(observer, "/topic/room.1")
    # Every node delivers what Redis publishes back: both must listen before the first SEND.
    wait_until(lambda: cl.redis.numsub("stompbox:0:t:/topic/room.1") == 2, what="NUMSUB 2")
    publisher = publish_steadily([a, b, b, b], "/topic/room.1", TOTAL)
    got = collect(reader, 300)
    cut(reader)
    last = got[-1].headers["x-position"]
    time.sleep(0.3)  # messages go by meanwhile
    again = b.client("reader")
    receipt = subscribe(again, "/topic/room.1", recover_from=last)
    assert receipt.headers.get("x-recovered") == "true", receipt
    got += collect(again, TOTAL - len(got))
    publisher.join()
    quiet(again)
    seen = collect(observer, TOTAL)
    assert [f.text() for f in got] == [str(i) for i in range(TOTAL)], (
        f"first differences: {[(i, f.text()) for i, f in enumerate(got) if f.text() != str(i)][:5]}")
    epochs = {position(f)[0] for f in got}
    assert len(epochs) == 1, epochs
    assert [position(f)[1] for f in got] == list(range(1, TOTAL + 1))
    assert [f.headers["x-position"] for f in seen] == [f.headers["x-position"] for f in got], \
        "node a and node b disagree on positions"
    for c in (again, observer):
        c.disconnect()
    return last


def recover_wildcard(cl, a, b):
    reader = a.client("wild")
    subscribe(reader, "/topic/room.*", "w")
    wait_until(lambda: cl.redis.numpat() == 1, what="NUMPAT 1")
    publisher = publish_steadily([b, a], "/topic/room.w1", 30, period_s=0.01)
    other = publish_steadily([a, b], "/topic/room.w2", 30, period_s=0.01)
    got, last = [], {}
    while len(got) < 10 or len(last) < 2:  # cut once both rooms were seen
        got += collect(reader, 1)
        last[got[-1].headers["destination"]] = got[-1].headers["x-position"]
    assert len(got) < 50, f"{len(got)} messages before both rooms were seen"
    cut(reader)
    publisher.join()
    other.join()
    again = b.client("wild")
    listed = ",".join(f"{d}={p}" for d, p in sorted(last.items()))
    receipt = subscribe(again, "/topic/room.*", "w", recover_from=listed)
    assert receipt.headers.get("x-recovered") == "true", receipt
    got += collect(again, 60 - len(got))
    quiet(again)
    for room in ("/topic/room.w1", "/topic/room.w2"):
        bodies = [f.text() for f in got if f.headers["destination"] == room]
        assert bodies == [str(i) for i in range(30)], f"{room}: {bodies}"
    again.disconnect()


def too_far_back(cl, a, b):
    pub = a.client("pub")
    for i in range(400):
        pub.send("/topic/small.1", str(i), receipt=f"s{i}")
        pub.expect("RECEIPT")
    reader = b.client("late")
    probe = b.client("probe")
    subscribe(probe, "/topic/small.1", "p")
    wait_until(lambda: cl.redis.numsub("stompbox:0:t:/topic/small.1") == 1, what="NUMSUB 1")
    pub.send("/topic/small.1", "400", receipt="last")
    pub.expect("RECEIPT")
    first_epoch = position(collect(probe, 1)[0])[0]
    receipt = subscribe(reader, "/topic/small.1", recover_from=f"{first_epoch}:5")
    assert receipt.headers.get("x-recovered") == "false", receipt
    pub.send("/topic/small.1", "401", receipt="next")
    pub.expect("RECEIPT")
    live = collect(reader, 1)
    assert live[0].text() == "401" and position(live[0])[1] == 402, live[0]
    quiet(reader)
    for c in (pub, reader, probe):
        c.disconnect()


def after_flushall(cl, a, last):
    r = Resp(cl.redis.port)
    try:
        assert r.command("FLUSHALL") == "OK"
    finally:
        r.close()
    reader = a.client("after")
    subscribe(reader, "/topic/room.1", "x")
    wait_until(lambda: cl.redis.numsub("stompbox:0:t:/topic/room.1") == 1, what="NUMSUB 1")
    pub = a.client("pub")
    pub.send("/topic/room.1", "fresh", receipt="f")
    pub.expect("RECEIPT")
    fresh = collect(reader, 1)[0]
    epoch, offset = position(fresh)
    assert offset == 1 and epoch != last.split(":")[0], fresh.headers
    again = a.client("after2")
    receipt = subscribe(again, "/topic/room.1", recover_from=last)
    assert receipt.headers.get("x-recovered") == "false", receipt
    quiet(again)
    for c in (reader, pub, again):
        c.disconnect()


def rules_differ(cl):
    other = Node(cl.work.path, "c", cl.redis.url, HISTORY.replace("5000", "4000")).start()
    try:
        wait_until(lambda: "rules differ" in other.broker.log(), 10.0, "the rules warning")
    finally:
        other.stop()
    other.broker.assert_clean_exit()
    for n in cl.nodes:
        assert "rules differ" not in n.broker.log(), f"node {n.name} warned with the same rules"


def redis_down(cl, a):
    reader = a.client("down")
    subscribe(reader, "/topic/room.1", "d")
    cl.redis.stop()
    wait_until(lambda: not a.ready(), what="node a /readyz 503")
    pub = a.client("pub")
    pub.send("/topic/room.1", "unkept", receipt="u")
    frame = pub.recv_frame(15.0)
    assert frame is not None and frame.command == "ERROR", f"expected ERROR, got {frame!r}"
    assert "not stored" in frame.headers.get("message", ""), frame.headers
    quiet(reader)
    pub.close()
    reader.close()


def main():
    with Cluster(2, cluster_config=HISTORY) as cl:
        a, b = cl.nodes
        last = recover_one_topic(cl, a, b)
        print("1: 1,000 messages recovered on the other node, in order, once each")
        recover_wildcard(cl, a, b)
        print("2: wildcard recovery across two rooms on the other node")
        too_far_back(cl, a, b)
        print("3: too far back: x-recovered:false, then live")
        rules_differ(cl)  # before FLUSHALL, which forgets the first node's rules too
        print("5: a node with other [[history]] rules warns")
        after_flushall(cl, a, last)
        print("4: FLUSHALL: x-recovered:false, new epoch")
        redis_down(cl, a)
        print("6: Redis down: ERROR message not stored")


if __name__ == "__main__":
    main()
