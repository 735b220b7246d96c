"""fault.big_message_readers: one frame of the accepted maximum reaches readers that read.

A plain user SENDs one body of limits.max_body_bytes (4 MiB, the default maximum) with a
receipt. queues.max_pending_bytes is 4 MiB too, so before the pending cap measured what waits
behind the frame in flight, every reader was cut with ERROR "slow consumer":
  1. /topic/x with 3 subscribers: each gets the whole body, nobody gets ERROR;
  2. /queue/x with one consumer: it gets the big message, then a small one sent behind it (the
     queue keeps moving);
  3. the publish API (POST /api/v1/publish) to /user/alice/queue/n with alice subscribed: she
     gets it, then a small one behind it.
  4. case 1 again with slow_consumer_policy = "drop_oldest" (which used to drop the big MESSAGE).
"""

import sys

from lib.broker import Broker, WorkDir
from lib.client import TcpStomp, api_publish

BIG = 4 * 1024 * 1024
DROP_OLDEST = '[queues]\nslow_consumer_policy = "drop_oldest"\n'


def expect_message(conn, who, size, timeout=20.0):
    frame = conn.recv_frame(timeout)
    assert frame is not None, f"{who}: no MESSAGE within {timeout} s"
    assert frame.command == "MESSAGE", \
        f"{who}: expected a MESSAGE of {size} bytes, got {frame.command} {frame.headers}"
    assert len(frame.body) == size, f"{who}: expected {size} body bytes, got {len(frame.body)}"
    return frame


def topic_case(broker):
    subs = []
    for i in range(3):
        s = TcpStomp(broker.tcp_port)
        s.connect(login=f"reader{i}")
        s.subscribe("/topic/x", "t", receipt="sub")
        subs.append(s)
    pub = TcpStomp(broker.tcp_port)
    pub.connect(login="plain")
    pub.send("/topic/x", b"x" * BIG, receipt="big")
    pub.expect("RECEIPT", timeout=20.0)
    for i, s in enumerate(subs):
        expect_message(s, f"topic reader{i}", BIG)
        assert s.disconnect(), f"topic reader{i}: no RECEIPT for DISCONNECT (cut?)"
    print(f"topic: 3 readers got {BIG} bytes each, no ERROR")
    assert pub.disconnect()


def queue_case(broker):
    consumer = TcpStomp(broker.tcp_port)
    consumer.connect(login="worker")
    consumer.subscribe("/queue/x", "q", receipt="sub")
    pub = TcpStomp(broker.tcp_port)
    pub.connect(login="plain")
    pub.send("/queue/x", b"q" * BIG, receipt="big")
    pub.expect("RECEIPT", timeout=20.0)
    pub.send("/queue/x", b"small", receipt="small")
    pub.expect("RECEIPT")
    expect_message(consumer, "queue consumer (big)", BIG)
    small = expect_message(consumer, "queue consumer (small, behind the big one)", 5)
    assert small.body == b"small"
    assert consumer.disconnect(), "queue consumer: no RECEIPT for DISCONNECT (cut?)"
    assert pub.disconnect()
    print(f"queue: the consumer got {BIG} bytes and the message behind it")


def api_case(broker):
    alice = TcpStomp(broker.tcp_port)
    alice.connect(login="alice")
    alice.subscribe("/user/queue/n", "n", receipt="sub")
    status, answer = api_publish(broker.ws_port, "/user/alice/queue/n", "a" * BIG, timeout=30.0)
    assert status == 202, f"publish API: expected 202 for a {BIG}-byte body, got {status} {answer}"
    status, answer = api_publish(broker.ws_port, "/user/alice/queue/n", "after")
    assert status == 202, f"publish API: expected 202, got {status} {answer}"
    expect_message(alice, "alice (big)", BIG)
    after = expect_message(alice, "alice (small, behind the big one)", 5)
    assert after.body == b"after"
    assert alice.disconnect(), "alice: no RECEIPT for DISCONNECT (cut?)"
    print(f"publish API: alice got {BIG} bytes and the message behind it")


def main():
    with WorkDir() as work, Broker(work).start() as broker:
        topic_case(broker)
        queue_case(broker)
        api_case(broker)
        assert "slow consumer" not in broker.log(), "a reader was treated as a slow consumer"
    # drop_oldest used to drop the big topic MESSAGE itself (nothing was in flight yet).
    with WorkDir() as work, Broker(work, config=DROP_OLDEST).start() as broker:
        topic_case(broker)
        assert "slow consumer" not in broker.log(), "a reader was treated as a slow consumer"


if __name__ == "__main__":
    sys.exit(main())
