"""fault.budget_server: the server-wide budget of held bytes (`[limits] max_held_bytes`, here
8 MiB, under the default queues.max_bytes of 64 MiB so only it bounds). Before, nothing bounded
the sum: a publisher to a queue without consumers was accepted to the end. Now, as RabbitMQ's
memory alarm:

1. flow control: the publisher's RECEIPTs stop at about the budget (its reading is paused);
   live topic traffic of other clients keeps flowing meanwhile; /metrics shows held_bytes,
   held_bytes_limit and budget_pauses_total; a consumer drains the queue, the budget is relieved
   (under 90%), the publisher resumes within about a second (broker::tick) and every receipted
   message is delivered once, in order; held_bytes ends at 0.
2. partial frames: while the budget is over, a peer sending half of a big frame is paused, then
   refused (ERROR "server memory full" naming limits.max_held_bytes, close) after about 5 s; the
   paused publisher of complete SENDs is not refused and resumes once the queue is drained.
3. `[limits] flow_control = false`: past the budget, ERROR "server memory full" naming
   limits.max_held_bytes and the close; every receipted message is still delivered.
"""

import threading
import time

from lib.broker import Broker, WorkDir
from lib.client import ReceiptReader, TcpStomp, consume_acked
from lib.frames import encode
from lib.metrics import metric

MIB = 1024 * 1024
BUDGET = 8 * MIB  # two frames of the accepted maximum: small, so the test is quick


def config(extra=""):
    return f"""
[limits]
send_rate = 0.0
max_held_bytes = {BUDGET}
{extra}
"""


def body(seq, size=MIB):
    head = f"m{seq} "
    return head + "s" * (size - len(head))


def start_publisher(broker, count):
    pub = TcpStomp(broker.tcp_port)
    pub.connect(login="publisher")
    receipts = ReceiptReader(pub, count)
    receipts.start()
    sender = threading.Thread(target=lambda: [
        pub.send("/queue/held", body(i), receipt=f"m{i}") for i in range(count)], daemon=True)
    sender.start()
    return pub, receipts, sender


def wait_still(receipts, quiet_s=2.0, timeout=20.0):
    """Until no RECEIPT came for quiet_s; returns how many came."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = len(receipts.ids)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > quiet_s:
            break
        time.sleep(0.05)
    return len(receipts.ids)


def live_traffic_flows(broker):
    reader = TcpStomp(broker.tcp_port)
    reader.connect(login="reader")
    reader.subscribe("/topic/live", "t", receipt="sub")
    writer = TcpStomp(broker.tcp_port)
    writer.connect(login="writer")
    for i in range(20):
        writer.send("/topic/live", f"l{i}", receipt=f"l{i}" if i == 19 else None)
    assert writer.expect("RECEIPT").headers["receipt-id"] == "l19"
    got = [f.text() for f in reader.messages(limit=20, timeout=10.0)]
    assert got == [f"l{i}" for i in range(20)], got
    writer.disconnect()
    reader.disconnect()


def drain(broker, count):
    return consume_acked(broker.tcp_port, "/queue/held", count)


def wait_metric(broker, name, want, timeout=5.0):
    deadline = time.monotonic() + timeout
    value = metric(broker, name)
    while value != want and time.monotonic() < deadline:
        time.sleep(0.05)
        value = metric(broker, name)
    return value


def paused_and_resumed(work):
    count = 20
    with Broker(work, config=config()).start() as broker:
        pub, receipts, sender = start_publisher(broker, count)
        paused_at = wait_still(receipts)
        held, limit = metric(broker, "held_bytes"), metric(broker, "held_bytes_limit")
        pauses = metric(broker, "budget_pauses_total")
        print(f"1. {count} SENDs of 1 MiB, budget {BUDGET // MIB} MiB: {paused_at} receipted "
              f"before the pause; held_bytes {held}, limit {limit}, budget pauses {pauses}")
        assert paused_at < count, "the publisher was never paused: max_held_bytes not applied"
        assert 6 <= paused_at <= 9, f"paused at {paused_at} MiB, budget {BUDGET // MIB} MiB"
        assert limit == BUDGET, limit
        assert held is not None and BUDGET < held < BUDGET + 2 * MIB, held
        assert pauses and pauses >= 1, pauses
        live_traffic_flows(broker)
        consumer, got = drain(broker, count)
        receipts.join(30)
        sender.join(30)
        print(f"   then a consumer: {len(got)} delivered, {len(receipts.ids)} receipted")
        assert receipts.error is None, receipts.error
        assert got == [f"m{i}" for i in range(count)], f"lost or reordered: {got[:5]}..."
        assert pub.disconnect() and consumer.disconnect()
        held = wait_metric(broker, "held_bytes", 0.0)
        assert held == 0.0, f"held bytes not released: {held}"


def partial_frame_refused(work):
    count = 12
    with Broker(work, config=config()).start() as broker:
        pub, receipts, sender = start_publisher(broker, count)
        paused_at = wait_still(receipts)
        assert paused_at < count, "the publisher was never paused"
        half = TcpStomp(broker.tcp_port)
        half.connect(login="half")
        frame = encode("SEND", {"destination": "/queue/other"},
                       b"h" * (2 * MIB))
        started = time.monotonic()
        half.send_bytes(frame[: MIB // 2])  # half a frame, then nothing
        error = half.recv_frame(15.0)
        waited = time.monotonic() - started
        print(f"2. half a 2 MiB frame while the budget is over: {error.headers if error else None}"
              f" after {waited:.1f} s; the paused publisher has {len(receipts.ids)} receipts, "
              f"error {receipts.error}")
        assert error is not None and error.command == "ERROR", error
        assert error.headers["message"] == "server memory full", error
        assert "limits.max_held_bytes" in error.text(), error.text()
        assert waited >= 3.0, f"refused after {waited:.1f} s: no patience"
        half.close()  # an open socket would hold the broker's shutdown for close_ms
        assert receipts.error is None, f"the publisher of complete SENDs: {receipts.error}"
        consumer, got = drain(broker, count)
        receipts.join(30)
        assert receipts.error is None, receipts.error
        assert got == [f"m{i}" for i in range(count)], f"lost or reordered: {got[:5]}..."
        assert pub.disconnect() and consumer.disconnect()
        held = wait_metric(broker, "held_bytes", 0.0)
        assert held == 0.0, f"held bytes not released: {held}"


def refused_without_flow_control(work):
    with Broker(work, config=config("flow_control = false")).start() as broker:
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="publisher")
        error, accepted = None, 0
        for i in range(16):
            pub.send("/queue/held", body(i), receipt=f"m{i}")
            frame = pub.recv_frame(10.0)
            assert frame is not None, f"no answer to m{i}"
            if frame.command == "ERROR":
                error = frame
                break
            accepted += 1
        print(f"3. flow_control = false: {accepted} of 1 MiB accepted, then "
              f"{error.headers if error else 'no ERROR'}")
        assert error is not None, "16 MiB held past an 8 MiB budget"
        assert error.headers["message"] == "server memory full", error
        assert "limits.max_held_bytes" in error.text(), error.text()
        assert 6 <= accepted <= 9, accepted
        pub.close()
        live_traffic_flows(broker)
        consumer, got = drain(broker, accepted)
        assert got == [f"m{i}" for i in range(accepted)], got[:5]
        consumer.disconnect()


def main():
    with WorkDir() as work:
        paused_and_resumed(work)
        partial_frame_refused(work)
        refused_without_flow_control(work)
    print("budget_server: OK")


if __name__ == "__main__":
    main()
