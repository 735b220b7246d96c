"""fault.receive_only_subscriber: subscribers that only receive stay connected.

After SUBSCRIBE they send no frame at all for DURATION_S (several times the heart-beat
tolerance), only the heart-beat EOLs they negotiated; one negotiates not to send even those
(heart-beat 0,1000). RabbitMQ 3.10's Web-STOMP closed such clients after 60 s; here every one
must receive every message published meanwhile and still be connected at the end.
"""

import threading
import time

from lib.broker import Broker, WorkDir
from lib.client import Closed, TcpStomp, WsStomp

INTERVAL_MS = 1000
TOLERANCE = 2.0
DURATION_S = 15.0          # 7.5 x the tolerance
PUBLISH_EVERY_S = 0.1
CONFIG = f"""
[heartbeat]
send_ms = {INTERVAL_MS}
receive_ms = {INTERVAL_MS}
tolerance = {TOLERANCE}
"""


class Subscriber(threading.Thread):
    def __init__(self, name, conn, heart_beat):
        super().__init__(daemon=True)
        self.name, self.conn = name, conn
        cx = int(heart_beat.split(",")[0])
        connected = conn.connect(login=name, heart_beat=heart_beat)
        sy = int(connected.headers["heart-beat"].split(",")[1])
        # STOMP 1.2 §heart-beating: we send every max(cx, sy), or never when either is 0.
        self.send_every = max(cx, sy) / 1000 if cx and sy else None
        conn.subscribe("/topic/feed", "s", receipt="sub")
        self.seqs, self.eols_sent, self.error = [], 0, None
        self.stop = False

    def run(self):
        try:
            while not self.stop:
                frame = self.conn.recv_frame(0.05)
                if frame is not None:
                    assert frame.command == "MESSAGE", frame
                    self.seqs.append(int(frame.text()))
                if self.send_every and time.monotonic() - self.conn.last_send >= self.send_every:
                    self.conn.heartbeat()
                    self.eols_sent += 1
        except (Closed, OSError, AssertionError) as e:
            self.error = f"{e!r} after {len(self.seqs)} messages"


def main():
    with WorkDir() as work, Broker(work, config=CONFIG).start() as broker:
        subs = [Subscriber("tcp-1000", TcpStomp(broker.tcp_port), "1000,1000"),
                Subscriber("ws-1000", WsStomp(broker.ws_port), "1000,1000"),
                Subscriber("ws-0", WsStomp(broker.ws_port), "0,1000")]
        for s in subs:
            s.start()
        pub = TcpStomp(broker.tcp_port)
        pub.connect(login="feeder")
        sent, end = 0, time.monotonic() + DURATION_S
        while time.monotonic() < end:
            pub.send("/topic/feed", str(sent))
            sent += 1
            time.sleep(PUBLISH_EVERY_S)
        pub.send_frame("DISCONNECT", {"receipt": "done"})
        pub.expect("RECEIPT")
        time.sleep(1.0)
        for s in subs:
            s.stop = True
            s.join(5)
        for s in subs:
            print(f"{s.name}: {len(s.seqs)}/{sent} messages over {DURATION_S:.0f} s, heart-beat "
                  f"EOLs sent {s.eols_sent}, received {s.conn.reader.heartbeats}; "
                  f"error: {s.error}")
        for s in subs:
            assert s.error is None, f"{s.name}: {s.error}"
            assert s.seqs == list(range(sent)), f"{s.name}: lost or reordered messages"
            assert s.conn.disconnect(), f"{s.name}: no RECEIPT for DISCONNECT"  # still open
        assert "heartbeat_timeout" not in broker.log(), broker.log()[-2000:]
    print("receive_only_subscriber: OK")


if __name__ == "__main__":
    main()
