"""The real stompbox process for a fault test: free ports, a config file, a data dir, the log,
and what /proc says about it (fds, RSS, CPU time). Stopped by pid, never by name.
"""

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
SKIP = 77  # ctest SKIP_RETURN_CODE of every fault test
READY_TIMEOUT_S = 20.0


def skip(reason):
    """Ends the test as skipped (ctest shows it as such) with the reason on stdout."""
    print(f"SKIPPED: {reason}", flush=True)
    sys.exit(SKIP)


def binary():
    path = os.environ.get("STOMPBOX_BIN")
    if not path:
        raise RuntimeError("STOMPBOX_BIN is not set (path of the stompbox binary)")
    return path


_help = None


def help_text():
    """`stompbox --help`: which flags this build has."""
    global _help
    if _help is None:
        out = subprocess.run([binary(), "--help"], capture_output=True, text=True, timeout=10)
        _help = out.stdout + out.stderr
    return _help


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def accepts(port):
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_listening(proc, ports, log, timeout=READY_TIMEOUT_S):
    """Returns once every port of `ports` accepts; raises with the tail of `log()` if `proc`
    exits first or the ports stay closed for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    for port in ports:
        while not accepts(port):
            if proc.poll() is not None:
                raise RuntimeError(f"stompbox exited with {proc.returncode}:\n{log()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"stompbox did not listen on {port}:\n{log()[-4000:]}")
            time.sleep(0.05)


class Broker:
    """One stompbox process. `config` is TOML text written to a file in the work dir;
    `data_dir` is passed as --data-dir when set; `wrapper` prefixes the command (prlimit);
    `args` are more command-line flags."""

    def __init__(self, workdir, config="", data_dir=None, wrapper=(), threads=2, args=()):
        self.workdir = workdir
        self.args = list(args)
        self.config, self.data_dir, self.wrapper, self.threads = config, data_dir, wrapper, threads
        self.proc = None
        self.killed = False      # the test sent SIGKILL on purpose
        self.exit_status = None  # of the last stop()
        self.log_path = os.path.join(workdir, "stompbox.log")
        self.tcp_port = self.ws_port = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        """Starts on fresh free ports and returns once both listeners accept."""
        self.tcp_port, self.ws_port = free_port(), free_port()
        self.killed = False
        cfg = os.path.join(self.workdir, "stompbox.toml")
        with open(cfg, "w") as f:
            f.write(self.config)
        args = [*self.wrapper, binary(), "--config", cfg, "--tcp", f"{HOST}:{self.tcp_port}",
                "--ws", f"{HOST}:{self.ws_port}", "--threads", str(self.threads)]
        if "--data-dir" in help_text():  # never the default ./data in the source tree
            args += ["--data-dir", self.data_dir or os.path.join(self.workdir, "data")]
        if "--metrics" in help_text():  # any free port: tests run in parallel
            args += ["--metrics", f"{HOST}:0"]
        args += self.args
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        wait_listening(self.proc, (self.tcp_port, self.ws_port), self.log)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL: no flush, no clean close; returns once the process is reaped."""
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s. Returns the exit status (None if it had to be killed)."""
        self.exit_status = self._stop()
        return self.exit_status

    def _stop(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return self.exit_status
        if proc.poll() is not None:
            return proc.returncode
        proc.terminate()
        try:
            return proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None

    def assert_clean_exit(self):
        """After stop(): SIGTERM must end the broker with status 0 within 10 s. In the
        sanitizer build a report at exit (a leak, a use after free in shutdown) changes the
        status, so every process test also checks the broker's shutdown."""
        if self.killed:
            return
        assert self.exit_status == 0, (
            f"stompbox did not exit cleanly on SIGTERM (status {self.exit_status}, None = "
            f"killed after 10 s):\n{self.log()[-6000:]}")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=5.0):
        """Polls the log until it contains `text` (a line may be written just after the event
        the test saw); returns whether it did."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # --- what the kernel says about the process ---

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self):
        """utime + stime of the whole process (all threads)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_fds(self, target, timeout=15.0):
        """Polls until the fd count is <= target; returns the last count seen."""
        deadline = time.monotonic() + timeout
        while True:
            count = self.fd_count()
            if count <= target or time.monotonic() > deadline:
                return count
            time.sleep(0.05)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        if exc[0] is None:
            self.assert_clean_exit()
        return False


class WorkDir:
    """A temporary directory removed at exit (kept when FAULT_KEEP=1, for a post-mortem)."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="stompbox-fault-")
        return self.path

    def __exit__(self, *exc):
        if os.environ.get("FAULT_KEEP") == "1":
            print(f"work dir kept: {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


def password_hash(password, iterations=1000):
    """A users-file hash (`$pbkdf2-sha256$i=N$salt$hash`, standard base64) made here, as other
    tools make them. 1,000 iterations is the broker's minimum: checking it costs ~0.3 ms, not the
    ~150 ms of `stompbox passwd`'s 600,000, which matters where every publish API request
    authenticates."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations, 32)
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"$pbkdf2-sha256$i={iterations}${salt_b64}${digest_b64}"


def write_users(workdir, users):
    """Writes users.toml in `workdir` for `users` = {name: (password, [roles])}; returns the
    config text that points the broker at it (`[auth] users_file`)."""
    path = os.path.join(workdir, "users.toml")
    with open(path, "w") as f:
        for name, (password, roles) in users.items():
            role_list = ", ".join(f'"{r}"' for r in roles)
            f.write(f'[[user]]\nname = "{name}"\npassword = "{password_hash(password)}"\n'
                    f"roles = [{role_list}]\n\n")
    return f'[auth]\nusers_file = "{path}"\n'


def require_data_dir_flag():
    if "--data-dir" not in help_text():
        skip("this stompbox has no --data-dir flag (durable store on disk not wired yet)")
