"""fault.user_queue_close_reasons: however a connection ends, the user-queue messages it held
unacked stay stored and come back, redelivered.

For each way a connection can end, a user has 20 messages stored in /user/{name}/queue/x,
subscribes with ack:client-individual, receives all 20 and ACKs 5 (the last ACK with a receipt,
awaited: the broker has settled them). Then the connection ends:
- heartbeat: the client negotiated heart-beat:1000,1000 (broker [heartbeat] 1000/1000,
  tolerance 2) and goes silent; the broker must close it (heartbeat_timeout);
- rst: the client resets the connection (SO_LINGER 0);
- slow_consumer: the client, also subscribed to a topic on a 4 KiB receive buffer, stops
  reading while a publisher floods the topic; the broker cuts it past max_pending_bytes.
Once the broker has let go of the socket, the user's next session must receive exactly the 15
unacked messages, in order, each with redelivered:true (all were delivered), none lost and none
of the acked ones again.
"""

import time

from lib.broker import Broker, WorkDir
from lib.client import Closed, TcpStomp, send_receipted

MESSAGES = 20
ACKED = {0, 3, 4, 9, 15}
INTERVAL_MS = 1000
TOLERANCE = 2.0
PENDING_CAP = 256 * 1024
RCVBUF = 4096
FLOOD_BODY = "f" * 1024
FLOOD_BATCH = 200         # topic SENDs per RECEIPT
FLOOD_MAX = 20_000        # 20 MB: far past the cap and every kernel buffer
CLOSE_BOUND_S = 15.0
CONFIG = f"""
[heartbeat]
send_ms = {INTERVAL_MS}
receive_ms = {INTERVAL_MS}
tolerance = {TOLERANCE}
[queues]
max_pending_bytes = {PENDING_CAP}
[limits]
send_rate = 0.0
max_frame_bytes = {PENDING_CAP}   # the pending cap holds at least one frame
max_body_bytes = {PENDING_CAP // 2}
[timeouts]
close_ms = 1000
[store]
delivery_window_bytes = {PENDING_CAP}
"""


def seq_of(frame):
    return int(frame.body.split(b" ", 1)[0])


def store(broker, user):
    pub = TcpStomp(broker.tcp_port)
    pub.connect(login="backend")
    send_receipted(pub, f"/user/{user}/queue/x", [f"{seq} for {user}" for seq in range(MESSAGES)])
    assert pub.disconnect()


def hold(broker, user, heart_beat="0,0", rcvbuf=None, topic=None):
    """A session of `user` that received all MESSAGES and had ACKED settled; returns it."""
    conn = TcpStomp(broker.tcp_port, rcvbuf=rcvbuf)
    connected = conn.connect(login=user, heart_beat=heart_beat)
    if heart_beat != "0,0":
        assert connected.headers.get("heart-beat") == heart_beat, connected
    if topic:
        conn.subscribe(topic, "t", receipt="topic")
    conn.subscribe("/user/queue/x", "s", ack="client-individual", receipt="sub",
                   **{"prefetch-count": "100"})
    frames = conn.messages(limit=MESSAGES)
    seqs = [seq_of(f) for f in frames]
    assert seqs == list(range(MESSAGES)), f"{user}: expected seqs 0..{MESSAGES - 1}, got {seqs}"
    acked = [f for f in frames if seq_of(f) in ACKED]
    for i, frame in enumerate(acked):
        headers = {"id": frame.headers["ack"]}
        if i == len(acked) - 1:
            headers["receipt"] = "acked"
        conn.send_frame("ACK", headers)
    conn.expect("RECEIPT")
    return conn


def wait_closed(conn, what):
    """Reads (heart-beats, MESSAGEs, an ERROR) until the broker closes; returns (seconds,
    MESSAGEs read, the ERROR's message or None)."""
    started, messages, error = time.monotonic(), 0, None
    try:
        while True:
            frame = conn.recv_frame(CLOSE_BOUND_S)
            assert frame is not None, f"{what}: expected the broker to close the connection, " \
                                      f"it was still open after {CLOSE_BOUND_S:.0f} s of silence"
            if frame.command == "MESSAGE":
                messages += 1
            elif frame.command == "ERROR":
                error = frame.headers.get("message")
    except (Closed, OSError):
        pass
    conn.close()
    return time.monotonic() - started, messages, error


