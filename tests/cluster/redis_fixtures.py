"""The production shapes of Redis for the cluster process tests (issue #17), real processes on
127.0.0.1: a redis-server with `requirepass` and an ACL user, one that speaks TLS only (a CA and
certificates made here with the openssl CLI), and a master with one replica watched by three
redis-sentinel processes. Python 3 standard library; cluster_lib's Resp, Node, wait_until reused.

Every process started here is stopped by pid (`stop()`), never by name.
"""

import os
import shutil
import signal
import socket
import ssl
import subprocess

from cluster_lib import HOST, REDIS_SERVER, Resp, free_port, skip, terminate, wait_until

REDIS_SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def print_logs(nodes, redis_side):
    """On a failure: the tail of each node's log, then `redis_side` (the Redis processes' logs)."""
    for n in nodes:
        print(f"--- log of node {n.name} ---\n{n.broker.log()[-3000:]}")
    print(redis_side)


def require(*paths):
    """Skips the test (exit 77) when a tool it starts is not installed."""
    for path in paths:
        if not os.path.exists(path):
            skip(f"{path} not installed (Debian packages redis-server, redis-sentinel, openssl)")


class AuthResp(Resp):
    """Resp over TCP or TLS (`tls`: an ssl.SSLContext), AUTH'd when `password` is given (with
    `user`: an ACL user)."""

    def __init__(self, port, password=None, user=None, tls=None):
        sock = socket.create_connection((HOST, port), timeout=5.0)
        self.sock = tls.wrap_socket(sock, server_hostname=HOST) if tls else sock
        self.buf = b""
        if password is not None:
            reply = self.command("AUTH", *([user] if user else []), password)
            if reply != "OK":
                raise ConnectionError(f"AUTH refused: {reply}")


def _ping(port, **auth):
    try:
        r = AuthResp(port, **auth)
        try:
            return r.command("PING") == "PONG"
        finally:
            r.close()
    except (OSError, ConnectionError, ValueError):
        return False


