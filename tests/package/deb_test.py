#!/usr/bin/env python3
"""Tests of the Debian package that scripts/package.sh builds (ctest -L package in its build dir):

  deb_test.py lintian DEB   lintian finds no error in the package (its other tags are printed)
  deb_test.py unit DEB      the unit in the package: the settings the service relies on, and
                            systemd-analyze security's exposure at most 2.0 (today 1.8)
  deb_test.py install DEB   as root: dpkg -i; systemd-analyze verify on the installed unit; the
                            packaged binary, started with the packaged config as user stompbox,
                            refuses every login (no users yet), then, once a user is added as the
                            README says (stompbox passwd, the users file, SIGHUP), lets a STOMP
                            client in over TCP and over WebSocket; dpkg -r, then dpkg -P, leave
                            nothing behind. The machine is left as it was: the package purged,
                            the user stompbox deleted if this test added it.

Only the three ports are overridden (free ports on 127.0.0.1, flags over the packaged config):
the defaults (15674, 61613, 15692) could collide with other tests running at the same time.
Exit status 77 (ctest: skipped) when the check cannot run here; the reason is printed.
"""

import grp
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fault"))
from lib.broker import free_port, skip, wait_listening  # noqa: E402
from lib.client import TcpStomp, WsStomp  # noqa: E402

PACKAGE = "stompbox"
USER = "stompbox"
CONFIG = "/etc/stompbox/stompbox.toml"
USERS = "/etc/stompbox/users.toml"
UNIT = "/lib/systemd/system/stompbox.service"
STATE = "/var/lib/stompbox"
# What the package owns or its scripts make; after dpkg -P none of it may be left.
PACKAGE_PATHS = ["/usr/bin/stompbox", CONFIG, USERS, "/etc/stompbox", UNIT,
                 "/usr/share/man/man1/stompbox.1.gz", "/usr/share/doc/stompbox", STATE,
                 "/etc/systemd/system/multi-user.target.wants/stompbox.service",
                 "/etc/systemd/system/stompbox.service",
                 "/var/lib/systemd/deb-systemd-helper-enabled/stompbox.service.dsh-also",
                 "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/"
                 "stompbox.service",
                 "/var/lib/systemd/deb-systemd-helper-masked/stompbox.service"]
# Kept by dpkg -r (Debian policy: configuration stays until purge).
CONFFILES = [CONFIG, USERS]
REMOVED_BY_R = ["/usr/bin/stompbox", UNIT, "/usr/share/man/man1/stompbox.1.gz",
                "/usr/share/doc/stompbox"]


def run(*args, check=True, **kwargs):
    """Runs a command, prints it and its output; fails the test on a non-zero status."""
    print("$", " ".join(args), flush=True)
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
    text = (out.stdout + out.stderr).strip()
    if text:
        print(text, flush=True)
    if check and out.returncode != 0:
        raise AssertionError(f"{args[0]} exited with {out.returncode}")
    return out


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print("ok:", what, flush=True)


