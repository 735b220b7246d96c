"""Starts the real stompbox binary (path in $STOMPBOX_BIN) on free local ports for a test.

The Python twin of broker.js: free ports are picked by binding port 0, readiness is awaited by
connecting to both listeners, and the process is stopped by pid (SIGTERM, then SIGKILL).
"""

import os
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"
READY_TIMEOUT_S = 20.0
STOP_GRACE_S = 5.0


def free_port():
    """Return a port that was free a moment ago (bound to 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _accepts(port):
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


class Broker:
    """One stompbox process on fixed ports; use as a context manager."""

    def __init__(self):
        self.tcp_port = free_port()
        self.ws_port = free_port()
        self.host = HOST
        self.proc = None
        self.log = tempfile.TemporaryFile()

    def start(self):
        binary = os.environ.get("STOMPBOX_BIN")
        if not binary:
            raise RuntimeError("STOMPBOX_BIN is not set (path of the stompbox binary)")
        args = [binary, "--tcp", f"{HOST}:{self.tcp_port}", "--ws", f"{HOST}:{self.ws_port}",
                "--threads", "2", "--log-level", os.environ.get("STOMPBOX_LOG_LEVEL", "info"),
                # Nothing on disk, no fixed metrics port: tests run side by side.
                "--data-dir", ":memory:", "--metrics", f"{HOST}:0"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        for port in (self.tcp_port, self.ws_port):
            while not _accepts(port):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"stompbox exited early:\n{self.output()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"stompbox did not listen on {port}:\n{self.output()}")
                time.sleep(0.05)

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_GRACE_S. Returns the exit status (None: killed)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is not None:
            return proc.returncode
        proc.terminate()
        try:
            return proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None

    def output(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        status = self.stop()
        # A clean shutdown is status 0; in the sanitizer build a report at exit (a leak) is not.
        if exc[0] is None:
            assert status == 0, f"stompbox exited with {status} on SIGTERM:\n{self.output()[-6000:]}"
        return False
