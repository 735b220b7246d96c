"""cluster.topic_fanout: a SEND on one node reaches topic subscribers on every node, exactly once
per subscription, with the same message-id everywhere (exact and wildcard subscriptions).

Node a: exact /topic/news.uk.  Node b: wildcard /topic/news.* and exact /topic/other.
Node c: one session with both /topic/news.uk and /topic/news.# (two subscriptions: one copy
each). The publisher on node a sends 20 text messages and one binary one to /topic/news.uk and
one to /topic/news.fr, then /topic/news (only `#` matches zero segments) and /topic/newsroom
(the Redis glob for news.# matches it, the exact STOMP filter on the receiving node must not).
"""

from cluster_lib import Cluster, collect, quiet, wait_until

N = 20
BINARY = bytes(range(256)) + b"\0\0end"


def main():
    with Cluster(3) as cl:
        a, b, c = cl.nodes
        sub_a = a.client("ann")
        sub_a.subscribe("/topic/news.uk", "exact", receipt="r")
        sub_b = b.client("bob")
        sub_b.subscribe("/topic/news.*", "star", receipt="r1")
        sub_b.subscribe("/topic/other", "other", receipt="r2")
        sub_c = c.client("cat")
        sub_c.subscribe("/topic/news.uk", "exact", receipt="r1")
        sub_c.subscribe("/topic/news.#", "hash", receipt="r2")
        # Redis must have taken every subscription before the first SEND.
        wait_until(lambda: cl.redis.numsub("stompbox:0:t:/topic/news.uk") == 2, what="NUMSUB 2")
        wait_until(lambda: cl.redis.numpat() == 2, what="NUMPAT 2")

        pub = a.client("pub")
        for i in range(N):
            pub.send("/topic/news.uk", f"m{i}")
        pub.send("/topic/news.uk", BINARY, **{"content-type": "application/octet-stream"})
        pub.send("/topic/news.fr", "fr")
        pub.send("/topic/newsroom", "near miss")
        pub.send("/topic/news", "root", receipt="done")
        pub.expect("RECEIPT")

        got_a = collect(sub_a, N + 1)
        got_b = collect(sub_b, N + 2)
        got_c = collect(sub_c, 2 * (N + 1) + 2)
        for client in (sub_a, sub_b, sub_c):
            quiet(client)

        uk = [f"m{i}".encode() for i in range(N)] + [BINARY]
        assert [f.body for f in got_a] == uk, "node a: wrong bodies or order"
        assert [f.body for f in got_b] == uk + [b"fr"], "node b: wrong bodies or order"
        assert all(f.headers["subscription"] == "star" for f in got_b)
        by_sub = {"exact": [], "hash": []}
        for f in got_c:
            by_sub[f.headers["subscription"]].append(f)
        assert [f.body for f in by_sub["exact"]] == uk, "node c exact: wrong bodies"
        assert [f.body for f in by_sub["hash"]] == uk + [b"fr", b"root"], "node c #: wrong bodies"
        ids = [f.headers["message-id"] for f in got_a]
        assert len(set(ids)) == len(ids)
        for frames in (got_b[:N + 1], by_sub["exact"], by_sub["hash"][:N + 1]):
            assert [f.headers["message-id"] for f in frames] == ids, "message-id changed"
        assert got_b[-1].headers["destination"] == "/topic/news.fr"
        assert a.metric("cluster_envelopes_received_total") == 0, "a got its own envelopes"
        # c hears news.uk twice (its channel and its news* pattern: Redis sends both), the rest
        # once; each copy still reached exactly one subscription.
        received = c.metric("cluster_envelopes_received_total")
        assert received == 2 * (N + 1) + 3, f"c received {received} envelopes"
        print(f"topic fan-out: {N + 4} messages, 3 nodes, 5 subscriptions: OK")
        for client in (sub_a, sub_b, sub_c, pub):
            client.disconnect()


if __name__ == "__main__":
    main()
