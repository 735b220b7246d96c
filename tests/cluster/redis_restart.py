"""cluster.redis_restart: Redis stopped and started again mid-stream.

While Redis is down every node answers 503 on /readyz, local delivery goes on (a subscriber on
the publishing node still gets its topic messages), the copies for other nodes are lost and
counted (cluster_publish_errors_total), and a durable SEND gets ERROR, not a RECEIPT. Once
Redis is back (same port, same AOF dir) the nodes reconnect by themselves, resubscribe, answer
200 again, and topic and user traffic crosses nodes as before.

/queue/ too: a SEND during the outage gets ERROR; an ACK given during the outage reaches Redis
once it is back (the entry is deleted, not redelivered); the consumer gets new messages again.
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


def queue_round(pub, worker, tag):
    pub.send("/queue/work", f"{tag}-queue", receipt=f"{tag}-q")
    pub.expect("RECEIPT")
    frames = collect(worker, 1)
    assert [f.body for f in frames] == [f"{tag}-queue".encode()]
    return frames[0]


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
        worker = b.client("worker")
        worker.subscribe("/queue/work", "w", ack="client-individual", receipt="r")
        cross_node_round(cl, pub, local, remote, erin, "before")
        worker.send_frame("ACK", {"id": queue_round(pub, worker, "before").headers["ack"]})
        held = queue_round(pub, worker, "held")  # acknowledged only while Redis is down

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
        durable = a.client("backend3")  # the ERROR closed the other
        durable.send("/queue/work", "lost", receipt="lost-q")
        frame = durable.recv_frame(15.0)
        assert frame is not None and frame.command == "ERROR", f"expected ERROR, got {frame!r}"
        durable.close()
        worker.send_frame("ACK", {"id": held.headers["ack"]})

        cl.redis.start()
        for n in cl.nodes:
            wait_until(n.ready, 30.0, f"node {n.name} ready again")
        assert a.metric("cluster_redis_up") == 1
        cross_node_round(cl, pub, local, remote, erin, "after")
        worker.send_frame("ACK", {"id": queue_round(pub, worker, "after").headers["ack"]})
        wait_until(lambda: cl.redis.xlen("stompbox:0:q:/queue/work") == 0,
                   what="the ACK given during the outage to delete its entry")
        for client in (remote, erin, worker):
            quiet(client)  # "during" never crossed, "lost" was never stored, "held" was acked
        for client in (local, remote, erin, pub, worker):
            client.disconnect()
        print("redis restart: 503 while down, ERROR for durable SENDs (user queue and /queue/), "
              "an ACK given during the outage applied after it, traffic resumed: OK")


if __name__ == "__main__":
    main()
