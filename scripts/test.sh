#!/usr/bin/env bash
# Installs what is missing, then:
#   1. builds everything with warnings as errors and runs the whole test suite (unit,
#      integration, interop with real clients, fault tests with real processes, examples);
#   2. runs every libFuzzer target on its seed corpus (clang-14, ASan + UBSan);
#   3. with SANITIZE=1: the whole suite again under ASan + UBSan, and the broker and store
#      suites under TSan (not yet part of CI: see docs/reliability.md).
#   FUZZ_SECONDS=60   seconds per fuzzer (0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${FUZZ_SECONDS:-60}"
jobs="$(nproc)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

scripts/deps.sh test

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOMPBOX_WERROR=ON
cmake --build build -j "$jobs"

echo "== ctest: the whole suite"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900

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

if [[ "${SANITIZE:-0}" == 1 ]]; then
  echo "== build + ctest under ASan + UBSan"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOMPBOX_WERROR=ON \
    -DSTOMPBOX_SANITIZE=address,undefined
  cmake --build build-asan -j "$jobs"
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900
  echo "== build + ctest (broker, store) under TSan"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOMPBOX_WERROR=ON \
    -DSTOMPBOX_SANITIZE=thread -DSTOMPBOX_BUILD_BENCH=OFF -DSTOMPBOX_BUILD_EXAMPLES=OFF
  cmake --build build-tsan -j "$jobs" --target broker_tests store_tests
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 900 -R '^(broker|store)\.'
fi
echo "all tests passed"
