#!/usr/bin/env bash
# bench/history.sh: the cost of topic history (#18). Fan-out deliveries/s at maximum rate with a
# [[history]] table matching the benchmark topic against the same broker without one
# (bench/load/bench.toml), runs interleaved (off, on, off, on...), medians of REPS; then the
# memory per kept message: the broker's RSS growth after publishing MEM_N messages (SIZE-byte
# bodies) to a kept topic with no subscriber, divided by MEM_N. Broker pinned to CPU 0,
# generator to CPU 1, as compare.sh does.
#
#   bench/history.sh                            # REPS=3, S = 100 1000, MEM_N=100000
#   BUILD_DIR=build SKIP_BUILD=1 bench/history.sh   # an existing build (its flags are reported)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
REPS=${REPS:-3}
DURATION=${DURATION:-4}
FANOUT_S=${FANOUT_S:-100 1000}
SIZE=${SIZE:-100}
MEM_N=${MEM_N:-100000}
BUILD_DIR=${BUILD_DIR:-/tmp/build-history-release}
SB_WS=${SB_WS:-25974} SB_TCP=${SB_TCP:-25913}

WORK=$(mktemp -d /tmp/stompbox-history.XXXXXX)
broker_pid=
BENCH_NAME=history
source "$here/lib.sh"  # log, stop_pid, wait_port, build_release, machine_line
cleanup() { stop_pid "$broker_pid"; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 143' TERM INT

cp "$here/load/bench.toml" "$WORK/off.toml"
{ cat "$here/load/bench.toml"; printf '\n[[history]]\npattern = "/topic/bench"\nmax_messages = 1000\nmax_age_seconds = 300\n'; } >"$WORK/on.toml"
{ cat "$here/load/bench.toml"; printf '\n[[history]]\npattern = "/topic/mem.*"\nmax_messages = %s\nmax_age_seconds = 0\n' "$MEM_N"; } >"$WORK/mem.toml"

start() {  # start CONFIG: sets broker_pid
  taskset -c 0 "$BUILD_DIR/app/stompbox" --config "$WORK/$1.toml" --metrics 127.0.0.1:0 \
    --data-dir :memory: --ws "127.0.0.1:$SB_WS" --tcp "127.0.0.1:$SB_TCP" \
    --threads 1 --log-level warn >>"$WORK/$1.log" 2>&1 &
  broker_pid=$!; wait_port "$SB_WS"
}

measure() {  # measure CONFIG S: one JSON line (config and S added) to results
  start "$1"
  log "fanout S=$2 history $1"
  taskset -c 1 "$BUILD_DIR/bench/load/stompbox-bench" fanout --url "ws://127.0.0.1:$SB_WS/ws" \
    --subscribers "$2" --broker-pid "$broker_pid" --duration "$DURATION" --size "$SIZE" \
    --json 2>>"$WORK/gen.err" |
    python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["config"]=sys.argv[1]; r["s"]=int(sys.argv[2]); print(json.dumps(r))' \
      "$1" "$2" >>"$WORK/results.jsonl" || log "S=$2 $1: no result"
  stop_pid "$broker_pid"; broker_pid=
}

[[ -x $BUILD_DIR/app/stompbox ]] || build_release stompbox stompbox-bench
ulimit -n "$(ulimit -Hn)"
log "$(machine_line); load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "build: $(grep -m1 CMAKE_BUILD_TYPE: "$BUILD_DIR/CMakeCache.txt" || echo unknown)"
for ((rep = 1; rep <= REPS; rep++)); do
  for s in $FANOUT_S; do
    measure off "$s"
    measure on "$s"
  done
done
[[ -s $WORK/results.jsonl ]] && python3 - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| S | history off (deliveries/s) | history on (deliveries/s) | on / off |")
print("|---|---|---|---|")
for s in sorted({r["s"] for r in rows}):
    med, cells = {}, {}
    for c in ("off", "on"):
        runs = [r for r in rows if r["s"] == s and r["config"] == c]
        vals = [r["delivered_per_s"] for r in runs]
        bad = [r["status"] for r in runs if r["status"] != "ok"]
        med[c] = statistics.median(vals) if vals else 0
        cells[c] = (f"{med[c]:,.0f} (runs {', '.join(f'{v:,.0f}' for v in vals)}"
                    f"{'; ' + ','.join(bad) if bad else '; exactly once'})")
    ratio = med["on"] / med["off"] if med["off"] else float("nan")
    print(f"| {s} | {cells['off']} | {cells['on']} | {ratio:.3f} |")
PY

# Memory per kept message: RSS (VmRSS) before and after MEM_N SENDs to a kept topic, with no
# subscriber (a kept topic keeps every message, subscribed or not), then (MEM_SUBSCRIBED="0 1")
# on a fresh broker with one subscriber reading them all (a delivered message also keeps its
# serialised wire form; this Python reader keeps up with about 20000 messages, not 100000).
for subscribed in ${MEM_SUBSCRIBED:-0}; do
start mem
log "memory: $MEM_N messages of $SIZE bytes kept, $subscribed subscriber(s)"
python3 - "$SB_TCP" "$broker_pid" "$MEM_N" "$SIZE" "$subscribed" <<'PY'
import socket, sys, threading, time
port, pid, n, size, subscribed = (int(a) for a in sys.argv[1:])
def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
def connect():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"CONNECT\naccept-version:1.2\nhost:/\n\n\0")
    buf = b""
    while b"\0" not in buf:
        buf += s.recv(4096)
    return s
def read_until(s, marker):
    tail = b""
    while marker not in tail:
        data = s.recv(1 << 20)
        if not data:
            raise SystemExit(f"the broker closed the connection before {marker!r}")
        tail = (tail + data)[-200:]
reader = None
if subscribed:
    sub = connect()
    sub.sendall(b"SUBSCRIBE\ndestination:/topic/mem.*\nid:0\nreceipt:r\n\n\0")
    read_until(sub, b"receipt-id:r")
    reader = threading.Thread(target=read_until, args=(sub, b"\n\nend\0"))
    reader.start()
s = connect()
time.sleep(0.5)
before = rss_kib()
body = b"x" * size
frame = b"SEND\ndestination:/topic/mem.1\ncontent-length:%d\n\n" % size + body + b"\0"
batch = frame * 1000
for _ in range(n // 1000):
    s.sendall(batch)
s.sendall(b"SEND\ndestination:/topic/mem.2\nreceipt:done\n\nend\0")
read_until(s, b"receipt-id:done")
if reader:
    reader.join()
time.sleep(0.5)
after = rss_kib()
print(f"memory, {subscribed} subscriber(s): RSS {before} KiB -> {after} KiB for {n} kept messages"
      f" of {size} bytes: {(after - before) * 1024 / n:.0f} bytes per kept message")
s.close()
PY
stop_pid "$broker_pid"; broker_pid=
done
