#!/usr/bin/env python3
"""embed.runs: start the embedding example for 2 s; a STOMP-over-TCP subscriber logged in as
alice must receive a notification it published with publish_to_user, and the example must exit 0.

usage: embed_runs.py PATH_TO_stompbox_embed
"""
import re
import socket
import subprocess
import sys


def read_frame(sock, buf):
    """Returns (frame bytes, rest), skipping heart-beat newlines."""
    while True:
        buf = buf.lstrip(b"\r\n")
        end = buf.find(b"\0")
        if end >= 0:
            return buf[:end], buf[end + 1:]
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed; got %r" % buf)
        buf += chunk


def main():
    proc = subprocess.Popen([sys.argv[1], "0", "0", "2", "alice"], stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        match = re.match(r"listening ws=(\d+) tcp=(\d+)", line)
        if not match:
            raise RuntimeError("unexpected first line: %r" % line)
        sock = socket.create_connection(("127.0.0.1", int(match.group(2))), timeout=20)
        sock.sendall(b"CONNECT\naccept-version:1.2\nhost:localhost\nlogin:alice\n\n\0")
        frame, buf = read_frame(sock, b"")
        if not frame.startswith(b"CONNECTED"):
            raise RuntimeError("not connected: %r" % frame)
        sock.sendall(b"SUBSCRIBE\nid:0\ndestination:/user/queue/notifications\n\n\0")
        frame, buf = read_frame(sock, buf)
        if not frame.startswith(b"MESSAGE") or b"\n\nnotification " not in frame:
            raise RuntimeError("expected a notification, got %r" % frame)
        print("received:", frame.split(b"\n\n", 1)[1].decode())
        sock.close()
        code = proc.wait(timeout=30)
        if code != 0:
            raise RuntimeError("example exited with %d" % code)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
