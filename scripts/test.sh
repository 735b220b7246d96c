#!/usr/bin/env bash
# Installs what is missing, builds everything with warnings as errors, runs the whole test suite
# (ctest: unit, integration and interop tests), then every fuzzer on its seed corpus.
#   FUZZ_SECONDS=60   seconds per fuzzer (0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${FUZZ_SECONDS:-60}"
jobs="$(nproc)"

scripts/deps.sh test

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOMPBOX_WERROR=ON
cmake --build build -j "$jobs"

echo "== ctest"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if ((fuzz_seconds > 0)); then
  echo "== fuzzers (${fuzz_seconds}s each, clang-14 + libFuzzer + ASan/UBSan)"
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSTOMPBOX_BUILD_FUZZERS=ON -DSTOMPBOX_BUILD_TESTS=OFF -DSTOMPBOX_BUILD_BENCH=OFF \
    -DSTOMPBOX_BUILD_EXAMPLES=OFF
  cmake --build build-fuzz -j "$jobs" --target fuzzers
  for fuzzer in build-fuzz/fuzz/*_fuzzer; do
    name="$(basename "$fuzzer" _fuzzer)"
    work="$(mktemp -d)"  # a copy, so the checked-in seed corpus stays as it is
    cp -r "fuzz/corpus/$name/." "$work/"
    dict=()
    [[ -f "fuzz/$name.dict" ]] && dict=("-dict=fuzz/$name.dict")
    echo "-- $name"
    "$fuzzer" "$work" "${dict[@]}" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
      -artifact_prefix="build-fuzz/${name}-" 2>&1 | tail -n 15
    rm -rf "$work"
  done
fi
echo "all tests passed"
