"""fault.budget_queues: issue #14 case 4, "queues are bounded by message count only". Before,
40 messages of 4 MiB to a /queue/ without consumers were all accepted (+113 MB). Now
`[queues] max_bytes` (default 64 MiB) bounds the bytes waiting in one queue like max_messages
bounds their number:

1. flow control (the default): the issue's 40 SENDs of (almost) 4 MiB; the publisher's
   RECEIPTs stop at the byte bound (its reading is paused: 16 of them, 64 MiB); RSS grows by about the bound; meanwhile
   another queue keeps flowing; a consumer arriving drains the queue, the publisher resumes,
   and every receipted message reaches it once, in order; the held bytes end at 0.
2. `[limits] flow_control = false` (queues.max_bytes = 8 MiB): the SEND that would pass the
   bound gets ERROR "queue full" naming queues.max_bytes, with its receipt-id.
"""

import threading
import time

from lib.broker import Broker, WorkDir
from lib.client import ReceiptReader, TcpStomp, consume_acked
from lib.metrics import metric, under_asan

MIB = 1024 * 1024
# The accepted maximum body is 4 MiB; less 1 KiB for the "m<seq> " prefix and headers.
BIG = 4 * MIB - 1024


def config(extra=""):
    return f"""
[limits]
send_rate = 0.0
{extra}
"""


def body(seq, size):
    head = f"m{seq} "
    return head + "q" * (size - len(head))


def small_queue_flows(broker):
    """Another queue, another publisher and consumer: not held up by the full one."""
    reader = TcpStomp(broker.tcp_port)
    reader.connect(login="reader")
    reader.subscribe("/queue/other", "o", receipt="sub")
    writer = TcpStomp(broker.tcp_port)
    writer.connect(login="writer")
    for i in range(20):
        writer.send("/queue/other", f"o{i}")
    got = [f.text() for f in reader.messages(limit=20, timeout=10.0)]
    assert got == [f"o{i}" for i in range(20)], got
    writer.disconnect()
    reader.disconnect()


def paused_at_the_bound(work):
    count = 40
    with Broker(work, config=config()).start() as broker:
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="publisher")
        base = broker.rss_kib()
        receipts = ReceiptReader(pub, count)
        receipts.start()
        sender = threading.Thread(target=lambda: [
            pub.send("/queue/big", body(i, BIG), receipt=f"m{i}") for i in range(count)],
            daemon=True)
        sender.start()
        deadline = time.monotonic() + 20
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:  # until the receipts stop for 2 s
            n = len(receipts.ids)
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since > 2.0:
                break
            time.sleep(0.05)
        paused_at = len(receipts.ids)
        grown = (broker.rss_kib() - base) / 1024
        held = metric(broker, "held_bytes")
        print(f"1. {count} SENDs of 4 MiB to a queue without consumers: {paused_at} receipted "
              f"before the publisher was paused, RSS +{grown:.1f} MiB, held bytes {held}")
        assert paused_at <= 17, f"{paused_at} x 4 MiB accepted: queues.max_bytes not applied"
        assert paused_at >= 15, f"paused early, at {paused_at}"
        if not under_asan(broker):
            assert grown < 80, f"RSS grew {grown:.1f} MiB: the 64 MiB bound + 16 MiB"
        small_queue_flows(broker)
        consumer, got = consume_acked(broker.tcp_port, "/queue/big", count)
        receipts.join(30)
        sender.join(30)
        print(f"   then a consumer: {len(got)} delivered, {len(receipts.ids)} receipted")
        assert receipts.error is None, receipts.error
        assert got == [f"m{i}" for i in range(count)], f"lost or reordered: {got}"
        assert pub.disconnect() and consumer.disconnect()
        time.sleep(0.2)
        held = metric(broker, "held_bytes")
        assert held in (None, 0.0), f"held bytes not released: {held}"


def refused_without_flow_control(work):
    cfg = config("flow_control = false\n[queues]\nmax_bytes = " + str(8 * MIB))
    with Broker(work, config=cfg).start() as broker:
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="publisher")
        error, accepted = None, 0
        for i in range(12):
            pub.send("/queue/big", body(i, MIB), receipt=f"m{i}")
            frame = pub.recv_frame(10.0)
            assert frame is not None, f"no answer to m{i}"
            if frame.command == "ERROR":
                error = frame
                break
            accepted += 1
        print(f"2. flow_control = false, max_bytes 8 MiB: {accepted} of 1 MiB accepted, then "
              f"{error.headers if error else 'no ERROR'}")
        assert error is not None, "12 MiB accepted into a queue bounded at 8 MiB"
        assert error.headers["message"] == "queue full", error
        assert "queues.max_bytes" in error.text(), error.text()
        assert error.headers.get("receipt-id") == f"m{accepted}", error
        assert accepted == 7, f"refused after {accepted}"
        pub.close()  # an open socket would hold the broker's shutdown for close_ms
        small_queue_flows(broker)


def main():
    with WorkDir() as work:
        paused_at_the_bound(work)
        refused_without_flow_control(work)
    print("budget_queues: OK")


if __name__ == "__main__":
    main()
