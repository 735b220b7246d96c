"""STOMP 1.2 frames as bytes: encoding, and an incremental reader for what the broker sends.

Deliberately independent of the broker's own codec (stomp/): a bug there must not hide here.
"""

_ESCAPES = {"\\": "\\\\", "\n": "\\n", ":": "\\c", "\r": "\\r"}
_UNESCAPES = {"\\": "\\", "n": "\n", "c": ":", "r": "\r"}


def escape(value):
    """Header value escaped as STOMP 1.2 requires (not used for CONNECT)."""
    return "".join(_ESCAPES.get(c, c) for c in value)


def unescape(value):
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(_UNESCAPES.get(value[i + 1], value[i + 1]))
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def encode(command, headers=None, body=b""):
    """One frame as bytes; content-length is added whenever there is a body."""
    if isinstance(body, str):
        body = body.encode()
    lines = [command]
    for name, value in (headers or {}).items():
        value = str(value)
        if command not in ("CONNECT", "STOMP"):
            name, value = escape(name), escape(value)
        lines.append(f"{name}:{value}")
    if body:
        lines.append(f"content-length:{len(body)}")
    return ("\n".join(lines) + "\n\n").encode() + body + b"\0"


class Frame:
    """A received frame: command, headers (first occurrence wins), body bytes."""

    def __init__(self, command, headers, body):
        self.command, self.headers, self.body = command, headers, body

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"Frame({self.command}, {self.headers}, {self.body[:80]!r})"


class FrameReader:
    """Feed bytes in any split; take whole frames out. Counts heart-beat EOLs between frames."""

    def __init__(self):
        self.buf = bytearray()
        self.heartbeats = 0

    def feed(self, data):
        self.buf += data

    def next_frame(self):
        """The next whole frame, or None when more bytes are needed."""
        while self.buf[:1] in (b"\n", b"\r"):
            if self.buf[:2] == b"\r\n":
                del self.buf[:2]
            elif self.buf[:1] == b"\r":
                break  # need the \n of a CRLF heart-beat
            else:
                del self.buf[:1]
            self.heartbeats += 1
        end = self.buf.find(b"\n\n")
        if end < 0:
            return None
        head = bytes(self.buf[:end]).decode("utf-8", "replace").replace("\r", "").split("\n")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(unescape(name), unescape(value))
        start = end + 2
        if "content-length" in headers:
            stop = start + int(headers["content-length"])
            if len(self.buf) < stop + 1:
                return None
            if self.buf[stop] != 0:
                raise ValueError(f"frame not NUL-terminated after content-length: {head[0]}")
        else:
            stop = self.buf.find(b"\0", start)
            if stop < 0:
                return None
        frame = Frame(head[0], headers, bytes(self.buf[start:stop]))
        del self.buf[:stop + 1]
        return frame
