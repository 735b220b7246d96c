#!/usr/bin/env bash
# Login storm (issue #14 case 5): p99 latency of a fixed-rate fan-out to SUBS subscribers, alone
# and while STORM clients reconnect with passwords (600,000-iteration PBKDF2 hashes, the
# `stompbox passwd` default), against one broker --threads 1 pinned to CPU 0; generators on
# CPU 1. Prints one line per run and the medians. See docs/benchmarks.md, "Login storm".
# Usage: login_storm.sh <stompbox> <stompbox-bench>   (env: REPS SUBS RATE DURATION STORM KEEP_RUNS
#        STORM_USERS INTERVAL BROKER_CPU GEN_CPU)
set -u
broker_bin=$1
bench_bin=$2
REPS=${REPS:-3}
SUBS=${SUBS:-1000}
RATE=${RATE:-50}                 # msg/s offered to the topic (x SUBS deliveries)
DURATION=${DURATION:-15}
STORM=${STORM:-2000}             # clients reconnecting ...
INTERVAL=${INTERVAL:-1}          # ... each every INTERVAL s
STORM_USERS=${STORM_USERS:-20}   # distinct logins among them
BROKER_CPU=${BROKER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
work=$(mktemp -d)
broker_pid=
stop_broker() {  # a broker still hashing a backlog of logins gets 10 s, then SIGKILL
  if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
    kill "$broker_pid"
    for _ in $(seq 100); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$broker_pid" 2>/dev/null && kill -9 "$broker_pid"
    wait "$broker_pid" 2>/dev/null
  fi
  broker_pid=
}
cleanup() {
  stop_broker
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# The fan-out's own login is cheap (1,000 iterations): only the storm's cost is measured.
python3 - "$work/users.toml" "$STORM_USERS" <<'PY'
import base64, hashlib, os, sys
def h(pw, n):
    salt = os.urandom(16)
    d = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, n, 32)
    return f"$pbkdf2-sha256$i={n}${base64.b64encode(salt).decode()}${base64.b64encode(d).decode()}"
with open(sys.argv[1], "w") as f:
    f.write(f'[[user]]\nname = "bench"\npassword = "{h("guest", 1000)}"\nroles = ["user", "publisher"]\n\n')
    slow = h("guest", 600000)  # one hash for all: same cost per check, made once
    for k in range(int(sys.argv[2])):
        f.write(f'[[user]]\nname = "storm{k}"\npassword = "{slow}"\nroles = ["user"]\n\n')
PY
cat >"$work/broker.toml" <<EOF2
[limits]
send_rate = 0.0
max_connections_per_user = 0
[auth]
users_file = "$work/users.toml"
EOF2

start_broker() {
  taskset -c "$BROKER_CPU" "$broker_bin" --config "$work/broker.toml" --tcp 127.0.0.1:0 \
    --ws 127.0.0.1:0 --data-dir :memory: --threads 1 >"$work/broker.log" 2>&1 &
  broker_pid=$!
  tcp_port=
  for _ in $(seq 100); do
    tcp_port=$(sed -n 's|.*TCP at 127.0.0.1:\([0-9]*\).*|\1|p' "$work/broker.log")
    [[ -n $tcp_port ]] && break
    sleep 0.1
  done
}

fanout() {  # fanout [--storm N ...]: one JSON line
  taskset -c "$GEN_CPU" "$bench_bin" fanout --tcp "127.0.0.1:$tcp_port" --subscribers "$SUBS" \
    --rate "$RATE" --duration "$DURATION" --login bench --passcode guest \
    --broker-pid "$broker_pid" --json "$@" | tail -1
}

field() { python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(r.get(sys.argv[1], "-"))' "$1"; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
quiet=() storm=()
for rep in $(seq "$REPS"); do
  start_broker
  q=$(fanout)
  s=$(fanout --storm "$STORM" --storm-users "$STORM_USERS" --storm-interval "$INTERVAL")
  echo "$q" >>"$work/runs.jsonl"; echo "$s" >>"$work/runs.jsonl"
  qp=$(echo "$q" | field lat_p99_us) sp=$(echo "$s" | field lat_p99_us)
  echo "run $rep: fan-out p99 ${qp} us alone, ${sp} us in the storm" \
       "(status $(echo "$q" | field status)/$(echo "$s" | field status);" \
       "storm logins/s $(echo "$s" | field storm_logins_per_s), refused $(echo "$s" | field storm_refused)," \
       "login p50/p99 $(echo "$s" | field storm_login_p50_ms)/$(echo "$s" | field storm_login_p99_ms) ms," \
       "broker CPU $(echo "$s" | field broker_cpu_pct)%)"
  quiet+=("$qp") storm+=("$sp")
  stop_broker
done
[[ -n ${KEEP_RUNS:-} ]] && cp "$work/runs.jsonl" "$KEEP_RUNS"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "${quiet[*]}" "${storm[*]}" <<'PY'
import statistics, sys
q = [float(x) for x in sys.argv[1].split()]
s = [float(x) for x in sys.argv[2].split()]
mq, ms = statistics.median(q), statistics.median(s)
print(f"median p99: quiet {mq:.0f} us, storm {ms:.0f} us, ratio {ms / mq:.2f}")
PY
