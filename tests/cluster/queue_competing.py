"""cluster.queue_competing: a /queue/ shared by three nodes (Redis streams, one consumer group).

1. Competing consumers on nodes a and b, a producer on node c: every message reaches exactly
   one of them, and both take a share.
2. Offline: messages sent while no node has a consumer wait in Redis; a consumer that comes
   later, on another node, gets each once, in order.
3. Give-back: a consumer on a holds unacknowledged messages and leaves; they go to the
   consumer on b, redelivered.
4. kill -9: node a dies holding unacknowledged messages; after queue_claim_ms node b claims
   them and its consumer gets them, redelivered.
5. SIGTERM: node b, stopping, closes its consumer and gives back what it held before it leaves
   Redis: node c's consumer gets it at once, not after queue_claim_ms.
Nothing receipted is lost in any phase.
"""

import time

from cluster_lib import Cluster, collect, quiet

# Long enough that given-back messages must arrive before any node could claim them as a dead
# node's: a holder renews every CLAIM_MS / 3, so its entries are claimable at the earliest
# 2/3 x CLAIM_MS (10 s) after it stopped; the give-back phases wait at most GIVE_BACK_S.
# Short enough for the kill -9 phase.
CLAIM_MS = 15000
GIVE_BACK_S = 6.0


def send_all(node, destination, bodies, window=32):
    """Sends with a receipt each (at most `window` unanswered) and waits for every RECEIPT."""
    pub = node.client("backend")
    pending = 0
    for body in bodies:
        pub.send(destination, body, receipt=body)
        pending += 1
        while pending > window or (body == bodies[-1] and pending > 0):
            frame = pub.recv_frame(10.0)
            assert frame is not None and frame.command == "RECEIPT", frame
            pending -= 1
    pub.disconnect()


def consumer(node, destination, prefetch):
    c = node.client("worker")
    c.subscribe(destination, "s", ack="client-individual", receipt="r",
                **{"prefetch-count": str(prefetch)})
    return c


def ack(client, frame):
    client.send_frame("ACK", {"id": frame.headers["ack"]})


def competing(a, b, c):
    total = 300
    bodies = [f"c{i}" for i in range(total)]
    workers = {"a": consumer(a, "/queue/jobs", 10), "b": consumer(b, "/queue/jobs", 10)}
    send_all(c, "/queue/jobs", bodies)
    got = {"a": [], "b": []}
    ids = []
    deadline = time.monotonic() + 30
    while sum(len(v) for v in got.values()) < total:
        assert time.monotonic() < deadline, f"got {[len(v) for v in got.values()]} of {total}"
        for name, w in workers.items():
            frame = w.recv_frame(0.05)
            if frame is None:
                continue
            assert frame.command == "MESSAGE", frame
            got[name].append(frame.body.decode())
            ids.append(frame.headers["message-id"])
            ack(w, frame)
    for w in workers.values():
        quiet(w, 0.5)
        w.disconnect()
    everything = got["a"] + got["b"]
    assert sorted(everything) == sorted(bodies), "a message lost or delivered twice"
    assert len(set(ids)) == total, "message-ids are not unique"
    assert len(got["a"]) >= total // 10 and len(got["b"]) >= total // 10, \
        f"one node took (nearly) everything: a {len(got['a'])}, b {len(got['b'])}"
    print(f"competing: {total} messages, {len(got['a'])} to node a, {len(got['b'])} to node b, "
          "each once: OK")


def offline(a, c):
    bodies = [f"o{i}" for i in range(20)]
    send_all(a, "/queue/later", bodies)
    late = consumer(c, "/queue/later", 100)
    frames = collect(late, len(bodies))
    assert [f.body.decode() for f in frames] == bodies, "not each once, in order"
    for f in frames:
        ack(late, f)
    quiet(late, 0.5)
    late.disconnect()
    print(f"offline: {len(bodies)} sent with no consumer anywhere, all to a later one on "
          "node c, in order: OK")


def give_back(a, b, c):
    bodies = [f"g{i}" for i in range(10)]
    holder = consumer(a, "/queue/handover", 5)
    send_all(c, "/queue/handover", bodies)
    held = collect(holder, 5)  # prefetch 5: node a takes no more than that
    taker = consumer(b, "/queue/handover", 100)
    rest = collect(taker, 5)
    holder.close()  # leaves without acknowledging: node a gives its 5 back
    back = collect(taker, 5, timeout=GIVE_BACK_S)  # given back, not claimed after CLAIM_MS
    assert all(f.headers.get("redelivered") == "true" for f in back), back
    names = sorted(f.body.decode() for f in held + rest)
    assert names == sorted(bodies), names
    assert sorted(f.body.decode() for f in back) == sorted(f.body.decode() for f in held)
    quiet(taker, 0.5)
    taker.disconnect()
    print("give-back: 5 unacknowledged messages of a consumer that left node a went to node b, "
          "redelivered: OK")


def node_dies(a, b, c):
    bodies = [f"k{i}" for i in range(8)]
    holder = consumer(a, "/queue/crash", 5)
    send_all(c, "/queue/crash", bodies)
    held = collect(holder, 5)
    taker = consumer(b, "/queue/crash", 100)
    rest = collect(taker, 3)
    a.broker.kill9()
    started = time.monotonic()
    back = collect(taker, 5, timeout=CLAIM_MS / 1000 + 15.0)
    waited = time.monotonic() - started
    assert all(f.headers.get("redelivered") == "true" for f in back), back
    assert sorted(f.body.decode() for f in back) == sorted(f.body.decode() for f in held)
    assert sorted(f.body.decode() for f in held + rest) == sorted(bodies)
    quiet(taker, 0.5)
    taker.disconnect()
    print(f"kill -9: node a died holding 5 unacknowledged messages; node b's consumer got them "
          f"{waited:.1f} s later (queue_claim_ms {CLAIM_MS}), redelivered, none lost: OK")


def node_stops(b, c):
    bodies = [f"t{i}" for i in range(6)]
    holder = consumer(b, "/queue/stop", 4)
    send_all(c, "/queue/stop", bodies)
    held = collect(holder, 4)
    taker = consumer(c, "/queue/stop", 100)
    rest = collect(taker, 2)
    b.stop()  # SIGTERM: sessions close, then the link
    assert b.broker.exit_status == 0, f"node b exited with {b.broker.exit_status}"
    back = collect(taker, 4, timeout=GIVE_BACK_S)  # given back, not claimed after CLAIM_MS
    assert all(f.headers.get("redelivered") == "true" for f in back), back
    assert sorted(f.body.decode() for f in back) == sorted(f.body.decode() for f in held)
    assert sorted(f.body.decode() for f in held + rest) == sorted(bodies)
    quiet(taker, 0.5)
    taker.disconnect()
    print("SIGTERM: node b gave back its consumer's 4 unacknowledged messages on the way out; "
          "node c's consumer got them, redelivered: OK")


def main():
    with Cluster(3, cluster_config=f"queue_claim_ms = {CLAIM_MS}\n") as cl:
        a, b, c = cl.nodes
        competing(a, b, c)
        offline(a, c)
        give_back(a, b, c)
        node_dies(a, b, c)
        node_stops(b, c)


if __name__ == "__main__":
    main()
