"""fault.header_bomb: repeated header names cost memory per distinct name, not per repeat.

Five SEND frames, each of the header line `a:` repeated 1,400,000 times (4.2 MB, under the
4 MiB + 64 KiB frame limit), to a /queue/ nobody reads, each with a receipt. STOMP 1.2 says only
the first occurrence of a repeated header counts. When every repeat was kept (a std::string
pair each, in the parser and then in the queued message), these 21 MB on the wire became about
+480 MB of broker RSS; the parser now keeps the first occurrence only. Asserted: every RECEIPT
comes and RSS grows by less than 40 MB.
"""

import sys

from lib.broker import Broker, WorkDir
from lib.client import TcpStomp

FRAMES = 5
REPEATS = 1_400_000
MAX_GROWTH_KIB = 40 * 1024


def bomb(seq):
    return (b"SEND\ndestination:/queue/bomb\nreceipt:r%d\n" % seq + b"a:\n" * REPEATS +
            b"\nbody\0")


def main():
    with WorkDir() as work, Broker(work).start() as broker:
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="plain")
        pub.send("/queue/bomb", b"warm-up", receipt="w")
        pub.expect("RECEIPT")
        before = broker.rss_kib()
        wire = 0
        for seq in range(FRAMES):
            frame = bomb(seq)
            wire += len(frame)
            pub.send_bytes(frame)
            receipt = pub.expect("RECEIPT", timeout=30.0)
            assert receipt.headers.get("receipt-id") == f"r{seq}", receipt.headers
        after = broker.rss_kib()
        growth = after - before
        print(f"{FRAMES} frames, {wire / 1e6:.1f} MB on the wire: RSS {before} KiB -> {after} KiB "
              f"(+{growth / 1024:.1f} MiB)")
        assert growth < MAX_GROWTH_KIB, (
            f"expected RSS to grow by less than {MAX_GROWTH_KIB // 1024} MiB for {FRAMES} frames "
            f"of one repeated header, it grew by {growth / 1024:.1f} MiB")
        assert pub.disconnect()


if __name__ == "__main__":
    sys.exit(main())
