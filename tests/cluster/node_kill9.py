"""cluster.node_kill9: a node killed with SIGKILL mid-stream loses nothing it receipted.

A backend on node a streams durable messages to /user/dana/queue/n, one receipt each; dana
listens on node b (live copies through Redis). After KILL_AFTER receipts node a gets SIGKILL.
dana then leaves node b and reconnects on node c: every message node a receipted has reached
her exactly once, live on b or from the shared store on c (a receipted message whose PUBLISH
died with node a is still stored), and nothing came twice.
"""

import time

from cluster_lib import Closed, Cluster, quiet, wait_until

TOTAL = 400
KILL_AFTER = 150
WINDOW = 32


def stream_until_killed(node, receipted):
    pub = node.client("backend")
    sent = 0
    try:
        while sent < TOTAL:
            pub.send("/user/dana/queue/n", f"d{sent}", receipt=f"d{sent}")
            sent += 1
            while sent - len(receipted) > WINDOW or (sent == TOTAL and len(receipted) < sent):
                frame = pub.recv_frame(5.0)
                assert frame is not None and frame.command == "RECEIPT", frame
                receipted.add(frame.headers["receipt-id"])
                if len(receipted) >= KILL_AFTER and node.broker.alive():
                    node.broker.kill9()
    except (Closed, OSError):
        pass  # the node died under the publisher
    return sent


def drain(client, bodies):
    while True:
        frame = client.recv_frame(1.5)
        if frame is None:
            return
        assert frame.command == "MESSAGE", frame
        bodies.append(frame.body.decode())


def main():
    with Cluster(3) as cl:
        a, b, c = cl.nodes
        dana = b.client("dana")
        dana.subscribe("/user/queue/n", "q", receipt="r")
        wait_until(lambda: cl.redis.numsub("stompbox:0:u:dana") == 1, what="dana's channel")
        receipted = set()
        sent = stream_until_killed(a, receipted)
        assert not a.broker.alive(), "node a was not killed"
        bodies = []
        drain(dana, bodies)  # the live copies that made it through node b
        live = len(bodies)
        dana.disconnect()
        time.sleep(1.0)  # node b's auto-ack removals reach Redis
        again = c.client("dana")
        again.subscribe("/user/queue/n", "q", receipt="r")
        drain(again, bodies)
        quiet(again, 0.5)
        again.disconnect()
        dupes = sorted({x for x in bodies if bodies.count(x) > 1})
        assert not dupes, f"delivered twice: {dupes[:10]}"
        missing = sorted(receipted - set(bodies))
        assert not missing, f"receipted but never delivered: {missing[:10]}"
        print(f"kill -9 node a after {len(receipted)} receipts of {sent} sent: {live} live on b, "
              f"{len(bodies) - live} from the store on c, none lost, none twice: OK")


if __name__ == "__main__":
    main()
