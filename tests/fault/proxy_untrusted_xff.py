"""fault.proxy_untrusted_xff: issue #15 case 1, who may name the client.

[proxies] trusted = ["127.0.0.1"], max_connections_per_ip = 2.
1. A direct client from 127.0.0.2 (not trusted) claims another address on each upgrade
   (X-Forwarded-For and Forwarded naming 203.0.113.x): ignored. It is counted and logged as
   127.0.0.2: 101, 101, then 503.
2. From the trusted address, garbage in X-Forwarded-For: the request still succeeds, under the
   socket's own address; the header is logged at debug, escaped (its quote as \").
3. From the trusted address, "X-Forwarded-For: 198.51.100.1, 203.0.113.50": the rightmost hop
   not trusted is the client (203.0.113.50; 198.51.100.1 was written by the client itself).
"""

import sys

from lib.broker import Broker, WorkDir
from lib.edge import ws_upgrade

CONFIG = """
[proxies]
trusted = ["127.0.0.1"]
[limits]
max_connections_per_ip = 2
[log]
level = "debug"
"""


def upgrade(source_ip, port, extra):
    """(status, socket, its local port) of one upgrade with `extra` headers."""
    status, sock = ws_upgrade(source_ip, port, extra)
    return status, sock, sock.getsockname()[1]


def main():
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        held, statuses = [], []
        for i in range(3):
            status, sock, _ = upgrade("127.0.0.2", broker.ws_port,
                                      f"X-Forwarded-For: 203.0.113.{i}\r\n"
                                      f"Forwarded: for=203.0.113.{i}\r\n")
            statuses.append(status)
            held.append(sock)
        print(f"untrusted client claiming 203.0.113.x, 3 upgrades: {statuses}")
        assert statuses == [101, 101, 503], statuses
        assert broker.wait_log("open 127.0.0.2:")
        status, sock, port = upgrade("127.0.0.1", broker.ws_port,
                                     "X-Forwarded-For: not-an-ip, \"<script>\r\n")
        held.append(sock)
        print(f"trusted peer, garbage X-Forwarded-For: {status}")
        assert status == 101, status
        assert broker.wait_log(f"open 127.0.0.1:{port} ws")
        # Escaped by broker::printable, the one escaper of every log line: the quote as \".
        assert broker.wait_log('forwarding header not used (unparsable hop): '
                               'not-an-ip, \\"<script>'), broker.log()[-2000:]
        assert '"<script>' not in broker.log().replace('\\"<script>', ''), "raw quote logged"
        status, sock, _ = upgrade("127.0.0.1", broker.ws_port,
                                  "X-Forwarded-For: 198.51.100.1, 203.0.113.50\r\n")
        held.append(sock)
        assert status == 101, status
        assert broker.wait_log("open 203.0.113.50 ws"), broker.log()[-2000:]
        log = broker.log()
        assert log.count("open 127.0.0.2:") == 2
        for i in range(3):
            assert f"203.0.113.{i}" not in log, f"an untrusted peer named itself 203.0.113.{i}"
        assert "198.51.100.1" not in log
        print("trusted peer, 'X-Forwarded-For: 198.51.100.1, 203.0.113.50': logged as "
              "203.0.113.50")
        for sock in held:
            sock.close()


if __name__ == "__main__":
    sys.exit(main())
