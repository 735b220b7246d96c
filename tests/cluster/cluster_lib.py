"""Three stompbox nodes on one redis-server, all real processes on 127.0.0.1.

The broker launcher, STOMP client and frames come from tests/fault/lib (imported, not copied).
Every process started here is stopped by pid in close(), never by name.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("STOMPBOX_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "tests", "fault"))

from lib.broker import HOST, Broker, WorkDir, free_port, skip  # noqa: E402
from lib.client import Closed, TcpStomp  # noqa: E402,F401

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def terminate(proc):
    """SIGTERM to a process we started (None or already gone: nothing), SIGKILL after 10 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until(predicate, timeout=20.0, what="condition"):
    """Polls `predicate` every 50 ms; raises AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Resp:
    """A minimal RESP2 client for the test's own checks (PUBSUB NUMSUB, PING)."""

    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port), timeout=5.0)
        self.buf = b""

    def command(self, *args):
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(f"${len(a)}\r\n".encode() + a + b"\r\n")
        self.sock.sendall(b"".join(out))
        return self._reply()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise ValueError(f"bad RESP reply {line!r}")

    def close(self):
        self.sock.close()


class RedisServer:
    """redis-server on a free port, AOF with fsync on every write (docs/cluster.md)."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return f"redis://{HOST}:{self.port}"

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "yes", "--appendfsync", "always", "--dir", self.dir]
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        wait_until(self._pings, 20.0, "redis-server to answer PING")
        return self

    def _pings(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
        try:
            r = Resp(self.port)
            try:
                return r.command("PING") == "PONG"
            finally:
                r.close()
        except OSError:
            return False

    def stop(self):
        proc, self.proc = self.proc, None
        terminate(proc)

    def numsub(self, channel):
        r = Resp(self.port)
        try:
            return int(r.command("PUBSUB", "NUMSUB", channel)[1])
        finally:
            r.close()

    def xlen(self, key):
        r = Resp(self.port)
        try:
            return int(r.command("XLEN", key))
        finally:
            r.close()

    def numpat(self):
        r = Resp(self.port)
        try:
            return int(r.command("PUBSUB", "NUMPAT"))
        finally:
            r.close()


class Node:
    """One stompbox with --cluster-redis (given as the [cluster] redis key), :memory: SQLite
    (unused: the durable store is Redis), metrics on a free port read from its log."""

    def __init__(self, workdir, name, redis_url, cluster_config=""):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        config = f'[cluster]\nredis = "{redis_url}"\n{cluster_config}'
        self.broker = Broker(self.dir, config=config, data_dir=":memory:")
        self.metrics_port = None

    def start(self):
        self.broker.start()
        self.metrics_port = int(wait_until(self._metrics_port, 20.0, f"{self.name} metrics port"))
        return self

    def _metrics_port(self):
        m = re.search(r"metrics at http://[^:]+:(\d+)/metrics", self.broker.log())
        return m.group(1) if m else None

    @property
    def port(self):
        return self.broker.tcp_port

    def client(self, login):
        c = TcpStomp(self.port)
        c.connect(login=login)
        return c

    def http(self, path):
        """(status, body) of GET path on the metrics listener."""
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.metrics_port}{path}",
                                        timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metric(self, name):
        status, text = self.http("/metrics")
        assert status == 200, f"/metrics answered {status}"
        m = re.search(rf"^stompbox_{name} (\S+)$", text, re.M)
        assert m, f"{self.name}: no metric stompbox_{name}"
        return float(m.group(1))

    def ready(self):
        return self.http("/readyz")[0] == 200

    def stop(self):
        self.broker.stop()


class Cluster:
    """redis-server and `nodes` stompbox nodes; use as a context manager."""

    def __init__(self, nodes=3, cluster_config=""):
        """`cluster_config`: more [cluster] keys for every node ("key = value\\n" lines)."""
        self.count = nodes
        self.cluster_config = cluster_config
        self.work = WorkDir()

    def __enter__(self):
        if not os.path.exists(REDIS_SERVER):
            skip("redis-server not installed (Debian package redis-server)")
        path = self.work.__enter__()
        self.redis = RedisServer(path)
        self.nodes = []
        try:
            self.redis.start()
            for i in range(self.count):
                self.nodes.append(Node(path, "abcdefgh"[i], self.redis.url,
                                       self.cluster_config).start())
            for n in self.nodes:
                wait_until(n.ready, 20.0, f"node {n.name} ready")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for n in self.nodes:
            try:
                if exc and exc[0] is not None:
                    print(f"--- log of node {n.name} ---\n{n.broker.log()[-3000:]}")
            except OSError:
                pass
            n.stop()
        self.redis.stop()
        try:
            if not (exc and exc[0] is not None):
                for n in self.nodes:  # kill -9'd nodes excepted
                    n.broker.assert_clean_exit()
        finally:
            self.work.__exit__(*exc)
        return False


def collect(client, count, timeout=15.0):
    """Reads MESSAGE frames until `count` arrived (AssertionError on anything else or a
    timeout); returns them."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        left = deadline - time.monotonic()
        frame = client.recv_frame(max(left, 0.0)) if left > 0 else None
        if frame is None:
            raise AssertionError(f"got {len(out)} of {count} messages")
        if frame.command != "MESSAGE":
            raise AssertionError(f"expected MESSAGE, got {frame!r}")
        out.append(frame)
    return out


def quiet(client, wait=0.5):
    """Asserts nothing more arrives within `wait` s (no duplicate, no stray copy)."""
    frame = client.recv_frame(wait)
    assert frame is None, f"unexpected extra frame {frame!r}"
