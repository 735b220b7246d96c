"""cluster.queue_script_flush: the shared queue's Lua scripts go as EVALSHA once their text
went on the connection, and their text again when Redis answers NOSCRIPT (issue #17). Before,
every append, acknowledgement and renewal sent the whole script text with EVAL.

A publisher on node a sends 40 messages to /queue/s on a fresh Redis without waiting for their
receipts (pipelined: the first appends of a script must not overtake each other; they did when
each was sent as EVALSHA, answered NOSCRIPT and sent again behind the later ones), a consumer on
node b takes and acknowledges them; then `SCRIPT FLUSH` empties Redis' script cache and 40 more
go one at a time: all 80 arrive once, in order; Redis counted at least 160 EVALSHA calls (one
append and one acknowledgement each) and only a handful of EVAL calls (each script's first use
on a connection, and its text after a NOSCRIPT); node a's and node b's
`cluster_queue_script_loads_total` count the texts sent, and grow after the flush.
"""

import re
import time

from cluster_lib import Cluster, Resp, collect, quiet

PER_ROUND = 40


def command_calls(redis):
    """{command: calls} from INFO commandstats."""
    r = Resp(redis.port)
    try:
        text = r.command("INFO", "commandstats").decode()
    finally:
        r.close()
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^cmdstat_([a-z|]+):calls=(\d+)", text, re.M)}


def redis_command(redis, *args):
    r = Resp(redis.port)
    try:
        return r.command(*args)
    finally:
        r.close()


def round_trip(pub, worker, first, pipelined=False):
    bodies = [f"s{i}" for i in range(first, first + PER_ROUND)]
    for body in bodies:
        pub.send("/queue/s", body, receipt=body)
        if not pipelined:
            frame = pub.recv_frame(10.0)
            assert frame is not None and frame.command == "RECEIPT", frame
    if pipelined:
        receipts = [pub.recv_frame(10.0) for _ in bodies]
        assert all(f is not None and f.command == "RECEIPT" for f in receipts), receipts
    got = []
    while len(got) < PER_ROUND:  # acknowledged as they come: the prefetch is 10
        f = collect(worker, 1)[0]
        got.append(f.body.decode())
        worker.send_frame("ACK", {"id": f.headers["ack"]})
    assert got == bodies, f"lost, twice or out of order: {got}"


def texts_sent(*nodes):
    return sum(n.metric("cluster_queue_script_loads_total") for n in nodes)


def settled_counts(redis, *nodes, timeout=5.0):
    """Redis' command counts and the nodes' texts sent, read when neither moves between two
    reads: a node's periodic claim or renewal may send a script's text for the first time
    between reading one and the other, and a text is counted by the node when sent but by
    Redis only once it ran."""
    deadline = time.monotonic() + timeout
    while True:
        before = texts_sent(*nodes)
        calls = command_calls(redis)
        after = texts_sent(*nodes)
        if (before == after and calls.get("eval", 0) == after) or time.monotonic() > deadline:
            return calls, after
        time.sleep(0.05)


def main():
    with Cluster(2) as cl:
        a, b = cl.nodes
        worker = b.client("worker")
        worker.subscribe("/queue/s", "s", ack="client-individual", receipt="r",
                         **{"prefetch-count": "10"})
        pub = a.client("backend")
        round_trip(pub, worker, 0, pipelined=True)
        before_flush = texts_sent(a, b)
        assert redis_command(cl.redis, "SCRIPT", "FLUSH") == "OK"
        round_trip(pub, worker, PER_ROUND)
        quiet(worker, 0.5)
        calls, loads = settled_counts(cl.redis, a, b)
        evalsha, evals = calls.get("evalsha", 0), calls.get("eval", 0)
        print(f"{2 * PER_ROUND} messages, SCRIPT FLUSH half-way: EVALSHA {evalsha}, EVAL "
              f"{evals}, script texts sent by the nodes {before_flush:.0f} before the flush, "
              f"{loads:.0f} in all")
        assert evalsha + evals >= 4 * PER_ROUND, calls
        assert loads >= before_flush + 2, \
            "SCRIPT FLUSH went unnoticed: no script sent again after NOSCRIPT"
        assert evals == loads, f"EVAL {evals} times for {loads:.0f} texts the nodes sent"
        # At most what was in flight when Redis forgot (pipelined ACKs: up to the prefetch),
        # per round; before, every call was an EVAL.
        assert evals <= PER_ROUND, f"EVAL {evals} times: script text sent too often"
        worker.disconnect()
        pub.disconnect()
    print("queue_script_flush: OK")


if __name__ == "__main__":
    main()
