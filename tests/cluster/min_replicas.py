"""cluster.min_replicas: `[cluster] min_replicas` makes a durable RECEIPT wait until that many
Redis replicas hold the message (WAIT), issue #17. A master and one replica
(`--replicaof`), both started here.

1. min_replicas = 1 (min_replicas_timeout_ms = 500), the replica in sync: SENDs to a clustered
   /queue/ and to a user queue (the store) are all receipted.
2. The replica stopped (SIGSTOP): a SEND to the /queue/ and one to the user queue each get an
   ERROR (no RECEIPT) after about the timeout, saying fewer replicas confirmed it.
3. min_replicas = 0 (another node, the replica still stopped): both are receipted as before.
"""

import os
import signal
import subprocess
import time

from cluster_lib import HOST, REDIS_SERVER, Cluster, Node, RedisServer, Resp, wait_until

TIMEOUT_MS = 500


class Replica(RedisServer):
    """redis-server replicating `master` (no persistence of its own)."""

    def __init__(self, workdir, master):
        super().__init__(os.path.join(workdir, "replica"))
        self.master = master

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--dir", self.dir,
                "--replicaof", HOST, str(self.master.port)]
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        wait_until(self.in_sync, 20.0, "the replica in sync with the master")
        return self

    def in_sync(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"replica exited with {self.proc.returncode}")
        try:
            r = Resp(self.port)
            try:
                return "master_link_status:up" in r.command("INFO", "replication").decode()
            finally:
                r.close()
        except OSError:
            return False

    def pause(self, on):
        self.proc.send_signal(signal.SIGSTOP if on else signal.SIGCONT)


def send_one(node, destination, body):
    """One receipted SEND on a fresh connection: (frame answered, seconds it took)."""
    c = node.client("backend")
    started = time.monotonic()
    c.send(destination, body, receipt=body)
    frame = c.recv_frame(10.0)
    took = time.monotonic() - started
    assert frame is not None, f"{body}: no answer"
    if frame.command == "RECEIPT":
        assert frame.headers["receipt-id"] == body, frame
        c.disconnect()
    else:
        c.close()
    return frame, took


def all_receipted(node, label):
    for dest in ("/queue/w", "/user/dana/queue/n"):
        for i in range(10):
            frame, _ = send_one(node, dest, f"{label}{i}")
            assert frame.command == "RECEIPT", f"{dest}: {frame!r}"


def main():
    config = f"min_replicas = 1\nmin_replicas_timeout_ms = {TIMEOUT_MS}\n"
    with Cluster(1, cluster_config=config) as cl:
        a = cl.nodes[0]
        replica = Replica(os.path.dirname(cl.redis.dir), cl.redis).start()
        try:
            all_receipted(a, "r")
            print("1. min_replicas = 1, replica in sync: 10 /queue/ and 10 user-queue SENDs "
                  "receipted: OK")
            replica.pause(True)
            for dest in ("/queue/w", "/user/dana/queue/n"):
                frame, took = send_one(a, dest, "lonely")
                print(f"2. replica stopped, {dest}: {frame.command} after {took:.2f} s: "
                      f"{frame.headers.get('message')} / {frame.body.decode()[:90]}")
                assert frame.command == "ERROR", frame
                assert frame.headers.get("receipt-id") == "lonely", frame
                assert "replicas" in frame.body.decode(), frame.body
                assert took >= TIMEOUT_MS / 1000 * 0.9, f"ERROR before the WAIT timeout: {took}"
            assert a.metric("cluster_queue_replica_shortfalls_total") >= 1.0
            b = Node(os.path.dirname(cl.redis.dir), "b", cl.redis.url, "").start()
            cl.nodes.append(b)
            wait_until(b.ready, 20.0, "node b ready")
            all_receipted(b, "z")
            print("3. min_replicas = 0 (node b), replica still stopped: all receipted: OK")
        finally:
            replica.pause(False)
            replica.stop()
    print("min_replicas: OK")


if __name__ == "__main__":
    main()
