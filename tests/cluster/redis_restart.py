"""cluster.redis_restart: Redis stopped and started again mid-stream.

While Redis is down every node answers 503 on /readyz, local delivery goes on (a subscriber on
the publishing node still gets its topic messages), the copies for other nodes are lost and
counted (cluster_publish_errors_total), and a durable SEND gets ERROR, not a RECEIPT. Once
Redis is back (same port, same AOF dir) the nodes reconnect by themselves, resubscribe, answer
200 again, and topic and user traffic crosses nodes as before.
"""

from cluster_lib import Cluster, collect, quiet, wait_until


def cross_node_round(cl, pub, local, remote, erin, tag):
    a, b, c = cl.nodes
    wait_until(lambda: cl.redis.numsub("stompbox:0:t:/topic/live") == 2, what="topic channel x2")
    wait_until(lambda: cl.redis.numsub("stompbox:0:u:erin") == 1, what="erin's channel")
    pub.send("/topic/live", f"{tag}-topic", receipt=f"{tag}-t")
    pub.expect("RECEIPT")
    pub.send("/user/erin/queue/n", f"{tag}-durable", receipt=f"{tag}-d")
    pub.expect("RECEIPT")
    for client in (local, remote):
        assert [f.body for f in collect(client, 1)] == [f"{tag}-topic".encode()]
    assert [f.body for f in collect(erin, 1)] == [f"{tag}-durable".encode()]


def main():
    with Cluster(3) as cl:
        a, b, c = cl.nodes
        local = a.client("ann")
        local.subscribe("/topic/live", "t", receipt="r")
        remote = b.client("bob")
        remote.subscribe("/topic/live", "t", receipt="r")
        erin = c.client("erin")
        erin.subscribe("/user/queue/n", "q", receipt="r")
        pub = a.client("backend")
        cross_node_round(cl, pub, local, remote, erin, "before")

        cl.redis.stop()
        for n in cl.nodes:
            wait_until(lambda n=n: not n.ready(), what=f"node {n.name} /readyz 503")
        assert a.metric("cluster_redis_up") == 0
        pub.send("/topic/live", "during", receipt="during")
        pub.expect("RECEIPT")
        assert [f.body for f in collect(local, 1)] == [b"during"], "local delivery stopped"
        wait_until(lambda: a.metric("cluster_publish_errors_total") >= 1, what="publish error")
        durable = a.client("backend2")
        durable.send("/user/erin/queue/n", "lost", receipt="lost")
        frame = durable.recv_frame(15.0)
        assert frame is not None and frame.command == "ERROR", f"expected ERROR, got {frame!r}"
        durable.close()

        cl.redis.start()
        for n in cl.nodes:
            wait_until(n.ready, 30.0, f"node {n.name} ready again")
        assert a.metric("cluster_redis_up") == 1
        cross_node_round(cl, pub, local, remote, erin, "after")
        for client in (remote, erin):
            quiet(client)  # "during" never crossed, "lost" was never stored
        for client in (local, remote, erin, pub):
            client.disconnect()
        print("redis restart: 503 while down, ERROR for durable SENDs, traffic resumed: OK")


if __name__ == "__main__":
    main()
