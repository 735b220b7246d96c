"""cluster.user_queue_delivery: the durable user-queue guarantees hold across nodes.

1. Paced replay with live traffic from two other nodes: 300 messages of 20 KB are stored for
   bob from node a; bob subscribes on node b (ack:auto, 4 KiB receive buffer) and reads nothing
   for 2 s while publishers on nodes a and c each send 150 more, receipted. Then he reads: all
   600 arrive exactly once, each publisher's in its send order, with no ERROR and no cut (the
   replay and the live copies are paced by his connection, and copies from two nodes arriving
   out of seq order are handed out once).
2. prefetch-count across nodes: 40 stored from node a for carol; on node c with
   client-individual and prefetch-count:5 she gets 5, then nothing until she ACKs, then one per
   ACK.
3. A session cut mid-replay, resumed on another node: 1,000 stored for dave; on node b
   (client-individual) he ACKs 300 and is reset (RST); on node c (ack:auto) he gets exactly the
   700 he did not ACK, in order, and every one node b had delivered to him carries
   redelivered:true (the mark is shared through Redis).
"""

import threading
import time

from cluster_lib import Cluster, Closed, TcpStomp, quiet, wait_until

BIG = 20_000
STORED = 300
LIVE = 150


def send_all(node, login, destination, bodies):
    """SENDs every body with a receipt (at most 64 waiting) from a new session on `node`."""
    c = node.client(login)
    waiting = 0
    for i, body in enumerate(bodies):
        c.send(destination, body, receipt=f"r{i}")
        waiting += 1
        while waiting > 64:
            c.expect("RECEIPT", 30.0)
            waiting -= 1
    while waiting:
        c.expect("RECEIPT", 30.0)
        waiting -= 1
    c.disconnect()


def read_messages(conn, count, timeout=30.0):
    """`count` MESSAGE frames (fails on anything else, a close, or a gap of `timeout` s)."""
    out = []
    while len(out) < count:
        try:
            frame = conn.recv_frame(timeout)
        except (Closed, OSError) as e:
            raise AssertionError(f"closed by the broker after {len(out)} messages: {e!r}") from e
        assert frame is not None, f"got {len(out)} of {count} messages"
        assert frame.command == "MESSAGE", f"expected MESSAGE, got {frame!r} after {len(out)}"
        out.append(frame)
    return out


def paced_replay_with_live_traffic(cl):
    a, b, c = cl.nodes
    pad = "x" * BIG
    send_all(a, "backend", "/user/bob/queue/n", [f"s {i} {pad}" for i in range(STORED)])
    bob = TcpStomp(b.port, rcvbuf=4096)
    bob.connect(login="bob")
    bob.subscribe("/user/queue/n", "q", receipt="sub")
    publishers = [threading.Thread(target=send_all, args=(
        node, f"live-{node.name}", "/user/bob/queue/n",
        [f"{node.name} {i} {pad}" for i in range(LIVE)])) for node in (a, c)]
    for p in publishers:
        p.start()
    time.sleep(2.0)  # bob reads nothing meanwhile
    got = read_messages(bob, STORED + 2 * LIVE)
    for p in publishers:
        p.join(60)
    quiet(bob, 1.0)
    by_source = {}
    for f in got:
        source, number, _ = f.body.split(b" ", 2)
        by_source.setdefault(source.decode(), []).append(int(number))
    assert by_source["s"] == list(range(STORED)), f"stored ones: {by_source['s'][:20]}"
    for node in ("a", "c"):
        assert by_source[node] == list(range(LIVE)), f"live from {node}: {by_source[node][:20]}"
    bob.disconnect()
    print(f"paced replay: {len(got)} messages of {BIG} B, each once, none cut")


def prefetch_across_nodes(cl):
    a, _, c = cl.nodes
    send_all(a, "backend", "/user/carol/queue/n", [f"{i}" for i in range(40)])
    carol = c.client("carol")
    carol.subscribe("/user/queue/n", "q", ack="client-individual", receipt="sub",
                    **{"prefetch-count": "5"})
    first = read_messages(carol, 5)
    quiet(carol, 1.0)
    for expected, frame in enumerate(first):
        assert frame.body == str(expected).encode(), frame
    carol.send_frame("ACK", {"id": first[0].headers["ack"]})
    nxt = read_messages(carol, 1)
    assert nxt[0].body == b"5", nxt
    quiet(carol, 1.0)
    carol.disconnect()
    print("prefetch-count 5 across nodes: 5, then one per ACK")


def resumed_on_another_node(cl):
    a, b, c = cl.nodes
    send_all(a, "backend", "/user/dave/queue/n", [f"{i}" for i in range(1000)])
    first = TcpStomp(b.port)
    first.connect(login="dave")
    first.subscribe("/user/queue/n", "q", ack="client-individual", receipt="sub")
    seen = read_messages(first, 300)
    for frame in seen[:-1]:
        first.send_frame("ACK", {"id": frame.headers["ack"]})
    first.send_frame("ACK", {"id": seen[-1].headers["ack"], "receipt": "acked"})
    more = []
    while True:  # what node b wrote to him after the ACKs, up to the RECEIPT
        frame = first.recv_frame(10.0)
        assert frame is not None, "no RECEIPT for the last ACK"
        if frame.command == "RECEIPT":
            break
        more.append(int(frame.body))
    first.abort()
    wait_until(lambda: b.metric("sessions") == 0, what="node b let go of dave")
    time.sleep(1.0)  # the delivered marks reach Redis from node b's store thread
    second = c.client("dave")
    second.subscribe("/user/queue/n", "q", receipt="sub")
    rest = read_messages(second, 700)
    quiet(second, 1.0)
    numbers = [int(f.body) for f in rest]
    assert numbers == list(range(300, 1000)), f"expected 300..999, got {numbers[:20]}..."
    flagged = {int(f.body) for f in rest if f.headers.get("redelivered") == "true"}
    assert set(more) <= flagged, f"read on node b, not flagged: {sorted(set(more) - flagged)[:20]}"
    second.disconnect()
    print(f"resumed on node c: 700 of 1000, {len(flagged)} redelivered "
          f"({len(more)} had reached him on node b after his ACKs)")


def main():
    with Cluster(3) as cl:
        paced_replay_with_live_traffic(cl)
        prefetch_across_nodes(cl)
        resumed_on_another_node(cl)
        print("user_queue_delivery: OK")


if __name__ == "__main__":
    main()
