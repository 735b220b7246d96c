"""Real proxies in front of the broker, as docs/cluster.md configures them: nginx (HTTP with
X-Forwarded-For) and HAProxy (`mode http` + `option forwardfor`, or `mode tcp` with
`send-proxy` / `send-proxy-v2`). Each runs in the foreground from a config in the work dir, on
free ports, with its pid, logs and temp files there, and is stopped by its pid.

Clients bind their sockets to other loopback addresses (127.0.0.2, 127.0.0.3: all of
127.0.0.0/8 is loopback on Linux) so that the broker, which sees only the proxy's 127.0.0.1,
can be checked for naming the real client.
"""

import os
import shutil
import socket
import subprocess
import time

from lib.broker import HOST, accepts, free_port, skip


def require(*programs):
    """Skips the test (exit 77) when a proxy is not installed (scripts/deps.sh test installs
    nginx and haproxy)."""
    for program in programs:
        if not shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
            skip(f"{program} is not installed (scripts/deps.sh test installs it)")


def _which(program):
    return shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


class _Proxy:
    name = "proxy"

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.ports = {}

    def _run(self, args, ports):
        log = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        for port in ports:
            while not accepts(port):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start:\n{self.log()}")
                time.sleep(0.05)
        return self

    def log(self):
        text = ""
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), "rb") as f:
                    text += f.read().decode("utf-8", "replace")[-3000:]
        return text

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class Nginx(_Proxy):
    """nginx in front of the WebSocket port: /ws, /sockjs and /api/ as docs/cluster.md."""

    name = "nginx"

    def start(self, ws_port):
        port = free_port()
        d = self.dir
        user = "user root root;\n" if os.geteuid() == 0 else ""  # temp files in our 0700 dir
        conf = f"""{user}worker_processes 1;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
worker_rlimit_nofile 8192;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    upstream stompbox_ws {{ server {HOST}:{ws_port}; }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen {HOST}:{port};
        location /ws {{
            proxy_pass http://stompbox_ws;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            proxy_buffering off;
        }}
        location /sockjs {{ proxy_pass http://stompbox_ws; proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off; proxy_read_timeout 3600s; }}
        location /api/ {{ proxy_pass http://stompbox_ws;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }}
    }}
}}
"""
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.port = port
        return self._run([_which("nginx"), "-e", f"{d}/error.log", "-p", d, "-c", path, "-g",
                          "daemon off;"], [port])


class HAProxy(_Proxy):
    """HAProxy: `http` mode with `option forwardfor` in front of the WebSocket port, or `tcp`
    mode listeners that speak the PROXY protocol to the broker (send-proxy / send-proxy-v2)."""

    name = "haproxy"

    def start_http(self, ws_port):
        self.port = free_port()
        body = f"""frontend push
    bind {HOST}:{self.port}
    option forwardfor
    default_backend stompbox_ws

backend stompbox_ws
    server n1 {HOST}:{ws_port}
"""
        return self._start(body, [self.port])

    def start_tcp(self, routes):
        """routes = {name: (broker port, "send-proxy" or "send-proxy-v2")}; self.ports[name] is
        the port to connect to."""
        body = ""
        for name, (target, option) in routes.items():
            self.ports[name] = free_port()
            body += f"""listen {name}
    mode tcp
    bind {HOST}:{self.ports[name]}
    server n1 {HOST}:{target} {option}

"""
        return self._start(body, list(self.ports.values()))

    def _start(self, body, ports):
        conf = f"""global
    maxconn 8000

defaults
    mode http
    timeout connect 5s
    timeout client  1h
    timeout server  1h
    timeout tunnel  1h

{body}"""
        path = os.path.join(self.dir, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(conf)
        return self._run([_which("haproxy"), "-db", "-f", path], ports)


def client_socket(source_ip, port, timeout=10.0):
    """A TCP socket from `source_ip` (any port) to 127.0.0.1:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source_ip, 0))
    sock.settimeout(timeout)
    sock.connect((HOST, port))
    return sock


def ws_upgrade(source_ip, port, extra_headers=""):
    """One WebSocket upgrade to 127.0.0.1:`port` from `source_ip`, with `extra_headers`
    ("Name: value\r\n" lines); returns (HTTP status or None, the socket)."""
    sock = client_socket(source_ip, port)
    sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  f"Sec-WebSocket-Version: 13\r\n{extra_headers}\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(4096)
        if not data:
            break
        head += data
    parts = head.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 else None), sock


def read_to_eof(sock):
    """Every byte `sock` receives until the peer closes; then closes it."""
    answer = b""
    while True:
        data = sock.recv(4096)
        if not data:
            break
        answer += data
    sock.close()
    return answer
