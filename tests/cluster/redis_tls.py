"""cluster.redis_tls: the cluster on a Redis that speaks TLS only, with AUTH.

A CA, a server certificate (127.0.0.1, localhost) and a client certificate are made with the
openssl CLI; redis-server listens on TLS only (`port 0`, `tls-port P`), wants a client
certificate (`tls-auth-clients yes`) and a password. Two nodes on `rediss://`:
  a: `rediss://:PW@127.0.0.1:P/0`, `redis_tls_ca_file`, client certificate and key,
  b: `rediss://127.0.0.1:P/0`, password from `redis_password_file`, the same CA and client
     certificate, and `redis_tls_server_name = "localhost"` (checked against the certificate).
Both become ready; a topic message from a reaches a subscriber on b, and a receipted durable
user-queue message sent on a for bob (offline) reaches him when he connects to b (stored in and
read back from Redis over TLS, on the store's connection).

Refused: node c trusting another CA, and node d checking the name `wrong.example`, start but
answer 503 on /readyz, and each logs `certificate verify failed` naming 127.0.0.1:P.
"""

import os
import time

from cluster_lib import Node, WorkDir, collect, quiet, wait_until
from redis_fixtures import OPENSSL, REDIS_SERVER, Pki, TlsRedis, print_logs, require


def tls_keys(pki, ca="ca.pem", server_name=None):
    lines = [f'redis_tls_ca_file = "{pki.path(ca)}"',
             f'redis_tls_cert_file = "{pki.path("client.pem")}"',
             f'redis_tls_key_file = "{pki.path("client.key")}"']
    if server_name:
        lines.append(f'redis_tls_server_name = "{server_name}"')
    return "\n".join(lines) + "\n"


def route_over_tls(redis, a, b):
    reader = b.client("reader")
    reader.subscribe("/topic/tls", "t", receipt="r")
    wait_until(lambda: int(redis.command("PUBSUB", "NUMSUB", "stompbox:0:t:/topic/tls")[1]) == 1,
               10.0, "node b subscribed to the topic's channel")
    pub = a.client("backend")
    pub.send("/topic/tls", "live over TLS", receipt="t")
    pub.expect("RECEIPT")
    assert [f.body for f in collect(reader, 1)] == [b"live over TLS"]
    pub.send("/user/bob/queue/n", "stored over TLS", receipt="d")
    frame = pub.recv_frame(15.0)
    assert frame is not None and frame.command == "RECEIPT", f"durable SEND: {frame!r}"
    bob = b.client("bob")
    bob.subscribe("/user/queue/n", "q", receipt="r")
    assert [f.body for f in collect(bob, 1)] == [b"stored over TLS"]
    quiet(bob, 0.3)
    quiet(reader, 0.3)
    for c in (reader, pub, bob):
        c.disconnect()


def verify_failures(node, port):
    return [ln for ln in node.broker.log().splitlines()
            if "certificate verify failed" in ln and f"127.0.0.1:{port}" in ln]


def refused(path, pki, redis):
    url = f"rediss://:{redis.PASSWORD}@127.0.0.1:{redis.port}/0"
    c = Node(path, "c", url, tls_keys(pki, ca="wrong-ca.pem")).start()
    d = Node(path, "d", url, tls_keys(pki, server_name="wrong.example")).start()
    try:
        for n in (c, d):
            lines = wait_until(lambda n=n: verify_failures(n, redis.port), 15.0,
                               f"node {n.name} to log 'certificate verify failed'")
            assert n.http("/readyz")[0] == 503, f"node {n.name} ready despite a bad certificate"
            print(f"node {n.name}: {lines[0].strip()[-160:]}")
        time.sleep(1.0)
        assert c.http("/readyz")[0] == 503 and d.http("/readyz")[0] == 503
    finally:
        c.stop()
        d.stop()
    c.broker.assert_clean_exit()
    d.broker.assert_clean_exit()


def main():
    require(REDIS_SERVER, OPENSSL)
    with WorkDir() as path:
        pki = Pki(path).make()
        redis = TlsRedis(path, pki).start()
        pw_file = os.path.join(path, "redis.password")
        with open(pw_file, "w") as f:
            f.write(redis.PASSWORD + "\n")
        nodes = []
        try:
            nodes.append(Node(path, "a", f"rediss://:{redis.PASSWORD}@127.0.0.1:{redis.port}/0",
                              tls_keys(pki)).start())
            nodes.append(Node(path, "b", f"rediss://127.0.0.1:{redis.port}/0",
                              tls_keys(pki, server_name="localhost")
                              + f'redis_password_file = "{pw_file}"\n').start())
            for n in nodes:
                wait_until(n.ready, 20.0, f"node {n.name} ready over TLS")
            route_over_tls(redis, *nodes)
            for n in nodes:
                n.stop()
            for n in nodes:
                n.broker.assert_clean_exit()
                assert redis.PASSWORD not in n.broker.log(), f"node {n.name} logged a password"
            nodes = []
            refused(path, pki, redis)
        except BaseException:
            print_logs(nodes, f"--- redis ---\n{redis.log()[-2000:]}")
            raise
        finally:
            for n in nodes:
                n.stop()
            redis.stop()
    print("rediss:// with a CA, client certificate, server name and AUTH: routed and stored; "
          "a wrong CA and a wrong name refused (503, certificate verify failed): OK")


if __name__ == "__main__":
    main()
