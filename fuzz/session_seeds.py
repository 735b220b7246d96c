#!/usr/bin/env python3
"""Writes the seed corpus of session_fuzzer (binary records, see session_fuzzer.cpp).

Run from the repository root: python3 fuzz/session_seeds.py
"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "session")
DRAIN, TICK, SLOW, GONE, FAIL = 2, 4, 8, 16, 32


def frame(command, headers=(), body=""):
    lines = [command] + [f"{k}:{v}" for k, v in headers]
    return ("\n".join(lines) + "\n\n" + body + "\0").encode()


def connect(login="", version="1.2", extra=()):
    headers = [("accept-version", version), ("host", "/")]
    if login:
        headers.append(("login", login))
    return frame("CONNECT", headers + list(extra))


def record(session, data, flags=DRAIN):
    assert len(data) < 256, data
    return bytes([session | flags, len(data)]) + data


def seed(flags, *records):
    return bytes([flags]) + b"".join(records)


SEEDS = {
    "topic_roundtrip": seed(0,
        record(0, connect()),
        record(0, frame("SUBSCRIBE", [("id", "0"), ("destination", "/topic/a"), ("receipt", "r1")])),
        record(0, frame("SEND", [("destination", "/topic/a"), ("receipt", "r2")], "hi")),
        record(0, frame("UNSUBSCRIBE", [("id", "0")])),
        record(0, frame("DISCONNECT", [("receipt", "bye")]))),
    "wildcard_two_sessions": seed(1,
        record(0, connect("bob")), record(1, connect("alice", "1.1")),
        record(0, frame("SUBSCRIBE", [("id", "w"), ("destination", "/topic/news.#")])),
        record(1, frame("SEND", [("destination", "/topic/news.uk"), ("content-type", "text/plain")], "x")),
        record(1, frame("SEND", [("destination", "/topic/news"), ("expires", "1")], "old"))),
    "user_queue_live": seed(1,
        record(0, connect("bob")), record(1, connect("alice")),
        record(0, frame("SUBSCRIBE", [("id", "u"), ("destination", "/user/queue/n"), ("ack", "client")])),
        record(1, frame("SEND", [("destination", "/user/bob/queue/n"), ("receipt", "s")], "note")),
        record(0, frame("ACK", [("id", "1")]))),
    "user_queue_replay": seed(1,
        record(1, connect("alice")),
        record(1, frame("SEND", [("destination", "/user/bob/queue/n"), ("receipt", "a")], "1")),
        record(1, frame("SEND", [("destination", "/user/bob/queue/n")], "2")),
        record(0, connect("bob")),
        record(0, frame("SUBSCRIBE", [("id", "u"), ("destination", "/user/queue/n"), ("ack", "client-individual")])),
        record(0, frame("NACK", [("id", "2")])), record(0, frame("ACK", [("id", "1")]))),
    "user_topic": seed(1,
        record(0, connect("bob")), record(1, connect("carol")),
        record(0, frame("SUBSCRIBE", [("id", "t"), ("destination", "/user/queue/../topic/x")])),
        record(0, frame("SUBSCRIBE", [("id", "t2"), ("destination", "/user/topic/x")])),
        record(1, frame("SEND", [("destination", "/user/bob/topic/x")], "live"))),
    "queue_acks": seed(1,
        record(0, connect("a")), record(1, connect("b")),
        record(1, frame("SEND", [("destination", "/queue/jobs")], "j1") + frame("SEND", [("destination", "/queue/jobs")], "j2")),
        record(0, frame("SUBSCRIBE", [("id", "q"), ("destination", "/queue/jobs"), ("ack", "client")])),
        record(0, frame("NACK", [("id", "1")])),
        record(0, frame("ACK", [("id", "2"), ("receipt", "k")])),
        record(0, b"", GONE | DRAIN)),
    "transaction": seed(0,
        record(0, connect()),
        record(0, frame("BEGIN", [("transaction", "tx")])),
        record(0, frame("SEND", [("destination", "/queue/q"), ("transaction", "tx")], "a")),
        record(0, frame("SEND", [("destination", "/topic/t"), ("transaction", "tx")], "b")),
        record(0, frame("COMMIT", [("transaction", "tx"), ("receipt", "c")])),
        record(0, frame("BEGIN", [("transaction", "t2")]) + frame("ABORT", [("transaction", "t2")]))),
    "not_connected": seed(0, record(0, frame("SEND", [("destination", "/topic/a")], "x"))),
    "garbage_after_connect": seed(0, record(0, connect() + b"\x01\x02 nonsense\n\n\0")),
    "durable_then_garbage": seed(0,
        record(0, connect("alice"), 0),
        record(0, frame("SEND", [("destination", "/user/bob/queue/x"), ("receipt", "r")], "m") + b"BAD\n\n\0", 0)),
    "durable_then_disconnect": seed(0,
        record(0, connect("alice"), 0),
        record(0, frame("SEND", [("destination", "/user/bob/queue/x"), ("receipt", "r")], "m") +
               frame("DISCONNECT", [("receipt", "d")]), DRAIN)),
    "stomp_1_0_heartbeat": seed(0,
        record(0, b"\n\r\n" + frame("STOMP", [("heart-beat", "1000,0"), ("accept-version", "1.0,1.1")]), DRAIN | TICK),
        record(0, b"\n\n"),
        record(0, frame("SEND", [("destination", "/topic/a"), ("content-length", "3")], "a\0b"))),
    "escapes_1_2": seed(0,
        record(0, connect()),
        record(0, frame("SUBSCRIBE", [("id", "a\\cb"), ("destination", "/topic/x")])),
        record(0, frame("SEND", [("destination", "/topic/x"), ("k\\n", "v\\\\")], "\u00e9"))),
    "split_frame": seed(0,
        record(0, connect()[:7], 0), record(0, connect()[7:]),
        record(0, frame("SUBSCRIBE", [("id", "1"), ("destination", "/topic/a")])[:12], 0),
        record(0, frame("SUBSCRIBE", [("id", "1"), ("destination", "/topic/a")])[12:])),
    "slow_consumer": seed(0, record(0, connect(), DRAIN | SLOW)),
    "small_limits": seed(2,
        record(0, connect()),
        record(0, frame("SEND", [("destination", "/topic/a")], "x" * 100))),
    "wildcard_send_refused": seed(0,
        record(0, connect()), record(0, frame("SEND", [("destination", "/topic/#"), ("receipt", "z")]))),
    "subscription_limit": seed(0,
        record(0, connect()),
        record(0, b"".join(frame("SUBSCRIBE", [("id", str(i)), ("destination", f"/topic/{i}")]) for i in range(5)))),
    "store_fails_deferred_disconnect": seed(0,
        record(0, connect("alice"), 0),
        record(0, frame("SEND", [("destination", "/user/bob/queue/x"), ("receipt", "r")], "m") +
               frame("DISCONNECT", [("receipt", "d")]), FAIL | DRAIN)),
    "store_fails_then_recovers": seed(1,
        record(0, connect("bob")), record(1, connect("alice"), FAIL),
        record(1, frame("SEND", [("destination", "/user/bob/queue/x")], "lost"), FAIL | DRAIN),
        record(1, frame("SEND", [("destination", "/user/bob/queue/x"), ("receipt", "k")], "kept")),
        record(0, frame("SUBSCRIBE", [("id", "s"), ("destination", "/user/queue/x")]))),
    "double_connect": seed(0, record(0, connect() + connect())),
}

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {OUT}")
