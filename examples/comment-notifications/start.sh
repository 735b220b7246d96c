#!/usr/bin/env bash
# One command for the whole demo: builds stompbox if needed, installs the Node packages from
# package-lock.json, then starts stompbox and the app (run.js) and prints the URL.
# Ctrl-C stops both.
#
#   STOMPBOX_BIN=/path/to/stompbox ./start.sh   use a broker you built already
#   APP_PORT=3000 BROKER_WS_PORT=15674          the default ports
#   JOBS=2                                      parallel compile jobs (ninja's default otherwise)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ -z "${STOMPBOX_BIN:-}" ]]; then
  build="$repo/build-example"
  if [[ ! -f "$build/build.ninja" ]]; then
    echo "== configuring stompbox in $build"
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSTOMPBOX_BUILD_TESTS=OFF -DSTOMPBOX_BUILD_BENCH=OFF -DSTOMPBOX_BUILD_EXAMPLES=OFF
  fi
  echo "== building stompbox (nothing to do when it is up to date)"
  ninja -C "$build" ${JOBS:+-j "$JOBS"} stompbox
  STOMPBOX_BIN="$build/app/stompbox"
fi
export STOMPBOX_BIN

cd "$here"
installed=node_modules/.package-lock.json   # npm writes it on install: older = stale
if [[ ! -f "$installed" || package-lock.json -nt "$installed" ]]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
exec node run.js
