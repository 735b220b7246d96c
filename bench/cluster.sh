#!/usr/bin/env bash
# bench/cluster.sh: the same load against one stompbox node and against three nodes clustered
# over a private Redis (both with --cluster-redis, so the Redis cost is in both), with
# stompbox-bench spreading its connections over the nodes in turn. Writes medians into
# docs/benchmarks.md between <!-- cluster-bench:start --> and <!-- cluster-bench:end -->.
#
#   bench/cluster.sh            # REPS=3 (about 3 minutes on 2 cores plus the build)
#   REPS=1 bench/cluster.sh
#   MODE=tls REPS=1 bench/cluster.sh  # NODES nodes on a plain Redis against NODES nodes on a
#                                     # Redis with TLS and AUTH (a CA made here, requirepass);
#                                     # writes <!-- cluster-tls-bench:start/end --> instead
#
# Knobs from the environment: MODE (plain: 1 node against NODES, the default; tls: plain against
# TLS+AUTH, both on NODES nodes), REPS, DURATION, FANOUT_S, LAT_RATE, NOTIFY_U, NOTIFY_P,
# NOTIFY_RATE, QUEUE_C, QUEUE_P, QUEUE_RATE, SIZE, STORES_IN_FLIGHT, BUILD_DIR, DOC. Nothing is pinned: nodes, redis-server
# and the generator share every CPU.
# Every process this script starts is stopped by pid on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
REPS=${REPS:-3}
DURATION=${DURATION:-4}     # seconds of publishing per run
FANOUT_S=${FANOUT_S:-1000}  # fan-out subscribers (max rate and fixed rate)
LAT_RATE=${LAT_RATE:-10}    # fixed-rate run: msg/s offered (x FANOUT_S deliveries/s)
NOTIFY_U=${NOTIFY_U:-1000}  # notify users
NOTIFY_P=${NOTIFY_P:-4}     # notify publishers
NOTIFY_RATE=${NOTIFY_RATE:-2000}  # fixed-rate notify run: msg/s offered in total
QUEUE_C=${QUEUE_C:-100}     # queue: consumers of one /queue/ (auto ack)
QUEUE_P=${QUEUE_P:-4}       # queue: publishers
QUEUE_RATE=${QUEUE_RATE:-2000}  # fixed-rate queue run: msg/s offered in total
SIZE=${SIZE:-100}           # body bytes
# [limits] max_stores_in_flight of the nodes; empty: the broker's default (flow control pauses
# a publisher with that many durable SENDs awaiting Redis), 0: no bound.
STORES_IN_FLIGHT=${STORES_IN_FLIGHT:-}
NODES=3
MODE=${MODE:-plain}
[[ $MODE == plain || $MODE == tls ]] || { echo "MODE must be plain or tls" >&2; exit 2; }
BUILD_DIR=${BUILD_DIR:-/tmp/build-compare-release}
DOC=${DOC:-$repo/docs/benchmarks.md}

BENCH_NAME=cluster
source "$here/lib.sh"  # log, stop_pid, wait_port, build_release, machine_line

WORK=$(mktemp -d /tmp/stompbox-cluster.XXXXXX)
mode_prefix= RESULTS=$BUILD_DIR/cluster-results.jsonl  # written as the runs finish
[[ $MODE == tls ]] && mode_prefix="MODE=tls " RESULTS=$BUILD_DIR/cluster-tls-results.jsonl
redis_pid= redis_port= node_pids=() urls=()
tls_pid= tls_port= TLS_PASSWORD=bench-$RANDOM$RANDOM
# The Redis the next runs use (use_redis): its pid, the nodes' URL and config, redis-cli args.
cur_kind= cur_pid= cur_url= cur_conf= cur_cli=()
started_at=$(date +%s)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

stop_nodes() {
  local p
  for p in "${node_pids[@]}"; do stop_pid "$p"; done
  node_pids=() urls=()
}

