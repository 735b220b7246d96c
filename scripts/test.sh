#!/usr/bin/env bash
# The README's test command, and CI (.ci/run execs it). Installs what is missing, then:
#   1. builds everything (g++ 12, warnings as errors) under AddressSanitizer +
#      UndefinedBehaviorSanitizer and runs the whole suite on it: unit, integration over real
#      sockets, interop with real clients, fault tests with real processes, examples, bench smoke;
#   2. builds the multi-threaded suites (broker, store, transport: the server's io threads)
#      under ThreadSanitizer and runs them;
#   3. builds the Debian package (scripts/package.sh: a Release build of the binary alone) and
#      runs its tests (ctest -L package: lintian, then, as root, install, run, remove, purge);
#   4. builds the libFuzzer targets (clang-14, ASan + UBSan) and runs each on a copy of its seed
#      corpus with its dictionary, two at a time (CI machines have 2 cores).
# Every stage prints one line with its duration; a sanitizer report fails the test that made it.
# Knobs (CI uses the defaults):
#   FUZZ_SECONDS=45  seconds per fuzzer (0 skips the fuzzers); 45 keeps CI under its 35 min
#                    (measured uncached on 2 cores: 30:51 with 60 s, the fuzzers 245 s of it)
#   SANITIZE=1       0 skips stages 1 and 2 and runs the whole suite once on a plain
#                    RelWithDebInfo -Werror build instead (quicker locally)
#   PACKAGE=1        0 skips stage 3
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${FUZZ_SECONDS:-45}"
sanitize="${SANITIZE:-1}"
package="${PACKAGE:-1}"
jobs="$(nproc)"
supp="$PWD/scripts/sanitizers"  # suppressions: each entry says why it is not a bug of ours
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$supp/lsan.supp}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp}"

# stage <name> <command...>: runs the command, then prints the stage's duration.
timings=()
stage() {
  local name="$1" start="$SECONDS"
  shift
  echo "== $name"
  "$@"
  timings+=("$(printf '%-28s %4d s' "$name" $((SECONDS - start)))")
  echo "== $name: $((SECONDS - start)) s"
}

# Sanitizer builds use -O1: quicker to compile than -O2, quick enough to run, and what the
# sanitizers' authors advise; -g1: line tables only, enough for file:line in every report, and
# a quarter less compile time than -g on the Beast-heavy files (ws_connection.cpp under ASan +
# UBSan: 111 s instead of 149 s, objects half the size); NDEBUG as in RelWithDebInfo, so the
# code tested is the code shipped.
# No separate plain -Werror build in CI: the ASan build compiles every target with -Werror
# already (it misses only warnings g++ 12 gives at -O2 and above alone, such as -Wrestrict, and
# -Wmaybe-uninitialized, off under the sanitizers); SANITIZE=0 runs that build.
sanitizer_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  -DSTOMPBOX_WERROR=ON)
# The suites whose tests run threads (TSan finds nothing in single-threaded code).
tsan_targets=(broker_tests store_tests transport_tests transport_sockjs_tests)
tsan_tests='^(broker|store|transport)\.'

build_asan() {
  cmake -S . -B build-asan -G Ninja "${sanitizer_flags[@]}" -DSTOMPBOX_SANITIZE=address,undefined
  cmake --build build-asan -j "$jobs"
}
build_tsan() {  # only the threaded suites' targets (and the libraries they link)
  cmake -S . -B build-tsan -G Ninja "${sanitizer_flags[@]}" -DSTOMPBOX_SANITIZE=thread \
    -DSTOMPBOX_BUILD_BENCH=OFF -DSTOMPBOX_BUILD_EXAMPLES=OFF
  cmake --build build-tsan -j "$jobs" --target "${tsan_targets[@]}"
}
build_plain() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOMPBOX_WERROR=ON
  cmake --build build -j "$jobs"
}
build_fuzzers() {
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSTOMPBOX_BUILD_FUZZERS=ON -DSTOMPBOX_BUILD_TESTS=OFF -DSTOMPBOX_BUILD_BENCH=OFF \
    -DSTOMPBOX_BUILD_EXAMPLES=OFF
  cmake --build build-fuzz -j "$jobs" --target fuzzers
}
package_tests() {  # the .deb's own tests, registered in scripts/package.sh's build dir
  ctest --test-dir build-package -L package --output-on-failure --timeout 300
}
suite() {  # suite <build dir> [ctest args...]
  local dir="$1"
  shift
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900 "$@"
}

# run_fuzzer <binary>: FUZZ_SECONDS on a scratch copy of the seed corpus (the checked-in one
# stays as it is); output in build-fuzz/<name>.log, findings in build-fuzz/<name>-crash-*.
run_fuzzer() {
  local fuzzer="$1" name work dict=()
  name="$(basename "$fuzzer" _fuzzer)"
  work="$(mktemp -d)"
  cp -r "fuzz/corpus/$name/." "$work/"
  [[ -f "fuzz/$name.dict" ]] && dict=("-dict=fuzz/$name.dict")
  local status=0
  "$fuzzer" "$work" "${dict[@]}" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
    -artifact_prefix="build-fuzz/${name}-" >"build-fuzz/$name.log" 2>&1 || status=$?
  echo "corpus: $(find "$work" -type f | wc -l) inputs" >>"build-fuzz/$name.log"
  rm -rf "$work"
  return "$status"
}

# Every fuzzer, two at a time; then each one's summary (its last lines), in order.
run_fuzzers() {
  local fuzzer running=0 failed=0
  for fuzzer in build-fuzz/fuzz/*_fuzzer; do
    if ((running == 2)); then
      wait -n || failed=1
      running=$((running - 1))
    fi
    run_fuzzer "$fuzzer" &
    running=$((running + 1))
  done
  while ((running > 0)); do
    wait -n || failed=1
    running=$((running - 1))
  done
  for fuzzer in build-fuzz/fuzz/*_fuzzer; do
    echo "-- $(basename "$fuzzer")"
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added|corpus:)|ERROR|SUMMARY|==[0-9]+==' \
      "build-fuzz/$(basename "$fuzzer" _fuzzer).log" | tail -n 12
  done
  return "$failed"
}

stage "dependencies" scripts/deps.sh test

if [[ "$sanitize" == 1 ]]; then
  stage "ASan+UBSan build" build_asan
  stage "ASan+UBSan: whole suite" suite build-asan
  stage "TSan build" build_tsan
  stage "TSan: threaded suites" suite build-tsan -R "$tsan_tests"
else
  stage "build (-Werror)" build_plain
  stage "whole suite" suite build
fi

if [[ "$package" == 1 ]]; then
  stage "package build (.deb)" scripts/package.sh
  stage "package tests" package_tests
fi

if ((fuzz_seconds > 0)); then
  stage "fuzzer build (clang-14)" build_fuzzers
  stage "fuzzers (${fuzz_seconds} s each, 2 at once)" run_fuzzers
fi

printf '%s\n' "${timings[@]}"
echo "all tests passed"
