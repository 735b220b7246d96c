"""fault.send_rate_slowed: a publisher over limits.send_rate is slowed, not cut.

send_rate = 100/s, send_burst = 50, server heart-beats every 200 ms, 64 KiB TCP reads (about 60
SENDs each, so each pause lasts about 0.6 s, longer than the heart-beat interval; with shorter
pauses the RECEIPTs themselves keep the line busy and no heart-beat is due). A TCP publisher
writes 400 SENDs of 1000 bytes with a receipt each as fast as its socket takes them (a writer
thread) while the main thread reads. Default policy "slow": no ERROR, the connection stays open,
all 400 RECEIPTs arrive, no faster than the rate allows ((400 - 50 - the last read's ~60, taken
on credit) / 100 = about 2.8 s; asserted at least 95% of that, and at most 5x), and server
heart-beats keep arriving while reads are paused. With send_rate_policy = "disconnect" the same
publisher gets ERROR "send rate exceeded" and is closed. Before the policy existed the first
case failed with that ERROR.
"""

import sys
import threading
import time

from lib.broker import Broker, WorkDir
from lib.client import Closed, TcpStomp
from lib.frames import encode

RATE = 100
BURST = 50
SENDS = 400
BODY = b"r" * 1000
HEARTBEAT_MS = 200


def config(policy):
    return f"""
[limits]
send_rate = {RATE}
send_burst = {BURST}
send_rate_policy = "{policy}"
[heartbeat]
send_ms = {HEARTBEAT_MS}
[tcp]
read_chunk_bytes = 65536
"""


def blast(pub):
    """Writes every SEND from a thread (sendall blocks while the broker does not read)."""
    data = b"".join(encode("SEND", {"destination": "/topic/rate", "receipt": f"r{i}"}, BODY)
                    for i in range(SENDS))

    def write():
        try:
            pub.send_bytes(data)
        except OSError:
            pass  # the "disconnect" case: the broker closed

    t = threading.Thread(target=write, daemon=True)
    t.start()
    return t


def slowed_case(work):
    with Broker(work, config=config("slow")).start() as broker:
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="backend", heart_beat=f"0,{HEARTBEAT_MS}")
        beats_before = pub.reader.heartbeats
        started = time.monotonic()
        writer = blast(pub)
        receipts = 0
        while receipts < SENDS:
            frame = pub.recv_frame(10.0)
            assert frame is not None, f"no frame for 10 s after {receipts} RECEIPTs"
            assert frame.command == "RECEIPT", f"expected RECEIPTs, got {frame!r} after {receipts}"
            assert frame.headers.get("receipt-id") == f"r{receipts}", frame.headers
            receipts += 1
        elapsed = time.monotonic() - started
        writer.join(5.0)
        beats = pub.reader.heartbeats - beats_before
        # The last read's SENDs (about 60) are receipted on credit: their pause is not waited.
        least = (SENDS - BURST - 70) / RATE
        print(f"slow: {receipts} RECEIPTs in {elapsed:.2f} s ({receipts / elapsed:.0f}/s against "
              f"send_rate {RATE}/s, burst {BURST}); {beats} server heart-beats meanwhile")
        assert elapsed >= 0.95 * least, f"expected at least {0.95 * least:.2f} s at the rate"
        assert elapsed <= 5 * least, f"expected about {least:.1f} s, took {elapsed:.2f} s"
        assert beats >= 3, f"expected server heart-beats while slowed, got {beats}"
        assert pub.disconnect(), "no RECEIPT for DISCONNECT: the publisher was cut"
        assert "send rate exceeded" not in broker.log()


def disconnect_case(work):
    with Broker(work, config=config("disconnect")).start() as broker:
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="backend")
        blast(pub)
        error = None
        try:
            while True:
                frame = pub.recv_frame(10.0)
                assert frame is not None, "expected ERROR and close, nothing for 10 s"
                if frame.command == "ERROR":
                    error = frame
                    break
            pub.recv_frame(10.0)
            raise AssertionError("expected the broker to close after the ERROR")
        except (Closed, OSError):
            pass
        assert error is not None and error.headers.get("message") == "send rate exceeded", error
        print("disconnect: ERROR send rate exceeded, closed")


def main():
    with WorkDir() as work:
        slowed_case(work)
    with WorkDir() as work:
        disconnect_case(work)


if __name__ == "__main__":
    sys.exit(main())
