#!/bin/sh
# setup.sh — installs the Debian packages snnc builds and tests with, then
# configures and builds it in ./build.  Safe to run again.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="meson ninja-build pkg-config gcc clang libclang-rt-14-dev \
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata \
  libopenblas-dev libgsl-dev libcunit1-dev libjansson-dev nettle-dev \
  python3 python3-numpy"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages:$missing" >&2
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing >&2
fi

[ -d build ] || meson setup build >&2
ninja -C build >&2
