"""cluster.user_routing: user destinations across nodes, and no traffic where nobody listens.

alice has one session on node a and one on node b, both subscribed to /user/queue/n (durable)
and /user/topic/t (live). A backend session on node c sends 10 of each to alice: each of her
sessions gets exactly one copy of each, same message-id on both. Node c has no session that
listens, so it subscribes to no channel and receives no envelope. Then offline delivery across
nodes: bob is offline while the backend (node a) sends him 5 receipted durable messages; he
connects to node b and gets all 5 from the shared store, acks them, and after reconnecting to
node c gets nothing again.
"""

import time

from cluster_lib import Cluster, collect, quiet, wait_until

N = 10


def alice_on_two_nodes(cl):
    a, b, c = cl.nodes
    sessions = []
    for node in (a, b):
        s = node.client("alice")
        s.subscribe("/user/queue/n", "q", receipt="r1")
        s.subscribe("/user/topic/t", "t", receipt="r2")
        sessions.append(s)
    wait_until(lambda: cl.redis.numsub("stompbox:0:u:alice") == 2, what="alice's channel x2")
    pub = c.client("backend")
    for i in range(N):
        pub.send("/user/alice/queue/n", f"q{i}", receipt=f"q{i}")
        pub.send("/user/alice/topic/t", f"t{i}")
    for _ in range(N):
        pub.expect("RECEIPT")
    copies = []
    for s in sessions:
        got = collect(s, 2 * N)
        quiet(s)
        queue = [f for f in got if f.headers["subscription"] == "q"]
        topic = [f for f in got if f.headers["subscription"] == "t"]
        assert [f.body for f in queue] == [f"q{i}".encode() for i in range(N)], queue
        assert [f.body for f in topic] == [f"t{i}".encode() for i in range(N)], topic
        assert all(f.headers["destination"] == "/user/queue/n" for f in queue)
        copies.append([f.headers["message-id"] for f in queue + topic])
    assert copies[0] == copies[1], "the two sessions saw different message-ids"
    assert c.metric("cluster_envelopes_received_total") == 0, "node c got traffic"
    assert c.metric("cluster_channels_subscribed") == 0, "node c subscribed to something"
    assert c.metric("cluster_envelopes_published_total") >= 2 * N
    for s in sessions + [pub]:
        s.disconnect()


def offline_across_nodes(cl):
    a, b, c = cl.nodes
    pub = a.client("backend")
    for i in range(5):
        pub.send("/user/bob/queue/n", f"b{i}", receipt=f"b{i}")
    for _ in range(5):
        pub.expect("RECEIPT")
    pub.disconnect()
    bob = b.client("bob")
    bob.subscribe("/user/queue/n", "q", ack="client-individual", receipt="r")
    got = collect(bob, 5)
    assert [f.body for f in got] == [f"b{i}".encode() for i in range(5)], got
    for f in got:
        bob.send_frame("ACK", {"id": f.headers["ack"]})
    quiet(bob)
    bob.disconnect()
    time.sleep(1.0)  # the acks' removals reach Redis from node b's store thread
    again = c.client("bob")
    again.subscribe("/user/queue/n", "q", receipt="r")
    quiet(again, 1.0)
    again.disconnect()


def main():
    with Cluster(3) as cl:
        alice_on_two_nodes(cl)
        offline_across_nodes(cl)
        print("user routing across nodes and offline delivery: OK")


if __name__ == "__main__":
    main()
