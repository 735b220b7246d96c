"""fault.proxy_protocol_tls: issue #15 case 1, the PROXY header comes before TLS.

TLS on both ports, [tcp] and [websocket] proxy_protocol = true, [proxies] trusted =
["127.0.0.1"]. A client from 127.0.0.1 writes a v1 header naming 198.51.100.7:5555, then does
the TLS handshake and STOMP CONNECT on the TCP port (CONNECTED; logged as 198.51.100.7:5555 tls),
and likewise a v2 header on the WebSocket port (HTTP over TLS: the publish page answers 200).
The reader took exactly the header: the TLS ClientHello after it arrived whole.
"""

import os
import ssl
import struct
import subprocess
import sys

from lib.broker import Broker, WorkDir, skip
from lib.edge import client_socket, read_to_eof
from lib.frames import FrameReader, encode


def make_cert(work):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                        "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError):
        skip("openssl cannot make a test certificate")
    return cert, key


def tls_after(header, port):
    sock = client_socket("127.0.0.1", port)
    sock.sendall(header)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(sock)


def main():
    with WorkDir() as work:
        cert, key = make_cert(work)
        config = f"""
[tls]
cert = "{cert}"
key = "{key}"
[proxies]
trusted = ["127.0.0.1"]
[tcp]
proxy_protocol = true
[websocket]
proxy_protocol = true
"""
        with Broker(work, config=config).start() as broker:
            tls = tls_after(b"PROXY TCP4 198.51.100.7 127.0.0.1 5555 61613\r\n", broker.tcp_port)
            tls.sendall(encode("CONNECT", {"accept-version": "1.2", "host": "/"}))
            reader, frame = FrameReader(), None
            while frame is None:
                data = tls.recv(4096)
                assert data, "closed before CONNECTED"
                reader.feed(data)
                frame = reader.next_frame()
            tls.close()
            print(f"TCP: v1 header, then TLS: {frame.command}")
            assert frame.command == "CONNECTED", frame
            assert broker.wait_log("open 198.51.100.7:5555 tls"), broker.log()[-2000:]
            v2 = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack("!H", 12) +
                  bytes([198, 51, 100, 8, 127, 0, 0, 1]) + struct.pack("!HH", 6666, 15674))
            tls = tls_after(v2, broker.ws_port)
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answer = read_to_eof(tls)
            status_line = answer.split(b"\r\n")[0]
            print(f"WebSocket port: v2 header, then TLS and HTTP: {status_line!r}")
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


if __name__ == "__main__":
    sys.exit(main())
