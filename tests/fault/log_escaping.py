"""Peer data in the log is escaped (issue #15, case 5): a login, a destination or a transaction
name holding a line feed, a carriage return or a terminal escape sequence (`ESC[2J` clears the
screen of whoever tails the log) cannot start a log line of its own (a forged "[error] ..."
entry for whoever reads or parses the log) nor drive a terminal. Every path below must leave its
peer bytes escaped in the log (`\\r`, `\\n`, `\\x1b`), and the log must hold no raw ESC or CR.

- the publish API: its Basic-auth login may carry any character;
- a STOMP CONNECT login (refused: wrong password), over TCP;
- a SUBSCRIBE destination and a BEGIN transaction name (1.2-escaped `\\r`/`\\n`, raw ESC),
  whose refusals log the peer's value;
- a WebSocket upgrade from a refused Origin holding non-ASCII bytes.
"""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import HOST, Broker, WorkDir, write_users  # noqa: E402
from lib.client import Closed, TcpStomp, api_publish, ws_handshake  # noqa: E402

FORGED = "FORGED [error] the database was dropped"
CLEAR = "\x1b[2J"


def refused_frame(broker, command, headers):
    """Logs in as alice, sends one frame the broker refuses; returns the ERROR's message."""
    conn = TcpStomp(broker.tcp_port)
    conn.connect(login="alice", passcode="right")
    conn.send_frame(command, headers)
    try:
        frame = conn.recv_frame(10)
    except Closed:
        frame = None
    conn.close()
    assert frame is not None and frame.command == "ERROR", frame
    return frame.headers.get("message")


def main():
    with WorkDir() as work:
        config = write_users(work, {"alice": ("right", ["user"])})
        with Broker(work, config=config).start() as broker:
            status, _ = api_publish(broker.ws_port, "/topic/x", "hi",
                                    auth=(f"mallory\n{FORGED}", "wrong"))
            assert status == 401, status
            assert broker.wait_log("mallory\\n"), "the failed API login was not logged"

            conn = TcpStomp(broker.tcp_port)
            conn.send_frame("CONNECT", {"accept-version": "1.2", "host": "/",
                                        "login": f"eve\r{CLEAR}", "passcode": "wrong"})
            try:
                reply = conn.recv_frame(10)
            except Closed:
                reply = None
            conn.close()
            print(f"CONNECT with a CR and ESC in its login: {reply and reply.command}")
            assert broker.wait_log("eve\\r\\x1b[2J"), broker.log()[-2000:]

            message = refused_frame(broker, "SUBSCRIBE", {
                "id": "1", "destination": f"/nowhere/{CLEAR}\r\n{FORGED}"})
            print(f"SUBSCRIBE to a bad destination: ERROR {message}")
            assert broker.wait_log("/nowhere/\\x1b[2J\\r\\nFORGED"), broker.log()[-2000:]

            message = refused_frame(broker, "COMMIT", {"transaction": f"tx{CLEAR}\n{FORGED}"})
            print(f"COMMIT of an unknown transaction: ERROR {message}")
            assert broker.wait_log("tx\\x1b[2J\\nFORGED"), broker.log()[-2000:]

            with socket.create_connection((HOST, broker.ws_port), timeout=10) as sock:
                status, _, _ = ws_handshake(sock, broker.ws_port, origin="https://\u00e9vil.example")
            assert status == 403, status
            assert broker.wait_log('Origin "https://\\xc3\\xa9vil.example"'), broker.log()[-2000:]

            log = broker.log()
            forged = [line for line in log.splitlines() if line.startswith("FORGED")]
            print(f"log lines starting with the forged text: {len(forged)}; raw ESC bytes: "
                  f"{log.count(chr(27))}; raw CR bytes: {log.count(chr(13))}")
            assert not forged, forged
            assert "\x1b" not in log and "\r" not in log, repr(log[-2000:])
    print("log_escaping: OK")


if __name__ == "__main__":
    main()
