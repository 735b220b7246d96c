"""fault.idempotency_key_reuse: an Idempotency-Key reused for a different request is refused.

A subscriber on /topic/orders; the publish API as user `backend`.
  1. key "order-42", /topic/orders, body "first": 202 and delivered.
  2. the same key with another body, another destination, other headers: each 422 with a JSON
     error naming the key (before: 202 with the first message id, and nothing delivered: the
     client silently lost its message).
  3. the first request again (a retry): 202 with the first message id, nothing delivered again.
  4. the second body under a fresh key: 202 and delivered.
The subscriber receives exactly "first" and "second".
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.broker import Broker, WorkDir, write_users  # noqa: E402
from lib.client import TcpStomp, api_publish  # noqa: E402

KEY = "order-42"
AUTH = ("backend", "backend-pw")


def main():
    with WorkDir() as work:
        config = write_users(work, {"backend": ("backend-pw", ["publisher"]),
                                    "reader": ("reader-pw", ["user"])})
        with Broker(work, config=config).start() as broker:
            reader = TcpStomp(broker.tcp_port)
            reader.connect("reader", passcode="reader-pw")
            reader.subscribe("/topic/orders", receipt="sub")

            status, first = api_publish(broker.ws_port, "/topic/orders", "first", auth=AUTH,
                                        idempotency_key=KEY)
            assert status == 202, (status, first)
            print(f"first: {status} {first}")

            different = [("another body", "/topic/orders", "second", None),
                         ("another destination", "/topic/other", "first", None),
                         ("other headers", "/topic/orders", "first", {"x-kind": "gift"})]
            for what, destination, body, headers in different:
                status, answer = api_publish(broker.ws_port, destination, body, auth=AUTH,
                                             idempotency_key=KEY, headers=headers)
                print(f"{what}: {status} {answer}")
                assert status == 422, (what, status, answer)
                assert isinstance(answer, dict) and KEY in answer.get("error", ""), answer
                assert "message_id" not in answer, answer

            status, retry = api_publish(broker.ws_port, "/topic/orders", "first", auth=AUTH,
                                        idempotency_key=KEY)
            print(f"retry: {status} {retry}")
            assert status == 202 and retry["message_id"] == first["message_id"], retry

            status, fresh = api_publish(broker.ws_port, "/topic/orders", "second", auth=AUTH,
                                        idempotency_key="order-43")
            assert status == 202 and fresh["message_id"] != first["message_id"], fresh

            bodies = [m.body.decode() for m in reader.messages(idle_s=1.0)]
            print(f"delivered: {bodies}")
            assert bodies == ["first", "second"], bodies
            reader.close()
            broker.stop()
            broker.assert_clean_exit()
    print("idempotency_key_reuse: OK")


if __name__ == "__main__":
    main()
