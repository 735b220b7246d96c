"""Raw STOMP clients over TCP and WebSocket (RFC 6455, client side, minimal), thread-safe sends.

Both expose the same methods; only how bytes reach the broker differs. Also: durable SENDs with
a receipt each (send_receipted) and the HTTP publish API (api_publish).
"""

import base64
import http.client
import json
import os
import socket
import struct
import threading
import time

from lib.frames import FrameReader, encode

HOST = "127.0.0.1"


class Closed(Exception):
    """The broker closed the connection (FIN, RST or a WebSocket close frame)."""


def rst_close(sock):
    """Closes with SO_LINGER 0: the peer sees RST, not FIN, and no TIME_WAIT is left here."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def open_socket(port, rcvbuf=None, timeout=10.0):
    """A TCP socket connected to 127.0.0.1:port; `rcvbuf` is set before connect (window size)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((HOST, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _Stomp:
    """STOMP over some byte stream; subclasses define _write(bytes) and _read(timeout)."""

    def __init__(self, sock):
        self.sock = sock
        self.reader = FrameReader()
        self.send_lock = threading.Lock()
        self.last_send = time.monotonic()
        self.closed_by_peer = None  # why the broker closed, once seen

    def fileno(self):
        return self.sock.fileno()

    def send_bytes(self, data):
        with self.send_lock:
            self._write(data)
            self.last_send = time.monotonic()

    def send_frame(self, command, headers=None, body=b""):
        self.send_bytes(encode(command, headers, body))

    def heartbeat(self):
        """One EOL: a heart-beat, not a frame."""
        self.send_bytes(b"\n")

    def recv_frame(self, timeout=10.0):
        """The next frame, or None after `timeout` seconds without one. Raises Closed at EOF."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.reader.next_frame()
            if frame is not None:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            data = self._read(left)
            if data is None:
                continue  # timed out (the loop returns None) or a control frame was handled
            if not data:
                raise Closed(self.closed_by_peer or "eof")
            self.reader.feed(data)

    def expect(self, command, timeout=10.0):
        frame = self.recv_frame(timeout)
        if frame is None or frame.command != command:
            raise AssertionError(f"expected {command}, got {frame!r}")
        return frame

    def connect(self, login=None, heart_beat="0,0", host="/", timeout=10.0, passcode=None):
        headers = {"accept-version": "1.2", "host": host, "heart-beat": heart_beat}
        if login is not None:
            headers["login"] = login
        if passcode is not None:
            headers["passcode"] = passcode
        self.send_frame("CONNECT", headers)
        return self.expect("CONNECTED", timeout)

    def subscribe(self, destination, sub_id="0", ack="auto", receipt=None, **extra):
        headers = {"destination": destination, "id": sub_id, "ack": ack, **extra}
        if receipt is not None:
            headers["receipt"] = receipt
        self.send_frame("SUBSCRIBE", headers)
        if receipt is not None:
            self.expect("RECEIPT")

    def send(self, destination, body, receipt=None, **extra):
        headers = {"destination": destination, **extra}
        if receipt is not None:
            headers["receipt"] = receipt
        self.send_frame("SEND", headers, body)

    def messages(self, limit=None, idle_s=1.0, timeout=30.0):
        """MESSAGE frames: with `limit`, until that many came, waiting up to `timeout` s for each
        (fewer are returned if one does not come); without, until `idle_s` s pass without a
        frame. Any other frame (an ERROR) or the broker closing fails the test, saying how many
        MESSAGEs came before it."""
        frames = []
        while limit is None or len(frames) < limit:
            try:
                frame = self.recv_frame(idle_s if limit is None else timeout)
            except (Closed, OSError) as e:
                raise AssertionError(f"expected MESSAGEs, the broker closed the connection after "
                                     f"{len(frames)} ({e!r})") from e
            if frame is None:
                break
            if frame.command != "MESSAGE":
                raise AssertionError(f"expected MESSAGEs, got {frame!r} after {len(frames)}")
            frames.append(frame)
        return frames

    def disconnect(self, timeout=10.0):
        """DISCONNECT with a receipt, then close. Frames before the RECEIPT are discarded.
        Returns whether the RECEIPT came (False: timed out)."""
        self.send_frame("DISCONNECT", {"receipt": "bye"})
        try:
            while True:
                frame = self.recv_frame(timeout)
                if frame is None:
                    return False
                if frame.command == "RECEIPT" and frame.headers.get("receipt-id") == "bye":
                    return True
        finally:
            self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        rst_close(self.sock)


class TcpStomp(_Stomp):
    """STOMP over plain TCP."""

    def __init__(self, port, rcvbuf=None, timeout=10.0):
        super().__init__(open_socket(port, rcvbuf, timeout))

    def _write(self, data):
        self.sock.sendall(data)

    def _read(self, timeout):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            self.closed_by_peer = "reset"
            return b""


def ws_handshake(sock, port, path="/ws", protocol="v12.stomp", origin=None, host=None, extra=b""):
    """Sends the upgrade request (with `Origin` when given; `Host` defaults to the address
    dialled; `extra` bytes in the same write, right behind it); returns (status code, response
    head, bytes read past it)."""
    key = base64.b64encode(os.urandom(16)).decode()
    origin_line = f"Origin: {origin}\r\n" if origin is not None else ""
    request = (f"GET {path} HTTP/1.1\r\nHost: {host or f'{HOST}:{port}'}\r\n"
               f"Upgrade: websocket\r\n{origin_line}"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n")
    sock.sendall(request.encode() + extra)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        if not data:
            raise Closed("eof during the WebSocket handshake")
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), rest


def ws_frame(opcode, payload):
    """A masked client frame (FIN set)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class WsStomp(_Stomp):
    """STOMP over WebSocket: each frame we send is one text message."""

    def __init__(self, port, path="/ws", rcvbuf=None, timeout=10.0, origin=None):
        super().__init__(open_socket(port, rcvbuf, timeout))
        status, head, self.wsbuf = ws_handshake(self.sock, port, path, origin=origin)
        if status != 101:
            raise AssertionError(f"WebSocket upgrade refused: {head}")
        self.close_code = None

    def _write(self, data):
        self.sock.sendall(ws_frame(0x1, data))

    def _parse(self):
        """(opcode, payload) of the next whole server frame in wsbuf, or None."""
        buf = self.wsbuf
        if len(buf) < 2:
            return None
        opcode, n, pos = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                return None
            n, pos = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                return None
            n, pos = struct.unpack("!Q", buf[2:10])[0], 10
        if len(buf) < pos + n:
            return None
        self.wsbuf = buf[pos + n:]
        return opcode, buf[pos:pos + n]

    def _read(self, timeout):
        parsed = self._parse()
        if parsed is None:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                self.closed_by_peer = "reset"
                return b""
            if not data:
                return b""
            self.wsbuf += data
            return None
        opcode, payload = parsed
        if opcode == 0x8:  # close: remember the code, answer is not needed for the tests
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.closed_by_peer = f"websocket close {self.close_code}"
            return b""
        if opcode == 0x9:  # ping
            self.send_bytes_raw(ws_frame(0xA, payload))
            return None
        return payload if opcode in (0x0, 0x1, 0x2) else None

    def send_bytes_raw(self, data):
        with self.send_lock:
            self.sock.sendall(data)


class ReceiptReader(threading.Thread):
    """Reads `count` RECEIPTs on `conn` in a thread of its own (while another thread SENDs):
    `ids` in arrival order; `error` says what came instead, or when the connection ended."""

    def __init__(self, conn, count):
        super().__init__(daemon=True)
        self.conn, self.count, self.ids, self.error = conn, count, [], None

    def run(self):
        try:
            while len(self.ids) < self.count:
                frame = self.conn.recv_frame(60.0)
                if frame is None or frame.command != "RECEIPT":
                    self.error = f"got {frame!r} after {len(self.ids)} receipts"
                    return
                self.ids.append(frame.headers["receipt-id"])
        except (Closed, OSError) as e:
            self.error = f"closed after {len(self.ids)} receipts: {e!r}"


def consume_acked(port, destination, count, login="consumer"):
    """Consumes `count` messages with client-individual acks, prefetch 1, ACKing each: a paced
    reader (an auto-ack subscriber to a full queue gets it all at once, and the connection's
    max_pending_bytes, one frame behind the one being written, cuts it as a slow consumer).
    Returns (connection, the first word of each body)."""
    consumer = TcpStomp(port)
    consumer.connect(login=login)
    consumer.subscribe(destination, "c", ack="client-individual", receipt="sub",
                       **{"prefetch-count": "1"})
    got = []
    while len(got) < count:
        frame = consumer.recv_frame(30.0)
        assert frame is not None and frame.command == "MESSAGE", f"{frame!r} after {len(got)}"
        got.append(frame.text().split(" ", 1)[0])
        consumer.send_frame("ACK", {"id": frame.headers["ack"]})
    return consumer, got


def send_receipted(conn, destination, bodies, window=64, timeout=30.0):
    """SENDs every body to `destination`, each with a receipt, keeping at most `window` without
    their RECEIPT; returns once every RECEIPT came. Durable (user queue) SENDs are receipted once
    stored. Any other frame, or a RECEIPT missing for `timeout` seconds, fails the test."""
    receipted, sent = 0, 0

    def wait_one():
        nonlocal receipted
        frame = conn.recv_frame(timeout)
        if frame is None or frame.command != "RECEIPT":
            raise AssertionError(f"{destination}: expected the RECEIPT of SEND #{receipted}, got "
                                 f"{frame!r} ({sent} sent, {receipted} receipted)")
        receipted += 1

    for i, body in enumerate(bodies):
        conn.send(destination, body, receipt=f"s{i}")
        sent += 1
        while sent - receipted >= window:
            wait_one()
    while receipted < sent:
        wait_one()
    return receipted


def api_publish(port, destination, body, auth=None, idempotency_key=None, headers=None,
                timeout=10.0):
    """POST /api/v1/publish on the WebSocket port; `auth` = (login, password) for Basic auth.
    Returns (HTTP status, decoded JSON answer or the raw text). A connection refused, reset or
    closed before an answer raises OSError or http.client.HTTPException."""
    payload = {"destination": destination, "body": body}
    if headers:
        payload["headers"] = headers
    request_headers = {"Content-Type": "application/json"}
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request_headers["Authorization"] = f"Basic {token}"
    if idempotency_key is not None:
        request_headers["Idempotency-Key"] = idempotency_key
    return api_post(port, json.dumps(payload).encode(), request_headers, timeout)


def api_post(port, body, headers, timeout=10.0):
    """POST /api/v1/publish with exactly `headers` (no Content-Type unless given) and `body`
    (bytes). Returns (HTTP status, decoded JSON answer or the raw text)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", "/api/v1/publish", body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        conn.close()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text
