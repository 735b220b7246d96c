#!/usr/bin/env bash
# Installs the Debian 12 packages stompbox needs, skipping what is already there.
#   scripts/deps.sh build   what building and running the broker needs
#   scripts/deps.sh package that, plus what scripts/package.sh needs (dpkg-shlibdeps, file)
#   scripts/deps.sh test    build, package, plus what the tests, fuzzers, interop clients and
#                           the package's tests (lintian, systemd-analyze, what it depends on) need
set -euo pipefail

build_packages=(build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev libfmt-dev libspdlog-dev libtomlplusplus-dev libcli11-dev
  libboost-json1.81-dev libsqlite3-dev libhiredis-dev)
package_packages=(dpkg-dev file)
test_packages=(lintian systemd adduser procps
  libgtest-dev libgmock-dev libbenchmark-dev clang-14 libclang-rt-14-dev
  openssl python3 python3-stomp chromium redis-server redis-sentinel prometheus nginx haproxy)

mode="${1:-build}"
wanted=("${build_packages[@]}")
[[ "$mode" == "package" || "$mode" == "test" ]] && wanted+=("${package_packages[@]}")
if [[ "$mode" == "test" ]]; then
  wanted+=("${test_packages[@]}")
  # Node (with npm) runs the interop clients; any Node >= 18 does, so keep one already installed.
  command -v node >/dev/null && command -v npm >/dev/null || wanted+=(nodejs npm)
fi

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