def package_status():
    """dpkg's status word for the package ("installed", "config-files"), or "" if unknown."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", PACKAGE],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def exists(path):
    return os.path.lexists(path)


def paths_named_stompbox():
    """Every path outside /proc, /sys, /tmp and the homes whose name holds "stompbox"."""
    out = subprocess.run(["find", "/etc", "/lib", "/usr", "/var", "/run", "/opt", "/srv",
                          "-xdev", "-name", "*stompbox*"], capture_output=True, text=True)
    return set(out.stdout.split())


# ---------------------------------------------------------------------------------- lintian

def lintian(deb):
    # --fail-on error: errors fail, warnings and info are listed (the report names them).
    out = run("lintian", "--display-info", "--display-experimental", "--fail-on", "error", deb,
              check=False)
    check(out.returncode == 0, f"lintian finds no error in {os.path.basename(deb)}")
    tags = [line for line in out.stdout.splitlines() if line[:2] in ("E:", "W:")]
    print(f"{len(tags)} errors or warnings", flush=True)


# ---------------------------------------------------------------------------------- unit

# Lines the unit must hold: what the package's promises rest on.
UNIT_LINES = ["User=stompbox", "StateDirectory=stompbox", "Restart=on-failure",
              "ExecReload=/bin/kill -HUP $MAINPID",
              "ExecStart=/usr/bin/stompbox --config /etc/stompbox/stompbox.toml",
              "CapabilityBoundingSet=", "NoNewPrivileges=yes", "ProtectSystem=strict",
              "ProtectHome=yes", "PrivateTmp=yes",
              "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"]
DEFAULT_MAX_CONNECTIONS = 50000  # [limits] max_connections: a descriptor each


def unit(deb):
    with tempfile.TemporaryDirectory(prefix="stompbox-unit-") as root:
        run("dpkg-deb", "-x", deb, root)
        path = os.path.join(root, UNIT.lstrip("/"))
        with open(path) as f:
            lines = [line.strip() for line in f]
        for wanted in UNIT_LINES:
            check(wanted in lines, f"the unit says {wanted}")
        nofile = [int(line.split("=", 1)[1]) for line in lines if line.startswith("LimitNOFILE=")]
        check(nofile and nofile[0] >= DEFAULT_MAX_CONNECTIONS + 1000,
              f"LimitNOFILE={nofile} leaves room above {DEFAULT_MAX_CONNECTIONS} connections")
        # Offline: no running systemd needed. --threshold: exits non-zero above 2.0 ("OK").
        out = run("systemd-analyze", "security", "--offline=yes", "--threshold=20", path,
                  check=False)
        exposure = [line for line in out.stdout.splitlines() if "Overall exposure" in line]
        check(out.returncode == 0, f"systemd-analyze security: {exposure}, at most 2.0")


# ---------------------------------------------------------------------------------- install

class PackagedBroker:
    """/usr/bin/stompbox --config /etc/stompbox/stompbox.toml as user stompbox (setpriv), in
    /var/lib/stompbox as systemd would run it, on free loopback ports."""

    def __init__(self, log_path):
        self.log_path = log_path
        self.tcp_port, self.ws_port, self.metrics_port = free_port(), free_port(), free_port()
        self.proc = None

    def start(self):
        args = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--init-groups",
                "/usr/bin/stompbox", "--config", CONFIG,
                "--tcp", f"127.0.0.1:{self.tcp_port}", "--ws", f"127.0.0.1:{self.ws_port}",
                "--metrics", f"127.0.0.1:{self.metrics_port}"]
        print("$", " ".join(args), flush=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, cwd=STATE, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        wait_listening(self.proc, (self.tcp_port, self.ws_port), self.log)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                raise AssertionError(f"not in the log after {timeout} s: {text}\n{self.log()}")
            time.sleep(0.05)

    def stop(self):
        """SIGTERM (SIGKILL after 10 s); the exit status, None if it had to be killed."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.terminate()
        try:
            return proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None


def add_user(name, password, roles):
    """What the README tells an operator to do: `stompbox passwd`, then a [[user]] table."""
    out = subprocess.run(["/usr/bin/stompbox", "passwd"], input=password + "\n",
                         capture_output=True, text=True, timeout=60, check=True)
    digest = out.stdout.strip()
    check(digest.startswith("$pbkdf2-sha256$"), "stompbox passwd prints a hash")
    with open(USERS, "a") as f:
        f.write(f'\n[[user]]\nname = "{name}"\npassword = "{digest}"\nroles = {roles}\n')


def check_installed():
    check(package_status() == "installed", "dpkg says installed")
    conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", PACKAGE).stdout
    for path in CONFFILES:
        check(path in conffiles, f"{path} is a conffile")
    for path in ["/usr/bin/stompbox", UNIT, "/usr/share/man/man1/stompbox.1.gz",
                 "/usr/share/doc/stompbox/copyright", "/usr/share/doc/stompbox/changelog.gz"]:
        check(os.path.isfile(path), f"{path} installed")
    user = pwd.getpwnam(USER)
    check(user.pw_uid < 1000 and user.pw_shell.endswith("nologin"),
          f"{USER} is a system user without a login shell (uid {user.pw_uid})")
    st = os.stat(USERS)
    check(st.st_uid == 0 and grp.getgrgid(st.st_gid).gr_name == USER
          and (st.st_mode & 0o777) == 0o640, f"{USERS} is root:{USER} 0640")
    st = os.stat(STATE)
    check(st.st_uid == user.pw_uid and (st.st_mode & 0o777) == 0o750,
          f"{STATE} is {USER}'s, 0750")
    check(exists("/etc/systemd/system/multi-user.target.wants/stompbox.service"),
          "the service is enabled (deb-systemd-helper)")
    # postinst run again (dpkg-reconfigure, a reinstall) changes nothing; as dpkg runs it.
    version = run("dpkg-query", "-W", "-f=${Version}", PACKAGE).stdout
    env = dict(os.environ, DPKG_MAINTSCRIPT_PACKAGE=PACKAGE, DPKG_MAINTSCRIPT_NAME="postinst")
    run("/var/lib/dpkg/info/stompbox.postinst", "configure", version, env=env)
    check(pwd.getpwnam(USER).pw_uid == user.pw_uid, "postinst run twice keeps the user")


def check_unit():
    # --man=no: Documentation=man:stompbox(1) is checked above as a file; `man` may be absent.
    out = run("systemd-analyze", "verify", "--man=no", UNIT, check=False)
    check(out.returncode == 0 and not (out.stdout + out.stderr).strip(),
          "systemd-analyze verify accepts the installed unit, with no warning")


