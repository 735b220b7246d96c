#!/usr/bin/env bash
# Installs what is missing, builds Release and starts stompbox with its defaults
# (WebSocket ws://127.0.0.1:15674/ws, STOMP over TCP 127.0.0.1:61613). Extra arguments go to
# stompbox, e.g. scripts/run.sh --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSTOMPBOX_BUILD_TESTS=OFF -DSTOMPBOX_BUILD_BENCH=OFF -DSTOMPBOX_BUILD_EXAMPLES=OFF
cmake --build build-release --target stompbox -j "$(nproc)"
exec build-release/app/stompbox "$@"