def heartbeat(broker, user):
    conn = hold(broker, user, heart_beat=f"{INTERVAL_MS},{INTERVAL_MS}")
    # From here the client sends nothing (it still reads the broker's heart-beats).
    took, _, error = wait_closed(conn, "heartbeat")
    print(f"heartbeat: the broker closed the silent client {took:.2f} s after its last frame "
          f"(tolerance {TOLERANCE * INTERVAL_MS / 1000:.1f} s), ERROR: {error}")
    assert broker.wait_log("heartbeat_timeout"), "expected a heartbeat_timeout close in the log"


def rst(broker, user):
    conn = hold(broker, user)
    conn.abort()
    print("rst: connection reset by the client")


def slow_consumer(broker, user):
    topic = f"/topic/flood-{user}"
    conn = hold(broker, user, rcvbuf=RCVBUF, topic=topic)
    flooder = TcpStomp(broker.tcp_port)
    flooder.connect(login="flooder")
    sent, started = 0, time.monotonic()
    # Until the broker cuts the stalled client (the first cut is always logged).
    while "slow consumer" not in broker.log() and sent < FLOOD_MAX:
        for i in range(FLOOD_BATCH):
            receipt = f"f{sent}" if i == FLOOD_BATCH - 1 else None
            flooder.send(topic, f"{sent} {FLOOD_BODY}", receipt=receipt)
            sent += 1
        flooder.expect("RECEIPT", 30.0)
    flood_s = time.monotonic() - started
    took, messages, error = wait_closed(conn, "slow_consumer")
    assert flooder.disconnect(), "flooder: no RECEIPT for DISCONNECT"
    print(f"slow_consumer: cut after {sent} topic messages of {len(FLOOD_BODY)} B flooded in "
          f"{flood_s:.2f} s (pending cap {PENDING_CAP} B); it read {messages} of them "
          f"afterwards; ERROR: {error}")
    assert sent < FLOOD_MAX, f"expected a slow-consumer cut, {FLOOD_MAX} topic messages did not"
    assert broker.wait_log("slow consumer"), "expected the slow-consumer cut in the log"


def next_session(broker, user, case):
    conn = TcpStomp(broker.tcp_port)
    conn.connect(login=user)
    conn.subscribe("/user/queue/x", "s", ack="client-individual", receipt="sub")
    frames = conn.messages(idle_s=1.5)
    seqs = [seq_of(f) for f in frames]
    flagged = [seq_of(f) for f in frames if f.headers.get("redelivered") == "true"]
    expected = [seq for seq in range(MESSAGES) if seq not in ACKED]
    print(f"{case}: next session got {len(seqs)} messages, {len(flagged)} with "
          f"redelivered:true (expected the {len(expected)} unacked, all flagged)")
    lost = sorted(set(expected) - set(seqs))
    assert not lost, f"{case}: expected the {len(expected)} unacked back, lost {lost}"
    assert seqs == expected, f"{case}: expected exactly {expected} in order, got {seqs}"
    assert flagged == expected, \
        f"{case}: expected redelivered:true on all of {expected}, it was on {flagged}"
    for i, frame in enumerate(frames):
        headers = {"id": frame.headers["ack"]}
        if i == len(frames) - 1:
            headers["receipt"] = "acked"
        conn.send_frame("ACK", headers)
    conn.expect("RECEIPT")
    assert conn.disconnect()


def main():
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        # Settled: the readiness probes' sockets of Broker.start may still be open just now.
        time.sleep(0.5)
        base_fds = broker.fd_count()
        cases = [("heartbeat", lambda user: heartbeat(broker, user)),
                 ("rst", lambda user: rst(broker, user)),
                 ("slow_consumer", lambda user: slow_consumer(broker, user))]
        for case, end_connection in cases:
            user = f"{case}-user"
            store(broker, user)
            end_connection(user)
            fds = broker.wait_fds(base_fds)
            assert fds <= base_fds, f"{case}: expected the broker to let go of the socket " \
                                    f"({base_fds} fds), it holds {fds}"
            next_session(broker, user, case)
        assert broker.alive()
    print("user_queue_close_reasons: OK")


if __name__ == "__main__":
    main()