cleanup() {
  stop_nodes
  stop_pid "$redis_pid"
  stop_pid "$tls_pid"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # through the EXIT trap: stop what we started

free_port() {  # a TCP port nobody listens on now (the kernel's pick)
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start_redis() {
  redis_port=$(free_port)
  mkdir -p "$WORK/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes \
    --appendfsync always --dir "$WORK/redis" --logfile "$WORK/redis/redis.log" &
  redis_pid=$!
  wait_port "$redis_port"
  log "redis-server $(redis-server --version | awk '{print $3}') on port $redis_port"
}

# start_redis_tls: a second private redis-server on TLS only (port 0, tls-port), requirepass,
# no client certificate; the CA and its server certificate (127.0.0.1) made here with openssl.
start_redis_tls() {
  local pki=$WORK/pki
  mkdir -p "$pki" "$WORK/redis-tls"
  (cd "$pki"
   openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout ca.key \
     -out ca.pem
   openssl req -newkey rsa:2048 -nodes -subj /CN=bench-redis -keyout server.key -out server.csr
   echo "subjectAltName = IP:127.0.0.1" >server.ext
   openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
     -extfile server.ext -out server.pem) >"$WORK/pki.log" 2>&1
  echo "$TLS_PASSWORD" >"$WORK/redis.password"
  tls_port=$(free_port)
  redis-server --port 0 --tls-port "$tls_port" --bind 127.0.0.1 --save "" --appendonly yes \
    --appendfsync always --dir "$WORK/redis-tls" --logfile "$WORK/redis-tls/redis.log" \
    --tls-cert-file "$pki/server.pem" --tls-key-file "$pki/server.key" \
    --tls-ca-cert-file "$pki/ca.pem" --tls-auth-clients no --requirepass "$TLS_PASSWORD" &
  tls_pid=$!
  wait_port "$tls_port"
  { cat "$WORK/node.toml"
    printf '[cluster]\nredis_password_file = "%s"\nredis_tls_ca_file = "%s"\n' \
      "$WORK/redis.password" "$pki/ca.pem"
  } >"$WORK/node-tls.toml"
  log "redis-server with TLS and AUTH on port $tls_port"
}

use_redis() {  # use_redis plain|tls: which Redis the next measure() runs on
  cur_kind=$1
  if [[ $1 == plain ]]; then
    cur_pid=$redis_pid cur_url="redis://127.0.0.1:$redis_port/0" cur_conf=$WORK/node.toml
    cur_cli=(-p "$redis_port")
  else
    cur_pid=$tls_pid cur_url="rediss://127.0.0.1:$tls_port/0" cur_conf=$WORK/node-tls.toml
    cur_cli=(-p "$tls_port" --tls --cacert "$WORK/pki/ca.pem" --no-auth-warning
             -a "$TLS_PASSWORD")
  fi
}

start_nodes() {  # start_nodes N: N stompbox nodes on the current Redis; sets node_pids, urls
  local i ws
  for ((i = 0; i < $1; i++)); do
    ws=$(free_port)
    "$BUILD_DIR/app/stompbox" --config "$cur_conf" --metrics 127.0.0.1:0 \
      --data-dir :memory: --ws "127.0.0.1:$ws" --tcp "127.0.0.1:$(free_port)" --threads 1 \
      --log-level warn --cluster-redis "$cur_url" \
      >>"$WORK/node$i.log" 2>&1 &
    node_pids+=($!) urls+=("ws://127.0.0.1:$ws/ws")
    wait_port "$ws"
  done
}

cpu_ticks() {  # cpu_ticks PID...: utime + stime of all of them, in clock ticks
  local p total=0
  for p in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

scenario_args() {  # scenario_args LABEL: the generator arguments of a case
  case $1 in
    fanout) echo fanout --subscribers "$FANOUT_S" --duration "$DURATION" --size "$SIZE" ;;
    latency) echo fanout --subscribers "$FANOUT_S" --rate "$LAT_RATE" --duration "$DURATION" \
               --size "$SIZE" ;;
    notify) echo notify --users "$NOTIFY_U" --publishers "$NOTIFY_P" --duration "$DURATION" \
              --size "$SIZE" ;;
    notify-latency) echo notify --users "$NOTIFY_U" --publishers "$NOTIFY_P" \
                      --rate "$NOTIFY_RATE" --duration "$DURATION" --size "$SIZE" ;;
    queue) echo queue --subscribers "$QUEUE_C" --publishers "$QUEUE_P" --duration "$DURATION" \
             --size "$SIZE" ;;
    queue-latency) echo queue --subscribers "$QUEUE_C" --publishers "$QUEUE_P" \
                     --rate "$QUEUE_RATE" --duration "$DURATION" --size "$SIZE" ;;
  esac
}

