"""cluster.redis_auth: the cluster on a Redis that wants a password or an ACL user.

One redis-server with `requirepass` and an ACL user `stompbox` limited to the keys and channels
`stompbox:*`. Four nodes, each giving its credentials another way:
  a: `redis_password_file` (the URL carries a wrong password: the file wins),
  b: `redis_password_env` (the URL carries none),
  c: the ACL user in the URL (`redis://stompbox:PW@host:port/0`),
  d: the password alone in the URL (`redis://:PW@host:port/0`).
All four become ready; a topic message sent on each node reaches a subscriber on every node, and
a receipted durable user-queue message from node c reaches alice on node a (the store's
connection authenticates too). No password appears in any node's log.

Wrong credentials: node e with a wrong password and node f with an ACL user Redis does not know
yet both start (listeners open) but answer 503 on /readyz; each logs a line naming
127.0.0.1:PORT and Redis' WRONGPASS refusal, and that line is not repeated at every retry (the
count does not grow over RETRY_WATCH_S while the link retries with backoff). Once the user
exists (ACL SETUSER), node f gets in by itself and answers 200.
"""

import os
import re
import time

from cluster_lib import Node, WorkDir, collect, quiet, wait_until
from redis_fixtures import AuthRedis, print_logs, require, REDIS_SERVER

ENV_NAME = "STOMPBOX_TEST_REDIS_PASSWORD"
RETRY_WATCH_S = 4.0  # >= 5 retries at the link's 100 ms .. 5 s backoff


def start_nodes(path, redis):
    pw_file = os.path.join(path, "redis.password")
    with open(pw_file, "w") as f:
        f.write(redis.PASSWORD + "\n")
    os.environ[ENV_NAME] = redis.PASSWORD  # inherited by the nodes; read only by node b
    base = f"127.0.0.1:{redis.port}/0"
    specs = [("a", f"redis://:wrong-in-url@{base}", f'redis_password_file = "{pw_file}"\n'),
             ("b", f"redis://{base}", f'redis_password_env = "{ENV_NAME}"\n'),
             ("c", f"redis://{redis.ACL_USER}:{redis.ACL_PASSWORD}@{base}", ""),
             ("d", f"redis://:{redis.PASSWORD}@{base}", "")]
    return [Node(path, name, url, extra).start() for name, url, extra in specs]


def numsub(redis, channel):
    return int(redis.command("PUBSUB", "NUMSUB", channel)[1])


def route_between_nodes(redis, nodes):
    subs = []
    for n in nodes:
        s = n.client(f"reader-{n.name}")
        s.subscribe("/topic/auth", "t", receipt="r")
        subs.append(s)
    alice = nodes[0].client("alice")
    alice.subscribe("/user/queue/n", "q", receipt="r")
    wait_until(lambda: numsub(redis, "stompbox:0:t:/topic/auth") == len(nodes), 10.0,
               "every node subscribed to the topic's channel")
    wait_until(lambda: numsub(redis, "stompbox:0:u:alice") == 1, 10.0, "alice's channel")
    for n in nodes:
        pub = n.client(f"pub-{n.name}")
        pub.send("/topic/auth", f"from-{n.name}", receipt="t")
        pub.expect("RECEIPT")
        pub.disconnect()
    for s in subs:
        got = sorted(f.body.decode() for f in collect(s, len(nodes)))
        assert got == sorted(f"from-{n.name}" for n in nodes), got
        quiet(s, 0.3)
    backend = nodes[2].client("backend")  # node c: the ACL user
    backend.send("/user/alice/queue/n", "durable", receipt="d")
    frame = backend.recv_frame(15.0)
    assert frame is not None and frame.command == "RECEIPT", f"durable SEND: {frame!r}"
    assert [f.body for f in collect(alice, 1)] == [b"durable"]
    for c in subs + [alice, backend]:
        c.disconnect()


def refusal_lines(node, port):
    """Lines of the node's log naming 127.0.0.1:PORT and Redis' WRONGPASS reply."""
    return [ln for ln in node.broker.log().splitlines()
            if f"127.0.0.1:{port}" in ln and "WRONGPASS" in ln]


def wrong_credentials(path, redis):
    base = f"127.0.0.1:{redis.port}/0"
    e = Node(path, "e", f"redis://:not-the-password@{base}").start()
    f = Node(path, "f", f"redis://latecomer:late-pw@{base}").start()
    try:
        for n in (e, f):
            wait_until(lambda n=n: refusal_lines(n, redis.port), 15.0,
                       f"node {n.name} to log Redis' refusal naming 127.0.0.1:{redis.port}")
            assert n.http("/readyz")[0] == 503, f"node {n.name} ready with wrong credentials"
        time.sleep(1.0)  # every connection of the node (pub/sub, commands, store) tried once
        first = {n.name: len(refusal_lines(n, redis.port)) for n in (e, f)}
        assert all(count <= 3 for count in first.values()), f"refusals logged: {first}"
        time.sleep(RETRY_WATCH_S)
        for n in (e, f):
            now = len(refusal_lines(n, redis.port))
            assert now == first[n.name], (
                f"node {n.name}: the refusal logged {first[n.name]} then {now} times in "
                f"{RETRY_WATCH_S} s (logged at every retry)")
            assert n.http("/readyz")[0] == 503
            assert n.broker.alive()
        line = refusal_lines(e, redis.port)[0]
        assert re.search(r"AUTH", line), f"the refusal does not say AUTH: {line}"
        print(f"refusal logged once per connection ({first}), e.g.: {line.strip()[-160:]}")
        assert redis.command("ACL", "SETUSER", "latecomer", "on", ">late-pw", "~stompbox:*",
                             "&stompbox:*", "+@all") == "OK"
        start = time.monotonic()
        wait_until(f.ready, 15.0, "node f ready once its ACL user exists")
        print(f"node f connected {time.monotonic() - start:.1f} s after its user was created")
        assert e.http("/readyz")[0] == 503
    finally:
        for n in (e, f):
            n.stop()
    for n in (e, f):
        n.broker.assert_clean_exit()
        log = n.broker.log()
        assert "not-the-password" not in log and "late-pw" not in log, "a password in the log"


def main():
    require(REDIS_SERVER)
    with WorkDir() as path:
        redis = AuthRedis(path).start()
        nodes = []
        try:
            nodes = start_nodes(path, redis)
            for n in nodes:
                wait_until(n.ready, 20.0, f"node {n.name} ready")
            route_between_nodes(redis, nodes)
            for n in nodes:
                n.stop()
            for n in nodes:
                n.broker.assert_clean_exit()
                log = n.broker.log()
                for secret in (redis.PASSWORD, redis.ACL_PASSWORD):
                    assert secret not in log, f"node {n.name} logged a password"
            nodes = []
            wrong_credentials(path, redis)
        except BaseException:
            print_logs(nodes, f"--- redis ---\n{redis.log()[-2000:]}")
            raise
        finally:
            for n in nodes:
                n.stop()
            redis.stop()
    print("requirepass (file, env, URL) and an ACL user: 4 nodes route; wrong credentials: "
          "start, 503, one refusal logged, retried until the user exists: OK")


if __name__ == "__main__":
    main()
