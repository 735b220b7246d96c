"""fault.half_open: the client's machine vanishes: no FIN, no RST, just silence.

A proxy thread sits between a client and the broker (TCP and WebSocket in turn). The client
CONNECTs with heart-beat 1000,1000 and heart-beats for a while (it must stay connected), then
the proxy stops forwarding both ways and closes nothing. The broker must close its side within
its tolerance (heartbeat.tolerance x the negotiated interval), seen by the proxy as FIN/RST on
the broker's socket, and its fd count must return to the baseline.
"""

import time

from lib.broker import Broker, WorkDir
from lib.client import TcpStomp, WsStomp
from lib.proxy import SilentProxy

INTERVAL_MS = 1000
TOLERANCE = 3.0
HEALTHY_S = 4.0  # heart-beating through the proxy first: longer than the tolerance
CLOSE_MS = 1000  # after the ERROR / WebSocket close frame, the socket is cut this much later
CONFIG = f"""
[heartbeat]
send_ms = {INTERVAL_MS}
receive_ms = {INTERVAL_MS}
tolerance = {TOLERANCE}
[timeouts]
close_ms = {CLOSE_MS}
"""


def heartbeat_for(conn, seconds, every):
    """Sends EOLs every `every` s for `seconds`, reading what the broker sends; returns the
    number of heart-beats received."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        frame = conn.recv_frame(every)
        assert frame is None, f"unexpected {frame!r}"
        conn.heartbeat()
    return conn.reader.heartbeats


def one_peer(broker, make_client, name):
    baseline = broker.fd_count()
    proxy = SilentProxy(broker.tcp_port if name == "tcp" else broker.ws_port)
    proxy.start()
    client = make_client(proxy.port)
    connected = client.connect(login="vanishing", heart_beat=f"{INTERVAL_MS},{INTERVAL_MS}")
    assert connected.headers.get("heart-beat") == f"{INTERVAL_MS},{INTERVAL_MS}", connected
    received = heartbeat_for(client, HEALTHY_S, INTERVAL_MS / 1000 / 2)
    assert received >= 2, f"{name}: only {received} heart-beats from the broker in {HEALTHY_S} s"
    assert proxy.upstream_closed_at is None, f"{name}: closed while heart-beating"
    during = broker.fd_count()
    proxy.freeze()
    # Tolerance, then the close handshake the dead peer never answers, plus slack for a loaded
    # machine.
    bound = (TOLERANCE * INTERVAL_MS + CLOSE_MS) / 1000 + 3.0
    deadline = time.monotonic() + bound
    while proxy.upstream_closed_at is None and time.monotonic() < deadline:
        client.heartbeat()  # swallowed by the proxy: the broker hears nothing
        time.sleep(0.2)
    closed_at = proxy.upstream_closed_at
    assert closed_at is not None, f"{name}: broker kept the half-open peer past {bound} s"
    after = broker.wait_fds(baseline)
    print(f"{name}: broker closed the silent peer {closed_at - proxy.frozen_at:.2f} s after "
          f"the silence began ({proxy.upstream_close_kind}; tolerance "
          f"{TOLERANCE * INTERVAL_MS / 1000:.1f} s + close_ms {CLOSE_MS / 1000:.1f} s); heart-beats received while healthy: "
          f"{received}; broker fds {baseline} -> {during} -> {after}")
    assert after <= baseline, f"{name}: fds not back to baseline ({after} > {baseline})"
    client.close()
    proxy.shutdown()


def main():
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        one_peer(broker, TcpStomp, "tcp")
        one_peer(broker, WsStomp, "ws")
        assert "heartbeat_timeout" in broker.log(), "close reason not logged as heartbeat_timeout"
        assert broker.alive()
    print("half_open: OK")


if __name__ == "__main__":
    main()
