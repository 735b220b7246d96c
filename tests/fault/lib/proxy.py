"""A one-connection TCP proxy (a thread) that can go silent: after freeze() it stops
forwarding both ways without closing anything, as a peer whose machine vanished (no FIN, no
RST). It keeps reading the broker's side, discarding, so that it sees when the broker closes.
"""

import select
import socket
import threading
import time

HOST = "127.0.0.1"


class SilentProxy(threading.Thread):
    def __init__(self, upstream_port):
        super().__init__(daemon=True)
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((HOST, 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.frozen_at = None
        self.upstream_closed_at = None
        self.upstream_close_kind = None
        self.discarded = 0  # bytes from the broker swallowed while frozen
        self._halt = False

    def freeze(self):
        self.frozen_at = time.monotonic()

    def shutdown(self):
        self._halt = True
        self.join(5)

    def run(self):
        down, _ = self.listener.accept()
        up = socket.create_connection((HOST, self.upstream_port))
        try:
            self._pump(down, up)
        finally:
            # Closed only now, at the end of the test: the client side stays "half-open".
            for s in (down, up, self.listener):
                s.close()

    def _pump(self, down, up):
        while not self._halt and self.upstream_closed_at is None:
            watched = [up] if self.frozen_at else [down, up]
            readable, _, _ = select.select(watched, [], [], 0.05)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data, kind = b"", "RST"
                else:
                    kind = "FIN"
                if sock is up and not data:
                    self.upstream_closed_at, self.upstream_close_kind = time.monotonic(), kind
                    return
                if not data:
                    continue  # the client side closing is not part of this test
                if self.frozen_at:
                    self.discarded += len(data)
                else:
                    (up if sock is down else down).sendall(data)
