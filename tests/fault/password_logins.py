"""fault.password_logins: issue #14 case 5, password logins off the I/O threads.

One PBKDF2-SHA256 check of 600,000 iterations costs 150-260 ms of a core. With one I/O thread
(--threads 1) a connected client sends SENDs with receipts while another logs in with such a
password: its RECEIPTs must come within a few ms (before the fix the I/O thread ran the hash and
every RECEIPT waited for it). Then the verified-credential cache: the same login again is
answered without a hash; a wrong password is still refused; after the users file is rewritten
with a new password and the broker gets SIGHUP, the old password is refused (not answered from
the cache) and the new one accepted.
"""

import os
import select
import signal
import time

from lib.broker import Broker, WorkDir, password_hash
from lib.client import TcpStomp

SLOW = 600_000  # `stompbox passwd`'s default: what blocking is about
FAST = 1_000    # the minimum: where only the cache is under test
# Generous for ASan and a shared machine; the hash alone takes 150 ms or more.
MAX_RECEIPT_S = 0.060


def write_users_file(path, users):
    """users = {name: (password, iterations)}"""
    with open(path, "w") as f:
        for name, (password, iterations) in users.items():
            f.write(f'[[user]]\nname = "{name}"\n'
                    f'password = "{password_hash(password, iterations)}"\nroles = ["user"]\n\n')


def receipts_while_logging_in(port, watcher):
    """Alice logs in (one slow hash) while `watcher` sends SENDs with receipts, one at a time,
    until her answer comes. Returns (receipt latencies, her login time, her answer)."""
    alice = TcpStomp(port)
    started = time.monotonic()
    alice.send_frame("CONNECT", {"accept-version": "1.2", "host": "/", "heart-beat": "0,0",
                                 "login": "alice", "passcode": "old-pw"})
    time.sleep(0.005)  # the CONNECT is in the broker before the first SEND
    latencies = []
    while True:
        sent = time.monotonic()
        watcher.send("/topic/nobody", "ping", receipt=f"p{len(latencies)}")
        watcher.expect("RECEIPT")
        latencies.append(time.monotonic() - sent)
        if select.select([alice.sock], [], [], 0)[0] or time.monotonic() - started > 10:
            break
    answer = alice.recv_frame(10.0)
    login_s = time.monotonic() - started
    alice.close()
    return latencies, login_s, answer


def timed_login(port, password):
    conn = TcpStomp(port)
    started = time.monotonic()
    conn.send_frame("CONNECT", {"accept-version": "1.2", "host": "/", "heart-beat": "0,0",
                                "login": "alice", "passcode": password})
    frame = conn.recv_frame(10.0)
    elapsed = time.monotonic() - started
    conn.close()
    return frame, elapsed


def main():
    with WorkDir() as work:
        users = os.path.join(work, "users.toml")
        write_users_file(users, {"watcher": ("watcher-pw", FAST), "alice": ("old-pw", SLOW)})
        with Broker(work, f'[auth]\nusers_file = "{users}"\n', threads=1) as broker:
            broker.start()
            watcher = TcpStomp(broker.tcp_port)
            watcher.connect(login="watcher", passcode="watcher-pw")

            latencies, login_s, answer = receipts_while_logging_in(broker.tcp_port, watcher)
            print(f"first login (600,000 iterations): {login_s * 1000:.0f} ms; "
                  f"{len(latencies)} receipts meanwhile, slowest {max(latencies) * 1000:.1f} ms")
            assert answer is not None and answer.command == "CONNECTED", answer
            assert max(latencies) < MAX_RECEIPT_S, (
                f"a RECEIPT on the same I/O thread waited {max(latencies) * 1000:.0f} ms during "
                f"a password check")
            assert len(latencies) >= 5, f"only {len(latencies)} receipts during the login"

            again, again_s = timed_login(broker.tcp_port, "old-pw")
            print(f"second login, same credentials: {again_s * 1000:.1f} ms")
            assert again is not None and again.command == "CONNECTED", again
            assert again_s < min(0.050, login_s / 3), (
                f"the second login took {again_s * 1000:.0f} ms: not answered from the cache")

            wrong, _ = timed_login(broker.tcp_port, "wrong-pw")
            assert wrong is not None and wrong.command == "ERROR", wrong
            assert wrong.headers.get("message") == "access refused", wrong

            write_users_file(users, {"watcher": ("watcher-pw", FAST), "alice": ("new-pw", FAST)})
            os.kill(broker.pid, signal.SIGHUP)
            assert broker.wait_log("users file") and "reloaded" in broker.log(), broker.log()[-2000:]
            old, _ = timed_login(broker.tcp_port, "old-pw")
            assert old is not None and old.command == "ERROR", (
                f"the old password still logs in after the reload: {old!r}")
            new, _ = timed_login(broker.tcp_port, "new-pw")
            assert new is not None and new.command == "CONNECTED", new
            watcher.disconnect()
    print("ok")


if __name__ == "__main__":
    main()
