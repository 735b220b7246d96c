"""fault.budget_transactions: issue #14 case 2, "transactions hoard memory". A session BEGINs a
transaction and SENDs 1 MiB bodies into it, never COMMITting: before, 150 of them were all
accepted (+153 MB held by one session, bounded by frame count only). Now:

1. per transaction (limits.max_transaction_bytes, default 16 MiB): the SEND that would pass it
   gets ERROR "transaction too large" naming the knob, with its receipt-id, and the close; RSS
   grew by about the budget, not the 150 MiB sent; the held bytes are back to 0 after the close;
   another session's transaction commits and is delivered meanwhile.
2. open transactions per session (limits.max_transactions_per_session, default 16): the 17th
   BEGIN gets ERROR "too many transactions" naming the knob.
3. per session (limits.max_session_held_bytes): two transactions each under their own bound
   pass it together: ERROR "session holds too much" naming the knob.
"""

import time

from lib.broker import Broker, WorkDir
from lib.client import TcpStomp
from lib.metrics import metric, under_asan

MIB = 1024 * 1024
BODY = "t" * MIB


def config(extra=""):
    return f"""
[limits]
send_rate = 0.0
{extra}
"""


def hoard(conn, tx, count, prefix):
    """SENDs up to `count` 1 MiB bodies in `tx`, one at a time, each receipted. Returns
    (bodies accepted, the ERROR frame or None)."""
    for i in range(count):
        conn.send("/queue/hoard", BODY, receipt=f"{prefix}{i}", transaction=tx)
        frame = conn.recv_frame(20.0)
        assert frame is not None, f"no answer to SEND {prefix}{i}"
        if frame.command == "ERROR":
            return i, frame
        assert frame.command == "RECEIPT", frame
    return count, None


def begin(conn, tx):
    conn.send_frame("BEGIN", {"transaction": tx, "receipt": f"b-{tx}"})
    return conn.recv_frame(10.0)


def wait_held_zero(broker, timeout=5.0):
    deadline = time.monotonic() + timeout
    held = metric(broker, "held_bytes")
    while held not in (None, 0.0) and time.monotonic() < deadline:
        time.sleep(0.05)
        held = metric(broker, "held_bytes")
    return held


def others_still_commit(broker):
    """A well-behaved session's transaction to a queue another session consumes."""
    consumer = TcpStomp(broker.tcp_port)
    consumer.connect(login="reader")
    consumer.subscribe("/queue/fine", "s", receipt="sub")
    good = TcpStomp(broker.tcp_port)
    good.connect(login="good")
    assert begin(good, "g").command == "RECEIPT"
    for i in range(3):
        good.send("/queue/fine", f"fine{i}", transaction="g")
    good.send_frame("COMMIT", {"transaction": "g", "receipt": "c"})
    assert good.expect("RECEIPT").headers["receipt-id"] == "c"
    got = [f.text() for f in consumer.messages(limit=3, timeout=10.0)]
    assert got == ["fine0", "fine1", "fine2"], got
    good.disconnect()
    consumer.disconnect()


def per_transaction(work):
    with Broker(work, config=config()).start() as broker:
        hoarder = TcpStomp(broker.tcp_port)
        hoarder.connect(login="hoarder")
        base = broker.rss_kib()
        assert begin(hoarder, "t").command == "RECEIPT"
        accepted, error = hoard(hoarder, "t", 150, "h")
        grown = (broker.rss_kib() - base) / 1024
        print(f"1. per transaction: {accepted} SENDs of 1 MiB accepted in one transaction, RSS "
              f"+{grown:.1f} MiB, then {error.headers if error else 'no ERROR'}")
        assert error is not None, "150 MiB held by one open transaction, never refused"
        assert error.headers["message"] == "transaction too large", error
        assert "limits.max_transaction_bytes" in error.text(), error.text()
        assert error.headers.get("receipt-id") == f"h{accepted}", error
        assert accepted <= 16, f"{accepted} MiB accepted past a 16 MiB bound"
        if not under_asan(broker):
            assert grown < 64, f"RSS grew {grown:.1f} MiB"
        hoarder.close()  # an open socket would hold the broker's shutdown for close_ms
        held = wait_held_zero(broker)
        print(f"   held bytes after the close: {held}")
        assert held in (None, 0.0), f"held bytes not released: {held}"
        others_still_commit(broker)


def per_session_count(work):
    with Broker(work, config=config()).start() as broker:
        conn = TcpStomp(broker.tcp_port)
        conn.connect(login="opener")
        for i in range(16):
            assert begin(conn, f"t{i}").command == "RECEIPT", f"BEGIN t{i} refused"
        error = begin(conn, "t16")
        print(f"2. open transactions: 16 accepted, the 17th: {error.headers}")
        assert error.command == "ERROR", error
        assert error.headers["message"] == "too many transactions", error
        assert "limits.max_transactions_per_session" in error.text(), error.text()
        conn.close()
        others_still_commit(broker)


def per_session_bytes(work):
    cfg = config(f"max_transaction_bytes = {6 * MIB}\nmax_session_held_bytes = {10 * MIB}")
    with Broker(work, config=cfg).start() as broker:
        conn = TcpStomp(broker.tcp_port)
        conn.connect(login="spreader")
        assert begin(conn, "a").command == "RECEIPT"
        assert begin(conn, "b").command == "RECEIPT"
        first, error = hoard(conn, "a", 5, "a")
        assert first == 5 and error is None, (first, error)
        second, error = hoard(conn, "b", 5, "b")
        print(f"3. per session: 5 + {second} SENDs of 1 MiB in two transactions, then "
              f"{error.headers if error else 'no ERROR'}")
        assert error is not None, "two transactions passed max_session_held_bytes"
        assert error.headers["message"] == "session holds too much", error
        assert "limits.max_session_held_bytes" in error.text(), error.text()
        assert second == 4, f"refused after {second} in the second transaction"
        conn.close()
        held = wait_held_zero(broker)
        assert held in (None, 0.0), f"held bytes not released: {held}"


def main():
    with WorkDir() as work:
        per_transaction(work)
        per_session_count(work)
        per_session_bytes(work)
    print("budget_transactions: OK")


if __name__ == "__main__":
    main()
