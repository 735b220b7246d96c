#!/usr/bin/env bash
# bench/compare.sh: stompbox against the bare baseline server (bench-baseline) and RabbitMQ
# Web-STOMP, with stompbox-bench as the load generator. Writes medians and ratios into
# docs/benchmarks.md between <!-- broker-bench:start --> and <!-- broker-bench:end -->.
#
#   bench/compare.sh            # full run (about 35 minutes on 2 cores; WITH_RABBIT=0: 13)
#   QUICK=1 bench/compare.sh    # about 2 minutes: fewer cases, 1 repetition, short runs
#   BUILD_DIR=/path SKIP_BUILD=1 bench/compare.sh   # measure an existing Release build
#
# Every knob below can be set from the environment (e.g. IDLE_N=5000 REPS=5).
# Installs rabbitmq-server from Debian when missing (as root). RabbitMQ runs as a private node
# (its own data dir, ports and epmd under $WORK) so no system instance is touched. Every process
# this script starts is stopped by pid on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
  : "${REPS:=1}" "${DURATION:=2}" "${FANOUT_S:=10 1000}" "${NOTIFY_U:=1000}" "${IDLE_N:=2000}"
  : "${HOLD:=3}" "${UNPINNED:=fanout-1000 fanout-tcp-1000}"
fi
REPS=${REPS:-3}
DURATION=${DURATION:-4}                 # seconds of publishing per run
FANOUT_S=${FANOUT_S:-10 100 1000 5000}  # subscriber counts (fan-out rate and latency)
TRANSPORTS=${TRANSPORTS:-ws tcp}        # fan-out and idle over WebSocket and over plain TCP
NOTIFY_U=${NOTIFY_U:-1000 10000}        # user counts
NOTIFY_P=${NOTIFY_P:-4}                 # notify publishers
IDLE_N=${IDLE_N:-19000}                 # idle connections
HOLD=${HOLD:-5}                         # idle hold seconds
LAT_DELIVERIES=${LAT_DELIVERIES:-5000}  # latency runs: deliveries/s offered at every S
                                        # (msg/s = this / S: well below every broker's max)
SIZE=${SIZE:-100}                       # body bytes
# cases for stompbox --threads 1 against --threads 2, unpinned
UNPINNED=${UNPINNED:-fanout-10 fanout-100 fanout-1000 fanout-5000 fanout-tcp-10 fanout-tcp-1000 notify-1000}
BROKER_CPU=${BROKER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}                   # a CPU list for taskset, e.g. 1-3 with GEN_PROCS=3
GEN_PROCS=${GEN_PROCS:-1}               # generator processes per run (split S, U, N)
WITH_RABBIT=${WITH_RABBIT:-1}
QUIET_WAIT=${QUIET_WAIT:-60}            # seconds to wait for an idle machine before each run
BUILD_DIR=${BUILD_DIR:-/tmp/build-compare-release}
DOC=${DOC:-$repo/docs/benchmarks.md}
# Ports below the ephemeral range (32768+) so the generator's own sockets never hold them.
SB_WS=${SB_WS:-25674} SB_TCP=${SB_TCP:-25613} BL_WS=${BL_WS:-25684} BL_TCP=${BL_TCP:-25623}
RMQ_WS=${RMQ_WS:-25774} RMQ_STOMP=${RMQ_STOMP:-25713} RMQ_AMQP=${RMQ_AMQP:-25772}
RMQ_DIST=${RMQ_DIST:-25780} RMQ_EPMD=${RMQ_EPMD:-25369}

WORK=$(mktemp -d /tmp/stompbox-compare.XXXXXX)
RESULTS=$BUILD_DIR/compare-results.jsonl  # written as the runs finish
broker_pid= rabbit_wrapper= rabbit_pid= epmd_pid=
started_at=$(date +%s)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

BENCH_NAME=compare
source "$here/lib.sh"  # log, stop_pid, wait_port, build_release, machine_line

