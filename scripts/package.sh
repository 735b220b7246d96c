#!/usr/bin/env bash
# Builds the Debian package: stompbox_<version>_amd64.deb (CPack's DEB generator, see
# cmake/packaging.cmake), from a Release build of the stompbox binary alone in build-package/,
# and prints the .deb's path on its last line. Installs what is missing first (scripts/deps.sh
# package). Then, as root: apt install ./build-package/stompbox_<version>_amd64.deb
#   BUILD_DIR=build-package   where to build
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build-package}"
scripts/deps.sh package >&2

# Debian's hardening flags (what dpkg-buildpackage would pass: stack protector, fortify, full
# RELRO, bind now), without its -g and -O2: the binary is stripped, and Release sets -O3.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
cxxflags="$(sed -E 's/(^| )(-g|-O2)( |$)/ /g' <<<"$cxxflags")"

# Tests, benchmarks and examples off: the package holds the binary and a few text files.
# STOMPBOX_PACKAGE_TESTS registers the tests of the .deb (ctest -L package) in this build dir.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DSTOMPBOX_BUILD_TESTS=OFF -DSTOMPBOX_BUILD_BENCH=OFF -DSTOMPBOX_BUILD_EXAMPLES=OFF \
  -DSTOMPBOX_PACKAGE_TESTS=ON -DCMAKE_CXX_FLAGS="$cxxflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" >&2
cmake --build "$build_dir" -j "$(nproc)" --target stompbox stompbox_deb_files >&2
(cd "$build_dir" && cpack -G DEB >&2)
deb="$build_dir/$(cat "$build_dir/deb-file-name")"  # written by cmake/packaging.cmake
test -f "$deb"
echo "$PWD/$deb"
