#!/usr/bin/env bash
# bench/notify.sh: the durable per-user notify path, stompbox against the bare baseline server
# (bench-baseline, which stores nothing) and, optionally, an earlier stompbox binary
# (BEFORE=path): max-rate deliveries/s at U users and the p99 latency at a fixed rate to online
# users, every run checked exactly once by the generator. Broker pinned to CPU 0 (its store
# thread too), generator to CPU 1, as compare.sh does; runs interleaved, medians printed.
#
#   bench/notify.sh                       # REPS=3, U = 1000 10000, fixed rate 2000 msg/s
#   BEFORE=/path/to/old/stompbox bench/notify.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
REPS=${REPS:-3}
DURATION=${DURATION:-4}
USERS=${USERS:-1000 10000}
RATE=${RATE:-2000}        # fixed-rate case: msg/s in total to U=1000 online users
PUBLISHERS=${PUBLISHERS:-4}
SIZE=${SIZE:-100}
BEFORE=${BEFORE:-}        # an earlier stompbox binary to measure beside this one
BUILD_DIR=${BUILD_DIR:-/tmp/build-compare-release}
SB_WS=${SB_WS:-25674} SB_TCP=${SB_TCP:-25613} BL_WS=${BL_WS:-25684} BL_TCP=${BL_TCP:-25623}

WORK=$(mktemp -d /tmp/stompbox-notify.XXXXXX)
broker_pid=
BENCH_NAME=notify
source "$here/lib.sh"  # log, stop_pid, wait_port, build_release, machine_line
cleanup() { stop_pid "$broker_pid"; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 143' TERM INT

start() {  # start TARGET: sets broker_pid and url; a fresh data dir per run
  rm -rf "$WORK/data"
  case $1 in
    stompbox | before)
      local bin=$BUILD_DIR/app/stompbox
      [[ $1 == before ]] && bin=$BEFORE
      url=ws://127.0.0.1:$SB_WS/ws
      taskset -c 0 "$bin" --config "$here/load/bench.toml" --metrics 127.0.0.1:0 \
        --data-dir "$WORK/data" --ws "127.0.0.1:$SB_WS" --tcp "127.0.0.1:$SB_TCP" \
        --threads 1 --log-level warn >>"$WORK/$1.log" 2>&1 &
      broker_pid=$!; wait_port "$SB_WS" ;;
    baseline) url=ws://127.0.0.1:$BL_WS/ws
      taskset -c 0 "$BUILD_DIR/bench/load/bench-baseline" --ws "127.0.0.1:$BL_WS" \
        --tcp "127.0.0.1:$BL_TCP" --threads 1 >>"$WORK/baseline.log" 2>&1 &
      broker_pid=$!; wait_port "$BL_WS" ;;
  esac
}

measure() {  # measure CASE TARGET ARGS...: one JSON line (case and target added) to results
  local name=$1 target=$2; shift 2
  start "$target"
  log "$name on $target"
  taskset -c 1 "$BUILD_DIR/bench/load/stompbox-bench" notify "$@" --url "$url" \
    --broker-pid "$broker_pid" --publishers "$PUBLISHERS" --duration "$DURATION" \
    --size "$SIZE" --json 2>>"$WORK/gen.err" |
    python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["case"]=sys.argv[1]; r["target"]=sys.argv[2]; print(json.dumps(r))' \
      "$name" "$target" >>"$WORK/results.jsonl" || log "$name on $target: no result"
  stop_pid "$broker_pid"; broker_pid=
}

[[ -x $BUILD_DIR/app/stompbox ]] || build_release stompbox stompbox-bench bench-baseline
ulimit -n "$(ulimit -Hn)"
targets=(stompbox baseline)
[[ -n $BEFORE ]] && targets+=(before)
log "$(machine_line); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((rep = 1; rep <= REPS; rep++)); do
  for u in $USERS; do
    for t in "${targets[@]}"; do measure "notify-$u" "$t" --users "$u"; done
  done
  for t in "${targets[@]}"; do measure "notify-rate-$RATE" "$t" --users 1000 --rate "$RATE"; done
done
python3 - "$WORK/results.jsonl" "${targets[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
targets = sys.argv[2:]
cases = sorted({r["case"] for r in rows}, key=lambda c: (c.startswith("notify-rate"), len(c), c))
print("| case | " + " | ".join(targets) + " | stompbox / baseline |")
print("|---|" + "---|" * (len(targets) + 1))
for c in cases:
    fixed = c.startswith("notify-rate")
    key = "lat_p99_us" if fixed else "delivered_per_s"
    cells, med = [], {}
    for t in targets:
        runs = [r for r in rows if r["case"] == c and r["target"] == t]
        bad = [r["status"] for r in runs if r["status"] != "ok"]
        med[t] = statistics.median(r[key] for r in runs) if runs else 0
        unit = " us p99" if fixed else "/s"
        cells.append(f"{med[t]:,.0f}{unit} ({len(runs)} runs{', ' + ','.join(bad) if bad else ', exactly once'})")
    ratio = med["stompbox"] / med["baseline"] if med.get("baseline") else float("nan")
    print(f"| {c} | " + " | ".join(cells) + f" | {ratio:.2f} |")
PY
