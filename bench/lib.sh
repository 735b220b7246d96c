# bench/lib.sh: shell helpers shared by bench/compare.sh and bench/cluster.sh (sourced, not run).
# The sourcing script sets BENCH_NAME (the log prefix) first.

log() { echo "[${BENCH_NAME:-bench} $(date +%T)] $*" >&2; }

stop_pid() {  # stop_pid PID: TERM, wait up to 10 s, then KILL
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

wait_port() {  # wait_port PORT: until something listens on 127.0.0.1:PORT (10 s)
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  log "nothing listens on port $1"; return 1
}

build_release() {  # build_release TARGET...: configure Release in $BUILD_DIR, build the targets
  # SKIP_BUILD=1: use $BUILD_DIR as it is (e.g. a build of another commit to compare with)
  if [[ ${SKIP_BUILD:-0} == 1 ]]; then log "using $BUILD_DIR as built (SKIP_BUILD=1)"; return; fi
  log "building Release in $BUILD_DIR"
  local launcher=()  # ccache when installed: a rerun rebuilds only what changed
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$repo" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    -DSTOMPBOX_BUILD_TESTS=OFF -DSTOMPBOX_BUILD_EXAMPLES=OFF >"$WORK/cmake.log"
  ninja -C "$BUILD_DIR" -j2 "$@" >"$WORK/build.log"
}

machine_line() {  # one line describing this machine
  echo "nproc = $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
    "$(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)," \
    "$(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
}