cleanup() {
  stop_pid "$broker_pid"
  stop_rabbit
  stop_pid "$epmd_pid"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # through the EXIT trap: stop what we started

# ---- RabbitMQ: a private node --------------------------------------------------------------
rabbit_env() {
  export HOME=$WORK/rabbit RABBITMQ_CONFIG_FILE=$WORK/rabbit/rabbitmq.conf
  export RABBITMQ_MNESIA_BASE=$WORK/rabbit/mnesia RABBITMQ_LOG_BASE=$WORK/rabbit/log
  export RABBITMQ_ENABLED_PLUGINS_FILE=$WORK/rabbit/enabled_plugins
  export RABBITMQ_PID_FILE=$WORK/rabbit/rabbit.pid RABBITMQ_NODENAME=stompbench@localhost
  export ERL_EPMD_PORT=$RMQ_EPMD
}

rabbit_setup() {
  rabbit_version="not run (WITH_RABBIT=0)"
  [[ $WITH_RABBIT == 1 ]] || return 0
  if [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
    log "installing rabbitmq-server (Debian)"
    # RUNLEVEL=1: the package must not start the system instance.
    if ! DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends \
        rabbitmq-server >"$WORK/apt.log" 2>&1; then
      rabbit_version="install failed (apt-get install rabbitmq-server): not measured"
      WITH_RABBIT=0; return 0
    fi
  fi
  rabbit_version="$(dpkg-query -W -f='${Version}' rabbitmq-server) (Debian), Web-STOMP plugin"
  mkdir -p "$WORK/rabbit"
  # An ordinary configuration: defaults (guest allowed from loopback) plus our ports.
  cat >"$WORK/rabbit/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$RMQ_AMQP
stomp.listeners.tcp.1 = 127.0.0.1:$RMQ_STOMP
web_stomp.tcp.ip = 127.0.0.1
web_stomp.tcp.port = $RMQ_WS
distribution.listener.port_range.min = $RMQ_DIST
distribution.listener.port_range.max = $RMQ_DIST
EOF
  (rabbit_env; /usr/lib/rabbitmq/bin/rabbitmq-plugins --offline enable rabbitmq_web_stomp \
     >"$WORK/rabbit/plugins.log" 2>&1)
  epmd -port "$RMQ_EPMD" >/dev/null 2>&1 &
  epmd_pid=$!
}

start_rabbit() {
  [[ $WITH_RABBIT == 1 && -z $rabbit_wrapper ]] || return 0
  log "starting RabbitMQ on CPU $BROKER_CPU"
  rm -f "$WORK/rabbit/rabbit.pid"
  (rabbit_env; ulimit -n "$(ulimit -Hn)"
   exec taskset -c "$BROKER_CPU" /usr/lib/rabbitmq/bin/rabbitmq-server \
     >"$WORK/rabbit/server.out" 2>&1) &
  rabbit_wrapper=$!
  (rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl wait "$WORK/rabbit/rabbit.pid" >/dev/null 2>&1) ||
    { log "RabbitMQ did not start (see $WORK/rabbit)"; tail -5 "$WORK/rabbit/server.out" >&2; }
  rabbit_pid=$(cat "$WORK/rabbit/rabbit.pid" 2>/dev/null || true)
  wait_port "$RMQ_WS"
}

stop_rabbit() {
  [[ -n $rabbit_wrapper ]] || return 0
  stop_pid "$rabbit_wrapper"   # the wrapper stops the node on TERM
  stop_pid "$rabbit_pid"
  rabbit_wrapper= rabbit_pid=
}

# ---- stompbox and the baseline: a fresh process per run ------------------------------------
start_broker() {  # start_broker TARGET; sets broker_pid, url (WebSocket) and tcp (STOMP over TCP)
  local pin=(taskset -c "$BROKER_CPU")
  case $1 in
    stompbox) url=ws://127.0.0.1:$SB_WS/ws tcp=127.0.0.1:$SB_TCP
      "${pin[@]}" "$BUILD_DIR/app/stompbox" --config "$here/load/bench.toml" --metrics 127.0.0.1:0 \
        --data-dir "$WORK/data" --ws "127.0.0.1:$SB_WS" --tcp "127.0.0.1:$SB_TCP" \
        --threads 1 --log-level warn >>"$WORK/stompbox.log" 2>&1 &
      broker_pid=$!; wait_port "$SB_WS" ;;
    stompbox-t1 | stompbox-t2) url=ws://127.0.0.1:$SB_WS/ws tcp=127.0.0.1:$SB_TCP
      "$BUILD_DIR/app/stompbox" --config "$here/load/bench.toml" --metrics 127.0.0.1:0 \
        --data-dir "$WORK/data" --ws "127.0.0.1:$SB_WS" --tcp "127.0.0.1:$SB_TCP" \
        --threads "${1#stompbox-t}" --log-level warn >>"$WORK/stompbox.log" 2>&1 &
      broker_pid=$!; wait_port "$SB_WS" ;;
    baseline) url=ws://127.0.0.1:$BL_WS/ws tcp=127.0.0.1:$BL_TCP
      "${pin[@]}" "$BUILD_DIR/bench/load/bench-baseline" --ws "127.0.0.1:$BL_WS" \
        --tcp "127.0.0.1:$BL_TCP" --threads 1 >>"$WORK/baseline.log" 2>&1 &
      broker_pid=$!; wait_port "$BL_WS" ;;
    rabbitmq) url=ws://127.0.0.1:$RMQ_WS/ws tcp=127.0.0.1:$RMQ_STOMP; start_rabbit
      broker_pid= ;;
  esac
}

