"""Peer data in the log is escaped: a login holding a line feed cannot start a log line of its
own (a forged "[error] ..." entry for whoever reads or parses the log).

The publish API is the way in: its Basic-auth login may carry any character, where a STOMP
header line cannot hold a raw line feed.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import Broker, WorkDir, write_users  # noqa: E402
from lib.client import api_publish  # noqa: E402

FORGED = "FORGED [error] the database was dropped"


def main():
    with WorkDir() as work:
        config = write_users(work, {"alice": ("right", ["user"])})
        with Broker(work, config=config).start() as broker:
            status, _ = api_publish(broker.ws_port, "/topic/x", "hi",
                                    auth=(f"mallory\n{FORGED}", "wrong"))
            assert status == 401, status
            assert broker.wait_log("mallory\\n"), "the failed login was not logged"
            forged = [line for line in broker.log().splitlines() if line.startswith("FORGED")]
            print(f"log lines starting with the forged text: {len(forged)}")
            assert not forged, forged
    print("log_escaping: OK")


if __name__ == "__main__":
    main()
