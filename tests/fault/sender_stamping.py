"""fault.sender_stamping: with [messages] stamp_sender = true a client cannot claim to be
someone else in the header that names the sender.

alice (roles user, publisher) sends with `user-name:admin` to bob (subscribed over TCP):
  1. a topic SEND, a queue SEND inside a transaction (COMMIT), a SEND to /user/bob/queue/inbox,
     and a publish API request as alice with headers {"user-name": "admin"}: bob's four
     MESSAGEs each carry `user-name:alice` (before: `user-name:admin`, verbatim).
  2. the same broker with stamping off (the default): the header passes through as sent
     (`admin`), as before.
  3. sender_header = "x-sender": the stamp goes there (`x-sender:alice`), `user-name` passes
     through.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import Broker, WorkDir, write_users  # noqa: E402
from lib.client import TcpStomp, api_publish  # noqa: E402

USERS = {"alice": ("alice-pw", ["user", "publisher"]), "bob": ("bob-pw", ["user"])}
FORGED = {"user-name": "admin"}


def run(work, users_config, messages_config):
    """alice's four kinds of SEND, each forging user-name; returns bob's MESSAGEs' headers."""
    with Broker(work, config=users_config + messages_config).start() as broker:
        bob = TcpStomp(broker.tcp_port)
        bob.connect("bob", passcode="bob-pw")
        bob.subscribe("/topic/chat", sub_id="t")
        bob.subscribe("/queue/work", sub_id="q")
        bob.subscribe("/user/queue/inbox", sub_id="u", receipt="subscribed")
        alice = TcpStomp(broker.tcp_port)
        alice.connect("alice", passcode="alice-pw")
        alice.send("/topic/chat", "topic", **FORGED)
        alice.send_frame("BEGIN", {"transaction": "tx"})
        alice.send_frame("SEND", {"destination": "/queue/work", "transaction": "tx", **FORGED},
                         b"transaction")
        alice.send_frame("COMMIT", {"transaction": "tx", "receipt": "committed"})
        alice.expect("RECEIPT")
        alice.send("/user/bob/queue/inbox", "user queue", receipt="sent", **FORGED)
        alice.expect("RECEIPT")
        status, answer = api_publish(broker.ws_port, "/topic/chat", "api",
                                     auth=("alice", "alice-pw"), headers=FORGED)
        assert status == 202, (status, answer)
        got = {m.text(): m.headers for m in bob.messages(limit=4)}
        alice.close()
        bob.close()
        broker.stop()
        broker.assert_clean_exit()
    assert sorted(got) == ["api", "topic", "transaction", "user queue"], got
    return got


def main():
    with WorkDir() as work:
        users = write_users(work, USERS)
        for config, header, expected in [
                ("[messages]\nstamp_sender = true\n", "user-name", "alice"),
                ("", "user-name", "admin"),
                ('[messages]\nstamp_sender = true\nsender_header = "x-sender"\n', "x-sender",
                 "alice")]:
            got = run(work, users, config)
            seen = {body: headers.get(header) for body, headers in got.items()}
            label = config.strip().replace("\n", "; ") or "default"
            print(f"{label}: {header} on bob's MESSAGEs: {seen}")
            assert all(v == expected for v in seen.values()), seen
            if header != "user-name":
                assert all(h.get("user-name") == "admin" for h in got.values()), got
    print("sender_stamping: OK")


if __name__ == "__main__":
    main()