# measure LABEL NODES REP: fresh nodes, one generator run over all of them, one JSON line with
# the generator's results plus the CPU of the nodes and of redis-server over the whole run
# (connection ramp, publishing and drain), in % of one core.
measure() {
  local label=$1 n=$2 rep=$3 url_list
  redis-cli "${cur_cli[@]}" flushall >/dev/null  # no backlog of an earlier run
  start_nodes "$n"
  url_list=$(IFS=,; echo "${urls[*]}")
  log "$label on $n node(s), $cur_kind Redis (rep $rep)"
  local t0 n0 r0 t1 n1 r1 hz
  hz=$(getconf CLK_TCK)
  t0=$(date +%s.%N) n0=$(cpu_ticks "${node_pids[@]}") r0=$(cpu_ticks "$cur_pid")
  "$BUILD_DIR/bench/load/stompbox-bench" $(scenario_args "$label") --url "$url_list" \
    --broker-pid "${node_pids[0]}" --name-prefix "r$rep-" --json >"$WORK/gen.out" \
    2>"$WORK/gen.err" || true  # the exit code is in the JSON status
  t1=$(date +%s.%N) n1=$(cpu_ticks "${node_pids[@]}") r1=$(cpu_ticks "$cur_pid")
  stop_nodes
  python3 - "$label" "$n" "$rep" "$WORK/gen.out" "$t0" "$t1" "$((n1 - n0))" "$((r1 - r0))" \
    "$hz" "$cur_kind" <<'EOF' | tee -a "$RESULTS" | cut -c1-200 >&2
import json, sys
label, n, rep, out, t0, t1, nodes, redis, hz, kind = sys.argv[1:]
wall = float(t1) - float(t0)
try:
    r = json.loads(open(out).read().strip().splitlines()[-1])
except (IndexError, ValueError):
    r = {"status": "error", "error": "no JSON from the generator"}
r.update(case=label, nodes=int(n), rep=int(rep), run_s=wall, redis_kind=kind,
         nodes_cpu_pct=100 * int(nodes) / int(hz) / wall,
         redis_cpu_pct=100 * int(redis) / int(hz) / wall)
print(json.dumps(r))
EOF
}

# ---- main ----------------------------------------------------------------------------------
build_release stompbox stompbox-bench
# bench.toml's last table is [limits]: the line below lands in it.
{ cat "$here/load/bench.toml"
  [[ -z $STORES_IN_FLIGHT ]] || echo "max_stores_in_flight = $STORES_IN_FLIGHT"
} >"$WORK/node.toml"
ulimit -n "$(ulimit -Hn)"
: >"$RESULTS"
start_redis
use_redis plain
[[ $MODE == tls ]] && start_redis_tls
for ((rep = 1; rep <= REPS; rep++)); do
  for c in fanout latency notify notify-latency queue queue-latency; do
    if [[ $MODE == plain ]]; then
      for n in 1 "$NODES"; do measure "$c" "$n" "$rep"; done
    else  # the same NODES nodes on each Redis in turn
      for kind in plain tls; do use_redis "$kind"; measure "$c" "$NODES" "$rep"; done
    fi
  done
done

elapsed=$(( $(date +%s) - started_at ))
python3 "$here/load/cluster_report.py" "$RESULTS" "$DOC" "$(cat <<EOF
{"command": "${mode_prefix}REPS=$REPS${STORES_IN_FLIGHT:+ STORES_IN_FLIGHT=$STORES_IN_FLIGHT} bench/cluster.sh",
 "mode": "$MODE",
 "date": "$(date -u '+%Y-%m-%d %H:%M UTC')",
 "elapsed": "$((elapsed / 60)) min $((elapsed % 60)) s", "machine": "$(machine_line)",
 "load": "$load_at_start", "redis": "$(redis-server --version | awk '{print $3}')",
 "reps": $REPS, "duration": $DURATION, "size": $SIZE, "fanout_s": $FANOUT_S,
 "lat_rate": $LAT_RATE, "notify_u": $NOTIFY_U, "notify_p": $NOTIFY_P,
 "notify_rate": $NOTIFY_RATE, "queue_c": $QUEUE_C, "queue_p": $QUEUE_P,
 "queue_rate": $QUEUE_RATE, "nodes": $NODES,
 "stores_in_flight": "$STORES_IN_FLIGHT"}
EOF
)"
log "done in ${elapsed}s: $DOC updated (raw results: $RESULTS)"