def check_service_run(workdir):
    broker = PackagedBroker(os.path.join(workdir, "stompbox.log"))
    broker.start()
    try:
        uid = pwd.getpwnam(USER).pw_uid
        with open(f"/proc/{broker.proc.pid}/status") as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        check(all(int(u) == uid for u in uids), f"the broker runs as {USER} (uid {uid})")
        check("DEVELOPMENT MODE" not in broker.log(), "production mode: no development warning")
        check(os.stat(os.path.join(STATE, "stompbox.db")).st_uid == uid,
              f"the store is {STATE}/stompbox.db, written by {USER}")

        # No users yet: a login is refused, with an ERROR frame.
        refused = TcpStomp(broker.tcp_port)
        refused.send_frame("CONNECT", {"accept-version": "1.2", "host": "/", "login": "alice",
                                       "passcode": "s3cret"})
        frame = refused.recv_frame(timeout=15)
        check(frame is not None and frame.command == "ERROR",
              f"with no users, CONNECT gets ERROR ({frame!r})")
        refused.close()

        add_user("alice", "s3cret", '["publisher"]')
        os.kill(broker.proc.pid, signal.SIGHUP)  # what `systemctl reload stompbox` sends
        broker.wait_log(f"users file {USERS} reloaded")

        ws = WsStomp(broker.ws_port)  # the upgrade itself answered 101 (else it raises)
        connected = ws.connect(login="alice", passcode="s3cret", timeout=15)
        check(connected.headers.get("user-name") == "alice",
              "WebSocket upgrade, then CONNECT -> CONNECTED as alice")
        ws.subscribe("/topic/package", receipt="sub")  # returns once its RECEIPT came
        tcp = TcpStomp(broker.tcp_port)
        tcp.connect(login="alice", passcode="s3cret", timeout=15)
        print("ok: STOMP over TCP: CONNECT -> CONNECTED as alice", flush=True)
        tcp.send("/topic/package", b"installed")
        message = ws.expect("MESSAGE")
        check(message.body == b"installed", "a SEND over TCP reaches the WebSocket subscriber")
        tcp.disconnect()
        ws.disconnect()
    finally:
        status = broker.stop()
    check(status == 0, f"SIGTERM: the broker exits 0 (got {status})")


def check_remove_and_purge(before):
    run("dpkg", "-r", PACKAGE)
    check(package_status() == "config-files", "dpkg -r: only the configuration stays")
    for path in REMOVED_BY_R:
        check(not exists(path), f"dpkg -r removed {path}")
    for path in CONFFILES:
        check(exists(path), f"dpkg -r keeps the conffile {path} (policy)")
    run("dpkg", "-P", PACKAGE)
    check(package_status() == "", "dpkg -P: dpkg knows the package no more")
    left = [path for path in PACKAGE_PATHS if exists(path)]
    check(not left, f"dpkg -P left none of the package's paths ({left})")
    left = sorted(paths_named_stompbox() - before)
    check(not left, f"dpkg -P left no new path named *stompbox* ({left})")


def install(deb, workdir):
    if os.geteuid() != 0:
        skip("installing a package needs root (CI runs as root)")
    if package_status():
        skip(f"a {PACKAGE} package is on this machine already ({package_status()}): "
             "the test would replace it")
    try:
        pwd.getpwnam(USER)
        user_existed = True
    except KeyError:
        user_existed = False
    before = paths_named_stompbox()
    try:
        run("dpkg", "-i", deb)
        check_installed()
        check_unit()
        check_service_run(workdir)
        check_remove_and_purge(before)
    finally:
        # Leave the machine as it was, whatever failed above.
        if package_status():
            run("dpkg", "-P", PACKAGE, check=False)
        for path in (STATE, "/etc/stompbox"):  # what a broken postrm would leave
            if path not in before and os.path.isdir(path):
                shutil.rmtree(path)
        if not user_existed:
            run("deluser", "--system", "--quiet", USER, check=False)  # says no cron: fine
            if grp_exists(USER):
                run("delgroup", "--system", "--quiet", USER, check=False)
    check(user_existed or not grp_exists(USER),
          f"the user and group {USER} the test added are gone")


def grp_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("lintian", "unit", "install"):
        sys.exit(f"usage: {sys.argv[0]} lintian|unit|install DEB")
    deb = os.path.abspath(sys.argv[2])
    if not os.path.isfile(deb):
        sys.exit(f"{deb}: no such package; scripts/package.sh builds it")
    if sys.argv[1] == "lintian":
        lintian(deb)
    elif sys.argv[1] == "unit":
        unit(deb)
    else:
        with tempfile.TemporaryDirectory(prefix="stompbox-deb-") as workdir:
            install(deb, workdir)
    print("passed", flush=True)


if __name__ == "__main__":
    main()
