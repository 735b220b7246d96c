#!/usr/bin/env bash
# CI smoke test of the load tools against the real broker (ctest: bench.smoke).
# Usage: smoke.sh <stompbox> <stompbox-bench>
# Runs each scenario for a few seconds; fails only on exactly-once violations or errors, never
# on timing.
set -u
broker_bin=$1
bench_bin=$2
work=$(mktemp -d)
broker_pid=
cleanup() {
  if [[ -n $broker_pid ]] && kill -0 "$broker_pid" 2>/dev/null; then
    kill "$broker_pid"; wait "$broker_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)"
"$broker_bin" --config "$(dirname "$0")/bench.toml" --ws 127.0.0.1:0 --tcp 127.0.0.1:0 \
  --metrics 127.0.0.1:0 --data-dir "$work/data" --threads 2 >"$work/broker.log" 2>&1 &
broker_pid=$!
ws_port= tcp_port=
for _ in $(seq 100); do
  ws_port=$(sed -n 's|.*ws://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/broker.log")
  tcp_port=$(sed -n 's|.*TCP at 127.0.0.1:\([0-9]*\).*|\1|p' "$work/broker.log")
  [[ -n $ws_port && -n $tcp_port ]] && break
  sleep 0.1
done
if [[ -z $ws_port || -z $tcp_port ]]; then
  echo "smoke: broker did not start"; cat "$work/broker.log"; exit 1
fi
url="ws://127.0.0.1:$ws_port/ws"
failed=0

run() {  # run <name> <args...>: any non-zero exit is a failure
  local name=$1; shift
  echo "== $name: stompbox-bench $*"
  "$bench_bin" "$@" --broker-pid "$broker_pid"
  local rc=$?
  if (( rc != 0 )); then echo "smoke: $name FAILED (exit $rc)"; failed=1; fi
  return $rc
}

run "fanout ws" fanout --url "$url" --subscribers 10 --duration 2 --drain 5
run "fanout tcp, fixed rate" fanout --tcp "127.0.0.1:$tcp_port" --subscribers 10 --rate 2000 \
    --duration 2 --drain 5

# Few users, many publishers: each user queue holds far more than its default bound at once.
run "notify" notify --url "$url" --users 3 --publishers 4 --duration 2 --drain 5
run "queue" queue --url "$url" --subscribers 5 --publishers 2 --duration 2 --drain 5
run "idle" idle --url "$url" --connections 200 --hold 2

if ! kill -0 "$broker_pid" 2>/dev/null; then echo "smoke: the broker died"; failed=1; fi
(( failed == 0 )) && echo "smoke: OK"
exit "$failed"