stop_broker() { stop_pid "$broker_pid"; broker_pid=; }

# ---- one measurement -----------------------------------------------------------------------
run_id=0
# Waits (up to QUIET_WAIT s) until the machine is idle: a broker that just ran (RabbitMQ
# dropping thousands of connections, above all) keeps a core busy for seconds after its run, and
# the next run would share that core.
wait_quiet() {
  python3 - "$QUIET_WAIT" <<'PY' || log "machine still busy after ${QUIET_WAIT}s: measuring anyway"
import sys, time
def busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)
deadline = time.time() + float(sys.argv[1])
while time.time() < deadline:
    b0, t0 = busy(); time.sleep(0.5); b1, t1 = busy()
    if (b1 - b0) <= 0.1 * (t1 - t0): sys.exit(0)  # under 10% of all cores busy
sys.exit(1)
PY
}

measure() {  # measure LABEL TARGET REP PINNED SCENARIO-ARGS...
  local label=$1 target=$2 rep=$3 pinned=$4; shift 4
  run_id=$((run_id + 1))
  wait_quiet
  start_broker "$target"
  local pid=${broker_pid:-$rabbit_pid} extra=() gen=()
  if [[ $target == rabbitmq ]]; then
    extra=(--login guest --passcode guest)
    if [[ $1 == notify ]]; then
      extra+=(--user-subscribe "/queue/{user}-notifications-r$run_id"
              --user-send "/queue/{user}-notifications-r$run_id")
    fi
  fi
  [[ $pinned == 1 ]] && gen=(taskset -c "$GEN_CPU")
  [[ $label == *tcp* ]] && extra+=(--tcp "$tcp")  # --tcp wins over --url
  log "$label on $target (rep $rep)"
  local files=() pids=() k
  for ((k = 0; k < GEN_PROCS; k++)); do
    "${gen[@]}" "$BUILD_DIR/bench/load/stompbox-bench" $(split_args "$k" "$@") --url "$url" \
      --broker-pid "$pid" --name-prefix "g$k-" --json "${extra[@]}" >"$WORK/gen$k.out" \
      2>"$WORK/gen$k.err" &
    pids+=($!); files+=("$WORK/gen$k.out")
  done
  for k in "${pids[@]}"; do wait "$k" || true; done  # the exit code is in the JSON status
  python3 "$here/load/compare_report.py" merge "$label" "$target" "$rep" "${files[@]}" \
    | tee -a "$RESULTS" | cut -c1-200 >&2
  [[ $target == rabbitmq ]] || stop_broker
}

