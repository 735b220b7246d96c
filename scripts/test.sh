#!/usr/bin/env bash
# Installs what is missing, then:
#   1. builds everything with AddressSanitizer + UndefinedBehaviorSanitizer and warnings as
#      errors, and runs the whole test suite there (unit, integration, interop, fault, examples);
#   2. builds again with ThreadSanitizer and runs the multi-threaded suites (broker, store,
#      transport);
#   3. runs every libFuzzer target on its seed corpus.
# Any sanitizer report fails the test that triggered it.
#   FUZZ_SECONDS=60   seconds per fuzzer (0 skips fuzzing)
#   TSAN=1            0 skips the ThreadSanitizer stage
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${FUZZ_SECONDS:-60}"
jobs="$(nproc)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

scripts/deps.sh test

echo "== build: ASan + UBSan, -Werror"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOMPBOX_WERROR=ON \
  -DSTOMPBOX_SANITIZE=address,undefined
cmake --build build -j "$jobs"

echo "== ctest: the whole suite under ASan + UBSan"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900

if [[ "${TSAN:-1}" != 0 ]]; then
  echo "== build: ThreadSanitizer"
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOMPBOX_WERROR=ON \
    -DSTOMPBOX_SANITIZE=thread -DSTOMPBOX_BUILD_BENCH=OFF -DSTOMPBOX_BUILD_EXAMPLES=OFF
  tsan_targets=()
  for target in broker_tests store_tests transport_tests transport_sockjs_tests; do
    ninja -C build-tsan -t query "$target" >/dev/null 2>&1 && tsan_targets+=("$target")
  done
  cmake --build build-tsan -j "$jobs" --target "${tsan_targets[@]}"
  echo "== ctest: multi-threaded suites under TSan"
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" --timeout 900 \
    -R '^(broker|store|transport)\.'
fi

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
