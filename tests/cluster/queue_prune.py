"""cluster.queue_prune: a node gone for longer than the claim time leaves no consumer behind in
the queues' consumer group (issue #17). Before, every node id that ever consumed stayed in
`XINFO CONSUMERS` forever.

Node a's consumer holds 5 unacknowledged messages of /queue/p; node a is killed with SIGKILL.
Node b (a consumer on /queue/p) claims them after queue_claim_ms and delivers them, redelivered;
then node a's consumer name is gone from XINFO CONSUMERS, node b's is still there, and nothing
else was lost.
"""

import re
import time

from cluster_lib import Cluster, Resp, collect, quiet, wait_until

CLAIM_MS = 3000
STREAM = "stompbox:0:q:/queue/p"


def consumers(redis):
    r = Resp(redis.port)
    try:
        reply = r.command("XINFO", "CONSUMERS", STREAM, "stompbox")
    finally:
        r.close()
    names = []
    for fields in reply:
        info = dict(zip(fields[::2], fields[1::2]))
        names.append(info[b"name"].decode())
    return names


def node_id(node):
    m = re.search(r"cluster: node ([0-9a-f]{16}) subscribed", node.broker.log())
    assert m, f"node {node.name}: no node id in the log"
    return m.group(1)


def main():
    with Cluster(2, cluster_config=f"queue_claim_ms = {CLAIM_MS}\n") as cl:
        a, b = cl.nodes
        holder = a.client("worker")
        holder.subscribe("/queue/p", "s", ack="client-individual", receipt="r",
                         **{"prefetch-count": "5"})
        pub = b.client("backend")
        for i in range(5):
            pub.send("/queue/p", f"p{i}", receipt=f"p{i}")
            assert pub.recv_frame(10.0).command == "RECEIPT"
        held = collect(holder, 5)
        taker = b.client("worker")
        taker.subscribe("/queue/p", "s", ack="client-individual", receipt="r",
                        **{"prefetch-count": "100"})
        gone, alive = node_id(a), node_id(b)
        # (Redis creates a consumer with the first entry it gets: node b's comes with the claim.)
        assert gone in consumers(cl.redis), consumers(cl.redis)
        a.broker.kill9()
        killed = time.monotonic()
        back = collect(taker, 5, timeout=CLAIM_MS / 1000 + 15.0)
        assert all(f.headers.get("redelivered") == "true" for f in back), back
        assert sorted(f.body.decode() for f in back) == sorted(f.body.decode() for f in held)
        for f in back:
            taker.send_frame("ACK", {"id": f.headers["ack"]})
        wait_until(lambda: gone not in consumers(cl.redis), CLAIM_MS / 1000 + 15.0,
                   f"node a's consumer {gone} to leave the group")
        waited = time.monotonic() - killed
        names = consumers(cl.redis)
        assert alive in names, f"node b's consumer {alive} removed too: {names}"
        assert b.metric("cluster_queue_consumers_pruned_total") >= 1.0
        quiet(taker, 0.5)
        wait_until(lambda: cl.redis.xlen(STREAM) == 0, 10.0, "the stream to empty")
        taker.disconnect()
        pub.disconnect()
        print(f"kill -9 node a holding 5 messages: node b delivered them redelivered, and node "
              f"a's consumer {gone} left the group {waited:.1f} s after the kill (claim "
              f"{CLAIM_MS} ms); consumers now {names}: OK")


if __name__ == "__main__":
    main()