split_args() {  # split_args K ARGS...: divide counts between GEN_PROCS processes; own topic each
  local k=$1; shift
  local out=() prev= a
  for a in "$@"; do
    case $prev in
      --subscribers | --users | --connections | --publishers)
        a=$(( (a + GEN_PROCS - 1) / GEN_PROCS )) ;;
      --rate) a=$(python3 -c "print($a / $GEN_PROCS)") ;;
      --destination) if (( GEN_PROCS > 1 )); then a="$a.p$k"; fi ;;
    esac
    out+=("$a"); prev=$a
  done
  echo "${out[@]}"
}

lat_rate() {  # lat_rate S: msg/s that make LAT_DELIVERIES deliveries/s to S subscribers
  python3 -c "print($LAT_DELIVERIES / $1)"
}

scenario_args() {  # scenario_args LABEL: the generator arguments of a case
  case $1 in
    fanout-*) echo fanout --subscribers "${1##*-}" --destination /topic/bench \
                --duration "$DURATION" --size "$SIZE" ;;
    latency-*) echo fanout --subscribers "${1##*-}" --rate "$(lat_rate "${1##*-}")" \
                --destination /topic/bench --duration "$DURATION" --size "$SIZE" ;;
    notify-*) echo notify --users "${1#notify-}" --publishers "$NOTIFY_P" \
                --duration "$DURATION" --size "$SIZE" ;;
    idle | idle-tcp) echo idle --connections "$IDLE_N" --hold "$HOLD" --destination /topic/idle ;;
  esac
}

# ---- main ----------------------------------------------------------------------------------
build_release stompbox stompbox-bench bench-baseline
ulimit -n "$(ulimit -Hn)"
: >"$RESULTS"
rabbit_setup
targets=(stompbox baseline)
[[ $WITH_RABBIT == 1 ]] && targets+=(rabbitmq)
cases=()
for tr in $TRANSPORTS; do  # labels: fanout-S and idle over WebSocket, fanout-tcp-S, idle-tcp
  infix=; [[ $tr == tcp ]] && infix=tcp-
  for s in $FANOUT_S; do cases+=("fanout-$infix$s"); done
done
for s in $FANOUT_S; do cases+=("latency-$s"); done
for u in $NOTIFY_U; do cases+=("notify-$u"); done
for tr in $TRANSPORTS; do
  if [[ $tr == tcp ]]; then cases+=(idle-tcp); else cases+=(idle); fi
done

for ((rep = 1; rep <= REPS; rep++)); do
  for c in "${cases[@]}"; do
    for t in "${targets[@]}"; do
      # RabbitMQ keeps memory and durable queues from earlier runs: a fresh node for idle.
      if [[ $c == idle* && $t == rabbitmq ]]; then stop_rabbit; rm -rf "$WORK/rabbit/mnesia"; fi
      measure "$c" "$t" "$rep" 1 $(scenario_args "$c")
    done
  done
  for c in $UNPINNED; do
    for t in stompbox-t1 stompbox-t2; do
      measure "unpinned-$c" "$t" "$rep" 0 $(scenario_args "$c")
    done
  done
done
stop_rabbit

elapsed=$(( $(date +%s) - started_at ))
cmdline="QUICK=$QUICK REPS=$REPS IDLE_N=$IDLE_N GEN_PROCS=$GEN_PROCS bench/compare.sh"
python3 - "$WORK/meta.json" <<EOF
import json, sys
json.dump({
  "command": "$cmdline", "date": "$(date -u '+%Y-%m-%d %H:%M UTC')",
  "elapsed": "$((elapsed / 60)) min $((elapsed % 60)) s",
  "machine": "$(machine_line)",
  "load": "$load_at_start", "rabbitmq": "$rabbit_version", "reps": $REPS,
  "broker_cpu": "$BROKER_CPU", "gen_cpu": "$GEN_CPU", "gen_procs": $GEN_PROCS,
  "duration": $DURATION, "size": $SIZE, "lat_deliveries": $LAT_DELIVERIES,
  "notify_publishers": $NOTIFY_P, "idle_n": $IDLE_N, "hold": $HOLD}, open(sys.argv[1], "w"))
EOF
python3 "$here/load/compare_report.py" report "$RESULTS" "$DOC" "$WORK/meta.json"
log "done in ${elapsed}s: $DOC updated (raw results: $RESULTS)"
