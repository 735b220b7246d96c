"""fault.ws_framing: plain ws frames its data itself after Beast's upgrade (issue #19).

Raw frames against the real binary; each case on its own connection:
  1. a ping (before CONNECT) gets a pong with the same payload;
  2. CONNECT in three fragments with a ping between them, sent a byte at a time: CONNECTED,
     and the pong;
  3. ten SENDs, each its own message, all in one TCP write, to a subscriber: ten MESSAGEs;
  4. a CONNECT sent in the same TCP write as the upgrade request: CONNECTED (Beast's path
     dropped bytes that came with the request);
  5. a text message that is not UTF-8: close 1007, then the TCP connection ends;
  6. an unmasked frame, RSV1 set, a reserved opcode, a continuation without a message: 1002;
  7. a header announcing one byte over websocket.max_message_bytes: 1009 at once;
  8. the client's close with 1001: echoed with 1001, then the TCP connection ends;
and the broker exits cleanly.
"""

import os
import struct
import sys
import time

from lib.broker import Broker, WorkDir
from lib.client import WsStomp, open_socket, ws_handshake
from lib.frames import FrameReader, encode

LIMIT = 4 * 1024 * 1024 + 64 * 1024  # websocket.max_message_bytes, the default


def raw_frame(first_byte, payload, masked=True, length=None):
    """A client frame with the first byte as given (FIN, RSV, opcode)."""
    n = len(payload) if length is None else length
    bit = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", first_byte, bit | n)
    elif n < 65536:
        head = struct.pack("!BBH", first_byte, bit | 126, n)
    else:
        head = struct.pack("!BBQ", first_byte, bit | 127, n)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWs:
    """A socket after the upgrade, reading server frames."""

    def __init__(self, port, first=b""):
        self.sock = open_socket(port)
        status, head, self.buf = ws_handshake(self.sock, port, extra=first)
        assert status == 101, head

    def send(self, data):
        self.sock.sendall(data)

    def frame(self, timeout=10.0):
        """(opcode, payload) of the next server frame; None at EOF."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n, pos = self.buf[1] & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, pos = struct.unpack("!H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, pos = struct.unpack("!Q", self.buf[2:10])[0], 10
                if n < 126 or pos > 2:
                    if len(self.buf) >= pos + n:
                        op, payload = self.buf[0] & 0x0F, self.buf[pos:pos + n]
                        self.buf = self.buf[pos + n:]
                        return op, payload
            left = deadline - time.monotonic()
            assert left > 0, "no server frame in time"
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data

    def expect_close(self, code, what):
        got = []
        while True:
            f = self.frame()
            assert f is not None, f"{what}: EOF without a close frame (got {got})"
            if f[0] == 0x8:
                break
            got.append(f)
        actual = struct.unpack("!H", f[1][:2])[0]
        assert actual == code, f"{what}: close {actual}, expected {code}"
        self.sock.settimeout(10.0)
        while True:  # then the server ends the TCP connection
            data = self.sock.recv(65536)
            if not data:
                break
        self.sock.close()

    def stomp_frames(self, count, timeout=10.0):
        reader, frames = FrameReader(), []
        deadline = time.monotonic() + timeout
        while len(frames) < count:
            f = self.frame(max(0.1, deadline - time.monotonic()))
            assert f is not None, f"EOF after {len(frames)} STOMP frames"
            if f[0] in (0x1, 0x2):
                reader.feed(f[1])
                while (fr := reader.next_frame()) is not None:
                    frames.append(fr)
        return frames


CONNECT = encode("CONNECT", {"accept-version": "1.2", "host": "/", "login": "u1"})


def ping_pong(port):
    c = RawWs(port)
    c.send(raw_frame(0x89, b"are you there"))
    assert c.frame() == (0xA, b"are you there"), "case 1: no pong with the ping's payload"
    c.sock.close()


def fragmented_connect(port):
    c = RawWs(port)
    a, b = CONNECT[:10], CONNECT[10:]
    wire = raw_frame(0x01, a[:4]) + raw_frame(0x00, a[4:]) + raw_frame(0x89, b"mid") + \
        raw_frame(0x80, b)
    for i in range(len(wire)):
        c.send(wire[i:i + 1])
    assert c.frame() == (0xA, b"mid"), "case 2: no pong between the fragments"
    frames = c.stomp_frames(1)
    assert frames[0].command == "CONNECTED", f"case 2: {frames[0]}"
    c.sock.close()


def many_messages_one_write(port):
    sub = WsStomp(port)
    sub.connect(login="sub")
    sub.subscribe("/topic/f", receipt="s")
    c = RawWs(port)
    c.send(raw_frame(0x81, CONNECT))
    assert c.stomp_frames(1)[0].command == "CONNECTED"
    burst = b"".join(raw_frame(0x81, encode("SEND", {"destination": "/topic/f"}, f"m{i}".encode()))
                     for i in range(10))
    c.send(burst)
    got = sub.messages(limit=10, idle_s=2.0)
    assert [m.body for m in got] == [f"m{i}".encode() for i in range(10)], \
        f"case 3: {[m.body for m in got]}"
    sub.close()
    c.sock.close()


def connect_with_the_request(port):
    c = RawWs(port, first=raw_frame(0x81, CONNECT))
    frames = c.stomp_frames(1)
    assert frames[0].command == "CONNECTED", f"case 4: {frames[0]}"
    c.sock.close()


def bad_frames(port):
    cases = [
        (raw_frame(0x81, b"ok \xed\xa0\x80"), 1007, "case 5: surrogate in text"),
        (raw_frame(0x81, b"x", masked=False), 1002, "case 6: unmasked"),
        (raw_frame(0xC1, b"x"), 1002, "case 6: RSV1"),
        (raw_frame(0x83, b"x"), 1002, "case 6: reserved opcode"),
        (raw_frame(0x80, b"x"), 1002, "case 6: continuation without a message"),
        (raw_frame(0x82, b"", length=LIMIT + 1)[:14], 1009, "case 7: one byte over the limit"),
        (raw_frame(0x88, struct.pack("!H", 1001) + b"bye"), 1001, "case 8: client close 1001"),
    ]
    for wire, code, what in cases:
        c = RawWs(port)
        c.send(raw_frame(0x81, CONNECT))
        assert c.stomp_frames(1)[0].command == "CONNECTED", what
        c.send(wire)
        c.expect_close(code, what)


def main():
    with WorkDir() as work, Broker(work).start() as broker:
        for case in (ping_pong, fragmented_connect, many_messages_one_write,
                     connect_with_the_request, bad_frames):
            case(broker.ws_port)
        assert broker.stop() == 0, broker.log()[-3000:]
        broker.assert_clean_exit()
    print("ws_framing: ok")


if __name__ == "__main__":
    sys.exit(main())
