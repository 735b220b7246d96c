"""fault.store_failure: the disk under the durable store fills up, then frees up.

The data dir is a 2 MiB tmpfs (skipped when mount is not permitted). After a few good SENDs a
filler file takes all the space; durable SENDs with receipts must then get an ERROR (never a
RECEIPT for a message that was not stored). Once the filler is deleted, SENDs get RECEIPTs again.
Finally the user receives every receipted message exactly once and none that got an ERROR.
"""

import errno
import os
import subprocess

from lib.broker import Broker, WorkDir, require_data_dir_flag, skip
from lib.client import Closed, TcpStomp

BODY = "y" * 8192
MAX_TRIES = 600          # SENDs while full: 4.8 MiB, more than the tmpfs holds
ERRORS_WANTED = 5
AFTER_FREE = 20
DEST = "/user/carol/queue/n"


def mount_tmpfs(path):
    os.makedirs(path)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        skip(f"cannot mount a tmpfs for the data dir (needs root / CAP_SYS_ADMIN): "
             f"{out.stderr.strip()}")


def fill(path):
    """Writes a file until the file system is full; returns its size."""
    chunk, size = b"\0" * 65536, 0
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                size += f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    return size
                chunk = chunk[:len(chunk) // 2]  # fill the last pages too


class Sender:
    """Durable SENDs one at a time, each answered by RECEIPT or ERROR (which closes: reconnect)."""

    def __init__(self, port):
        self.port, self.conn = port, None
        self.receipted, self.errored, self.seq = [], [], 0
        self.error_messages = set()

    def send_one(self):
        if self.conn is None:
            self.conn = TcpStomp(self.port)
            self.conn.connect(login="app")
        body = f"m{self.seq} {BODY}"
        tag = f"m{self.seq}"
        self.seq += 1
        self.conn.send(DEST, body, receipt=tag)
        frame = self.conn.recv_frame(30.0)
        assert frame is not None, f"{tag}: neither RECEIPT nor ERROR in 30 s"
        if frame.command == "RECEIPT":
            assert frame.headers["receipt-id"] == tag, frame
            self.receipted.append(tag)
            return True
        assert frame.command == "ERROR", frame
        self.errored.append(tag)
        self.error_messages.add(frame.headers.get("message"))
        try:
            self.conn.recv_frame(5.0)
        except (Closed, OSError):
            pass
        self.conn.close()
        self.conn = None
        return False


def drain(port):
    conn = TcpStomp(port)
    conn.connect(login="carol")
    conn.subscribe("/user/queue/n", "s", receipt="sub")
    tags = []
    while (frame := conn.recv_frame(3.0)) is not None:
        assert frame.command == "MESSAGE", frame
        tags.append(frame.text().split(" ", 1)[0])
    conn.disconnect()
    return tags


def run(broker, data):
    sender = Sender(broker.tcp_port)
    for _ in range(5):
        assert sender.send_one(), "a SEND failed before the disk was full"
    filled = fill(os.path.join(data, "filler"))
    before = len(sender.receipted)
    while len(sender.errored) < ERRORS_WANTED and sender.seq < MAX_TRIES:
        sender.send_one()
    full_ok = len(sender.receipted) - before
    print(f"disk full ({filled} B filler): {full_ok} SENDs still receipted (space SQLite had), "
          f"{len(sender.errored)} got ERROR {sorted(sender.error_messages)}")
    assert sender.errored, f"{MAX_TRIES} SENDs on a full disk and never an ERROR"
    os.remove(os.path.join(data, "filler"))
    recovered = [sender.send_one() for _ in range(AFTER_FREE)]
    print(f"after freeing: {sum(recovered)}/{AFTER_FREE} SENDs receipted")
    assert all(recovered), f"SENDs after freeing space: {recovered}"
    assert broker.alive(), "broker died on a full disk"
    tags = drain(broker.tcp_port)
    lost = set(sender.receipted) - set(tags)
    dupes = len(tags) - len(set(tags))
    errored_delivered = set(sender.errored) & set(tags)
    print(f"delivered {len(tags)}: receipted {len(sender.receipted)}, lost {len(lost)}, "
          f"duplicates {dupes}, ERRORed but delivered {len(errored_delivered)}")
    assert not lost, f"receipted but never delivered: {sorted(lost)[:10]}"
    assert dupes == 0, "a message was delivered twice"
    assert not errored_delivered, \
        f"got ERROR yet delivered (a retry would duplicate it): {sorted(errored_delivered)[:10]}"


def main():
    require_data_dir_flag()
    with WorkDir() as work:
        data = os.path.join(work, "data")
        mount_tmpfs(data)
        try:
            with Broker(work, data_dir=data).start() as broker:
                run(broker, data)
        finally:
            subprocess.run(["umount", "-l", data], check=False)
    print("store_failure: OK")


if __name__ == "__main__":
    main()