class Process:
    """A redis-server / redis-sentinel started from a written config file; stopped by pid."""

    def __init__(self, workdir, name, binary=REDIS_SERVER):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.name, self.binary = name, binary
        self.port = free_port()
        self.conf = os.path.join(self.dir, f"{name}.conf")
        self.proc = None

    def write_config(self, lines):
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def launch(self):
        log = open(os.path.join(self.dir, "out.log"), "ab")
        self.proc = subprocess.Popen([self.binary, self.conf], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def check_running(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                               f"{self.log()[-2000:]}")

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def kill9(self):
        """SIGKILL, reaped: no shutdown, no last AOF write beyond what was fsynced."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self):
        proc, self.proc = self.proc, None
        terminate(proc)


def server_lines(proc, port_lines):
    """The redis.conf lines every server here shares: loopback, AOF fsynced on every write as
    docs/cluster.md asks, logs in its own dir."""
    return [*port_lines, f"bind {HOST}", 'save ""', "appendonly yes", "appendfsync always",
            f"dir {proc.dir}", f"logfile {os.path.join(proc.dir, 'redis.log')}"]


# ---- (a) requirepass and an ACL user --------------------------------------------------------

class AuthRedis(Process):
    """redis-server with `requirepass PASSWORD` (the default user) and the ACL user `ACL_USER`
    that may only touch stompbox's keys and channels, as a managed Redis hands out."""

    PASSWORD = "s3cret-default-pw"
    ACL_USER, ACL_PASSWORD = "stompbox", "acl-user-pw"

    def __init__(self, workdir, name="redis"):
        super().__init__(workdir, name)

    def start(self):
        self.write_config(server_lines(self, [f"port {self.port}"]) + [
            f"requirepass {self.PASSWORD}",
            f"user {self.ACL_USER} on >{self.ACL_PASSWORD} ~stompbox:* &stompbox:* +@all"])
        self.launch()
        wait_until(lambda: self.check_running() or _ping(self.port, password=self.PASSWORD),
                   20.0, "redis-server with requirepass to answer PING")
        return self

    def resp(self):
        return AuthResp(self.port, password=self.PASSWORD)

    def command(self, *args):
        r = self.resp()
        try:
            return r.command(*args)
        finally:
            r.close()


# ---- (b) TLS ----------------------------------------------------------------------------------

def _openssl(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Pki:
    """A CA, a server certificate for 127.0.0.1 and localhost signed by it, a client
    certificate signed by it, and an unrelated CA (the wrong one), all PEM in `dir`."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "pki")
        os.makedirs(self.dir, exist_ok=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def make(self):
        self._ca("ca", "stompbox test CA")
        self._ca("wrong-ca", "some other CA")
        with open(self.path("server.ext"), "w") as f:
            f.write("subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                    "extendedKeyUsage = serverAuth\n")
        self._leaf("server", "redis test server", "server.ext")
        with open(self.path("client.ext"), "w") as f:
            f.write("extendedKeyUsage = clientAuth\n")
        self._leaf("client", "stompbox node", "client.ext")
        return self

    def _ca(self, name, cn):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", f"/CN={cn}", "-keyout", f"{name}.key", "-out", f"{name}.pem",
                 cwd=self.dir)

    def _leaf(self, name, cn, ext):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=self.dir)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f"{name}.pem",
                 cwd=self.dir)

    def client_context(self):
        """What the test itself uses to talk to the TLS-only server."""
        ctx = ssl.create_default_context(cafile=self.path("ca.pem"))
        ctx.load_cert_chain(self.path("client.pem"), self.path("client.key"))
        return ctx


class TlsRedis(Process):
    """redis-server on TLS only (`port 0`, `tls-port P`), `requirepass`, client certificates
    required (`tls-auth-clients yes`): a node must present one signed by the CA."""

    PASSWORD = "tls-default-pw"

    def __init__(self, workdir, pki, name="redis-tls"):
        super().__init__(workdir, name)
        self.pki = pki

    def start(self):
        p = self.pki.path
        self.write_config(server_lines(self, ["port 0", f"tls-port {self.port}"]) + [
            f"tls-cert-file {p('server.pem')}", f"tls-key-file {p('server.key')}",
            f"tls-ca-cert-file {p('ca.pem')}", "tls-auth-clients yes",
            f"requirepass {self.PASSWORD}"])
        self.launch()
        wait_until(lambda: self.check_running() or _ping(
            self.port, password=self.PASSWORD, tls=self.pki.client_context()),
            20.0, "redis-server on TLS to answer PING")
        return self

    def command(self, *args):
        r = AuthResp(self.port, password=self.PASSWORD, tls=self.pki.client_context())
        try:
            return r.command(*args)
        finally:
            r.close()


# ---- (c) master, replica, three sentinels ---------------------------------------------------

class Sentinels:
    """A master, one replica of it, and three redis-sentinel processes monitoring `mymaster`
    with quorum 2, `down-after-milliseconds 1000`, `failover-timeout 10000`. The sentinels'
    config files are written here and rewritten by them (they must be writable)."""

    NAME = "mymaster"

    def __init__(self, workdir):
        self.master = Process(workdir, "master")
        self.replica = Process(workdir, "replica")
        self.sentinels = [Process(workdir, f"sentinel{i}", REDIS_SENTINEL) for i in (1, 2, 3)]

    @property
    def url(self):
        hosts = ",".join(f"{HOST}:{s.port}" for s in self.sentinels)
        return f"redis-sentinel://{hosts}/{self.NAME}"

    def start(self):
        self.start_server(self.master)
        self.start_server(self.replica, [f"replicaof {HOST} {self.master.port}"])
        wait_until(lambda: b"master_link_status:up" in self.info(self.replica, "replication"),
                   20.0, "the replica in sync with the master")
        for s in self.sentinels:
            s.write_config([f"port {s.port}", f"bind {HOST}", f"dir {s.dir}",
                            f"logfile {os.path.join(s.dir, 'redis.log')}",
                            f"sentinel monitor {self.NAME} {HOST} {self.master.port} 2",
                            f"sentinel down-after-milliseconds {self.NAME} 1000",
                            f"sentinel failover-timeout {self.NAME} 10000"])
            s.launch()
        for s in self.sentinels:  # they find each other and the replica through the master
            wait_until(lambda s=s: s.check_running() or self.sentinel_sees_all(s), 30.0,
                       f"{s.name} to see the replica and the two other sentinels")
        return self

    def start_server(self, proc, extra=()):
        """(Re)starts a server on its port with its AOF dir; `extra` redis.conf lines."""
        proc.write_config(server_lines(proc, [f"port {proc.port}"]) + list(extra))
        proc.launch()
        wait_until(lambda: proc.check_running() or _ping(proc.port), 20.0,
                   f"{proc.name} to answer PING")

    def ask(self, port, *args):
        r = AuthResp(port)
        try:
            return r.command(*args)
        finally:
            r.close()

    def info(self, proc, section):
        return self.ask(proc.port, "INFO", section)

    def sentinel_sees_all(self, s):
        try:
            others = self.ask(s.port, "SENTINEL", "SENTINELS", self.NAME)
            replicas = self.ask(s.port, "SENTINEL", "REPLICAS", self.NAME)
        except (OSError, ConnectionError):
            return False
        return len(others) == 2 and len(replicas) == 1

    def master_port(self):
        """The master's port as the first sentinel that answers says, or None."""
        for s in self.sentinels:
            try:
                addr = self.ask(s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.NAME)
                return int(addr[1])
            except (OSError, ConnectionError, TypeError, IndexError):
                continue
        return None

    def processes(self):
        return [self.master, self.replica, *self.sentinels]

    def logs(self):
        return "\n".join(f"--- {p.name} ---\n{p.log()[-1500:]}" for p in self.processes())

    def stop(self):
        for p in self.sentinels + [self.replica, self.master]:
            p.stop()

