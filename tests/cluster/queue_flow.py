"""cluster.queue_flow: a clustered /queue/ pauses its publisher at the bound, as a local one
does (issue #17; the local queue's flow control is issue #14, fault.budget_queues).

1. Flow control (the default), `[queues] max_messages = 20`, two nodes, no consumer anywhere:
   a publisher on node a sends receipted SENDs one at a time. Before, the 21st got ERROR
   "queue full"; now 20 (21: the read in flight when the 20th's append answered "full") are
   receipted, then reading from the publisher pauses (the next SEND gets neither RECEIPT nor
   ERROR) with as many entries in the stream. A consumer on
   node b then drains the queue: the publisher resumes (the stream fell to 90% of the bound),
   and the consumer gets all messages once, in order, none lost.
2. `[limits] flow_control = false` on a third node: its 21st SEND gets ERROR "queue full" with
   its receipt-id, the publisher is never paused.
"""

import threading
import time

from cluster_lib import Cluster, Node, collect, quiet, wait_until

BOUND = 20
TOTAL = 50
STREAM = "stompbox:0:q:/queue/flow"


def send_until_paused(pub, prefix, limit):
    """Sends one SEND at a time, each waiting for its RECEIPT; returns (receipts, frame) when a
    SEND gets no answer within 2 s (frame None: paused) or an ERROR (frame: the ERROR)."""
    for i in range(limit):
        pub.send("/queue/flow", f"{prefix}{i}", receipt=f"{prefix}{i}")
        frame = pub.recv_frame(2.0)
        if frame is None or frame.command != "RECEIPT":
            return i, frame
        assert frame.headers["receipt-id"] == f"{prefix}{i}", frame
    return limit, None


class Resumer(threading.Thread):
    """Waits for the RECEIPT of the SEND the publisher is paused on, then sends the rest one
    at a time, each receipted."""

    def __init__(self, pub, first):
        super().__init__(daemon=True)
        self.pub, self.first, self.error, self.resumed_at = pub, first, None, None

    def run(self):
        try:
            frame = self.pub.recv_frame(30.0)
            assert frame is not None and frame.command == "RECEIPT", frame
            self.resumed_at = time.monotonic()
            for i in range(self.first + 1, TOTAL):
                self.pub.send("/queue/flow", f"m{i}", receipt=f"m{i}")
                frame = self.pub.recv_frame(20.0)
                assert frame is not None and frame.command == "RECEIPT", frame
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = e


def paused_then_drained(cl, a, b):
    pub = a.client("backend")
    receipted, frame = send_until_paused(pub, "m", TOTAL)
    print(f"1. no consumer, max_messages {BOUND}: {receipted} receipted, then "
          f"{'nothing (paused)' if frame is None else frame}")
    assert frame is None, f"SEND m{receipted} answered {frame!r} instead of pausing"
    # The pause comes with the append's answer, after the RECEIPT: the read already waiting
    # on the socket then takes one more SEND (as a local queue's "at most one read each").
    assert receipted in (BOUND, BOUND + 1), \
        f"paused after {receipted} receipts, not at the bound {BOUND}"
    assert cl.redis.xlen(STREAM) == receipted, cl.redis.xlen(STREAM)
    assert a.metric("paused_publishers") == 1.0
    resumer = Resumer(pub, receipted)
    resumer.start()
    worker = b.client("worker")
    worker.subscribe("/queue/flow", "s", ack="client-individual", receipt="r",
                     **{"prefetch-count": "5"})
    got = []
    deadline = time.monotonic() + 40
    while len(got) < TOTAL:
        assert time.monotonic() < deadline, f"consumer got {len(got)} of {TOTAL}"
        for f in collect(worker, 1, timeout=20.0):
            got.append(f.body.decode())
            worker.send_frame("ACK", {"id": f.headers["ack"]})
    resumer.join(30)
    assert resumer.error is None, resumer.error
    assert got == [f"m{i}" for i in range(TOTAL)], f"lost, twice or out of order: {got}"
    quiet(worker, 0.5)
    wait_until(lambda: cl.redis.xlen(STREAM) == 0, 10.0, "the stream to empty")
    assert a.metric("paused_publishers") == 0.0
    worker.disconnect()
    pub.disconnect()
    print(f"   a consumer on node b: the publisher resumed, {TOTAL} of {TOTAL} delivered once, "
          "in order: OK")


def refused_without_flow_control(cl, workdir):
    c = Node(workdir, "c", cl.redis.url,
             f"[queues]\nmax_messages = {BOUND}\n[limits]\nflow_control = false\n").start()
    cl.nodes.append(c)  # stopped (and checked) with the others
    wait_until(c.ready, 20.0, "node c ready")
    pub = c.client("backend")
    receipted, frame = 0, None
    for i in range(TOTAL):
        pub.send("/queue/refused", f"n{i}", receipt=f"n{i}")
        frame = pub.recv_frame(5.0)
        assert frame is not None, f"n{i}: no answer (paused without flow control?)"
        if frame.command != "RECEIPT":
            break
        receipted += 1
    print(f"2. flow_control = false: {receipted} receipted, then {frame.command} "
          f"{frame.headers.get('message')}")
    assert frame.command == "ERROR" and frame.headers["message"] == "queue full", frame
    assert frame.headers.get("receipt-id") == f"n{BOUND}", frame
    assert receipted == BOUND, receipted
    pub.close()


def main():
    with Cluster(2, cluster_config=f"[queues]\nmax_messages = {BOUND}\n") as cl:
        a, b = cl.nodes
        paused_then_drained(cl, a, b)
        refused_without_flow_control(cl, cl.work.path)
    print("queue_flow: OK")


if __name__ == "__main__":
    main()
