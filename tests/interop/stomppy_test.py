#!/usr/bin/python3
"""stomp.py (Debian's python3-stomp, 8.x) against the real stompbox binary over plain TCP.

Each of Connection10, Connection11 and Connection12 connects, subscribes (with a receipt),
sends (with a receipt), receives, acknowledges the way its protocol version defines ACK, and
disconnects with a receipt. Connection12 sends STOMP with host = the TCP host; Connection11
sends STOMP without host; Connection10 sends CONNECT with accept-version:1.0.
Run with /usr/bin/python3 (Debian's packages); exit code 0 on success.
"""

import os
import queue
import sys
import threading
import time
import traceback
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

import stomp  # noqa: E402  (Debian python3-stomp)
from broker import Broker  # noqa: E402

WAIT_S = 10.0


class Recorder(stomp.ConnectionListener):
    """Queues everything the connection reports so the test can await it in order."""

    def __init__(self):
        self.connected = queue.Queue()
        self.messages = queue.Queue()
        self.receipts = queue.Queue()
        self.errors = []
        self.heartbeats = 0
        self.heartbeat_timeouts = 0
        self.disconnected = threading.Event()

    def on_connected(self, frame):
        self.connected.put(frame)

    def on_message(self, frame):
        self.messages.put(frame)

    def on_receipt(self, frame):
        self.receipts.put(frame.headers.get("receipt-id"))

    def on_error(self, frame):
        self.errors.append(frame)

    def on_heartbeat(self):
        self.heartbeats += 1

    def on_heartbeat_timeout(self):
        self.heartbeat_timeouts += 1

    def on_disconnected(self):
        self.disconnected.set()


def take(q, what):
    try:
        return q.get(timeout=WAIT_S)
    except queue.Empty:
        raise AssertionError(f"no {what} within {WAIT_S} s") from None


def expect_receipt(rec, receipt_id):
    got = take(rec.receipts, f"RECEIPT {receipt_id}")
    assert got == receipt_id, f"expected RECEIPT {receipt_id}, got {got}"


def open_connection(broker, cls, **kwargs):
    conn = cls([(broker.host, broker.tcp_port)], **kwargs)
    rec = Recorder()
    conn.set_listener("recorder", rec)
    conn.connect("dave", "any", wait=True)
    return conn, rec, take(rec.connected, "CONNECTED")


def subscribe(conn, version, dest, sub_id, ack):
    if version == "1.0":
        conn.subscribe(dest, id=sub_id, ack=ack, receipt="sub")
    else:
        conn.subscribe(dest, sub_id, ack=ack, receipt="sub")


def ack(conn, version, msg, sub_id):
    """ACK as each version defines it: 1.0 message-id; 1.1 + subscription; 1.2 the ack id."""
    if version == "1.0":
        conn.ack(msg.headers["message-id"], receipt="ack")
    elif version == "1.1":
        conn.ack(msg.headers["message-id"], sub_id, receipt="ack")
    else:
        assert "ack" in msg.headers, f"1.2 MESSAGE in client mode lacks ack header: {msg.headers}"
        conn.ack(msg.headers["ack"], receipt="ack")


def exercise(broker, cls, version):
    """Connect, subscribe, send, receive, ack and disconnect with one protocol version."""
    conn, rec, connected = open_connection(broker, cls)
    assert connected.cmd == "CONNECTED", connected.cmd
    assert connected.headers.get("version", "1.0") == version, connected.headers
    assert connected.headers.get("session"), f"no session header: {connected.headers}"

    dest = f"/queue/stomppy-{version}-{uuid.uuid4().hex[:8]}"
    sub_id = f"sub-{version}"
    subscribe(conn, version, dest, sub_id, "client")
    expect_receipt(rec, "sub")
    body = f"hello from stomp.py {version}"
    conn.send(dest, body, headers={"x-client": "stomp.py", "receipt": "send"})
    expect_receipt(rec, "send")

    msg = take(rec.messages, "MESSAGE")
    assert msg.cmd == "MESSAGE", msg.cmd
    assert msg.body == body, msg.body
    assert msg.headers["destination"] == dest, msg.headers
    assert msg.headers.get("message-id"), msg.headers
    assert msg.headers.get("x-client") == "stomp.py", msg.headers
    if version != "1.0":
        assert msg.headers.get("subscription") == sub_id, msg.headers

    ack(conn, version, msg, sub_id)
    expect_receipt(rec, "ack")

    conn.disconnect(receipt="bye")
    expect_receipt(rec, "bye")
    assert rec.disconnected.wait(WAIT_S), "socket not closed after DISCONNECT receipt"
    assert not rec.errors, f"ERROR frames: {[(e.headers, e.body) for e in rec.errors]}"


def heartbeats(broker):
    """STOMP 1.2 over TCP with 1 s heart-beats both ways stays up while idle."""
    conn, rec, connected = open_connection(broker, stomp.Connection12, heartbeats=(1000, 1000))
    sx, _sy = (int(v) for v in connected.headers["heart-beat"].split(","))
    assert sx > 0, f"broker offers no heart-beats: {connected.headers}"
    time.sleep(max(4.0, 2 * max(1.0, sx / 1000.0) + 1.0))
    assert conn.is_connected(), "connection dropped while idle"
    assert rec.heartbeat_timeouts == 0, "stomp.py saw a heart-beat timeout"
    assert rec.heartbeats >= 1, "no heart-beat received from the broker"
    conn.disconnect(receipt="bye")
    expect_receipt(rec, "bye")


def main():
    scenarios = [
        ("Connection10", lambda b: exercise(b, stomp.Connection10, "1.0")),
        ("Connection11", lambda b: exercise(b, stomp.Connection11, "1.1")),
        ("Connection12", lambda b: exercise(b, stomp.Connection12, "1.2")),
        ("Connection12 heart-beats", heartbeats),
    ]
    failures = 0
    with Broker() as broker:
        for name, run in scenarios:
            try:
                run(broker)
                print(f"ok - {name}", flush=True)
            except Exception:  # report every scenario, fail at the end
                failures += 1
                print(f"not ok - {name}\n{traceback.format_exc()}", flush=True)
        if failures:
            print(f"--- stompbox output ---\n{broker.output()}")
    print(f"stomp.py {stomp.__version__}: {len(scenarios) - failures}/{len(scenarios)} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
