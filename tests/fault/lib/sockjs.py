"""Raw SockJS HTTP requests (one socket each, optionally from a chosen source port)."""

import socket

HOST = "127.0.0.1"


def http_socket(port, source_port=0, timeout=5.0, source_host=HOST):
    """A TCP socket to 127.0.0.1:port, bound first to `source_host`:`source_port` (0: any);
    another loopback address (127.0.0.2) makes another client."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((source_host, source_port))
    sock.settimeout(timeout)
    sock.connect((HOST, port))
    return sock


def request_bytes(method, path, body=b"", content_length=None, headers=None):
    length = len(body) if content_length is None else content_length
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: text/plain\r\n"
            f"{extra}Content-Length: {length}\r\n\r\n")
    return head.encode() + body


def read_response(sock, timeout=5.0):
    """Everything until the server closes (every SockJS answer here ends with the response)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def status_of(response):
    """The HTTP status code, or None when nothing came."""
    parts = response.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") else None


def open_session(ws_port, session_id, source_port=0):
    """POST .../xhr: creates the session; returns (status, body bytes)."""
    sock = http_socket(ws_port, source_port)
    try:
        sock.sendall(request_bytes("POST", f"/sockjs/000/{session_id}/xhr"))
        response = read_response(sock)
    finally:
        sock.close()
    return status_of(response), response.split(b"\r\n\r\n", 1)[-1]
