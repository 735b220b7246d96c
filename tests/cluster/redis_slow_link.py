"""cluster.redis_slow_link: a slow but live link to Redis is not taken for a dead one.

The node PINGs Redis every second on its commands connection and resets the connections when
a PING stays unanswered for 3 s. The PING is pipelined behind the commands sent before it, so
on a link that carries a large backlog (a burst of big /queue/ messages over a thin or busy
line) it waits behind them while Redis answers every one of them. Before, the node reset live
connections then, and the SENDs in flight got ERROR; now any reply counts as a sign of life.

A node reaches Redis through a proxy that forwards node -> Redis at 64 KiB/s. A publisher sends
72 messages of 8 KiB to /queue/slow, pipelined with receipts (about 9 s of backlog): all 72 are
receipted, none gets an ERROR, the node's Redis connections are never re-established, and a
consumer then gets all 72 once, in order.
"""

import select
import socket
import threading
import time

from cluster_lib import HOST, Node, RedisServer, WorkDir, collect, quiet, skip, wait_until
import cluster_lib
from redis_fixtures import print_logs

BYTES_PER_S = 64 * 1024
COUNT = 72
BODY = 8 * 1024


class ThrottledProxy(threading.Thread):
    """Accepts any number of connections to Redis; forwards Redis -> node at once and
    node -> Redis at `rate` bytes/s per connection."""

    def __init__(self, upstream_port, rate):
        super().__init__(daemon=True)
        self.upstream_port, self.rate = upstream_port, rate
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((HOST, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.halt = False

    def run(self):
        while not self.halt:
            try:
                readable, _, _ = select.select([self.listener], [], [], 0.1)
            except (OSError, ValueError):  # closed by stop()
                return
            if readable and not self.halt:
                down, _ = self.listener.accept()
                up = socket.create_connection((HOST, self.upstream_port))
                threading.Thread(target=self.pump, args=(down, up), daemon=True).start()

    def pump(self, down, up):
        budget, last = 0.0, time.monotonic()
        try:
            while not self.halt:
                now = time.monotonic()
                budget = min(budget + (now - last) * self.rate, self.rate / 10)
                last = now
                watched = [up] + ([down] if budget >= 1 else [])
                readable, _, _ = select.select(watched, [], [], 0.01)
                for sock in readable:
                    if sock is up:
                        data = up.recv(65536)
                        if not data:
                            return
                        down.sendall(data)
                    else:
                        data = down.recv(int(budget))
                        if not data:
                            return
                        budget -= len(data)
                        up.sendall(data)
        except OSError:
            pass
        finally:
            down.close()
            up.close()

    def stop(self):
        self.halt = True
        self.listener.close()


def main():
    if not cluster_lib.os.path.exists(cluster_lib.REDIS_SERVER):
        skip("redis-server not installed (Debian package redis-server)")
    with WorkDir() as work:
        redis = RedisServer(work)
        redis.start()
        proxy = ThrottledProxy(redis.port, BYTES_PER_S)
        proxy.start()
        slow = fast = None
        try:
            slow = Node(work, "slow", f"redis://{HOST}:{proxy.port}").start()
            fast = Node(work, "fast", redis.url).start()
            for n in (slow, fast):
                wait_until(n.ready, 20.0, f"node {n.name} ready")
            connects = slow.metric("cluster_redis_reconnects_total")

            pub = slow.client("backend")
            body = "x" * BODY
            started = time.monotonic()
            for i in range(COUNT):
                pub.send("/queue/slow", f"{i:03d}{body}", receipt=f"r{i}")
            answers = [pub.recv_frame(30.0) for _ in range(COUNT)]
            took = time.monotonic() - started
            errors = [f for f in answers if f is None or f.command != "RECEIPT"]
            print(f"{COUNT} x {BODY} B over a {BYTES_PER_S} B/s link: {took:.1f} s, "
                  f"{COUNT - len(errors)} receipted, {len(errors)} not")
            assert not errors, f"not receipted: {errors[:3]}"
            assert took > 5, f"{took:.1f} s: the link was not the bottleneck, nothing tested"
            assert slow.metric("cluster_redis_reconnects_total") == connects, \
                "the node re-established its Redis connections: a live link taken for dead"

            worker = fast.client("worker")
            worker.subscribe("/queue/slow", "w", receipt="s")
            got = [f.body.decode()[:3] for f in collect(worker, COUNT, 30.0)]
            assert got == [f"{i:03d}" for i in range(COUNT)], f"lost, twice or out of order: {got}"
            quiet(worker, 0.5)
            worker.disconnect()
            pub.disconnect()
        except BaseException:
            print_logs([n for n in (slow, fast) if n is not None], "")
            raise
        finally:
            for n in (slow, fast):
                if n is not None:
                    n.stop()
            proxy.stop()
            redis.stop()
        for n in (slow, fast):
            n.broker.assert_clean_exit()
    print("redis_slow_link: OK")


if __name__ == "__main__":
    main()
