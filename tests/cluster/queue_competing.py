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


def handover(queue, producer, holder_node, taker_node, total, held_n, leave, timeout):
    """A consumer on holder_node takes held_n of `total` messages (its prefetch) and does not
    acknowledge them; one on taker_node takes the rest. After leave(holder) the taker must get
    the held ones, redelivered, within `timeout`; nothing lost. Returns the seconds it took."""
    bodies = [f"{queue[-4:]}{i}" for i in range(total)]
    holder = consumer(holder_node, queue, held_n)
    send_all(producer, queue, bodies)
    held = collect(holder, held_n)  # the prefetch: the holder's node takes no more than that
    taker = consumer(taker_node, queue, 100)
    rest = collect(taker, total - held_n)
    leave(holder)
    started = time.monotonic()
    back = collect(taker, held_n, timeout=timeout)
    waited = time.monotonic() - started
    assert all(f.headers.get("redelivered") == "true" for f in back), back
    assert sorted(f.body.decode() for f in back) == sorted(f.body.decode() for f in held)
    assert sorted(f.body.decode() for f in held + rest) == sorted(bodies)
    quiet(taker, 0.5)
    taker.disconnect()
    return waited


def give_back(a, b, c):
    # The consumer leaves without acknowledging: node a gives its 5 back, well before any node
    # could claim them after CLAIM_MS.
    handover("/queue/handover", c, a, b, 10, 5, lambda holder: holder.close(), GIVE_BACK_S)
    print("give-back: 5 unacknowledged messages of a consumer that left node a went to node b, "
          "redelivered: OK")


def node_dies(a, b, c):
    waited = handover("/queue/crash", c, a, b, 8, 5, lambda holder: a.broker.kill9(),
                      CLAIM_MS / 1000 + 15.0)
    print(f"kill -9: node a died holding 5 unacknowledged messages; node b's consumer got them "
          f"{waited:.1f} s later (queue_claim_ms {CLAIM_MS}), redelivered, none lost: OK")


def node_stops(b, c):
    def sigterm(holder):
        b.stop()  # sessions close, then the link
        assert b.broker.exit_status == 0, f"node b exited with {b.broker.exit_status}"

    handover("/queue/stop", c, b, c, 6, 4, sigterm, GIVE_BACK_S)
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
