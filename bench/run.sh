#!/bin/sh
# run.sh — build the benchmarks in a release build directory and run
# bench_eval (LSTM import/evaluation throughput against the BLAS peak).
# usage: bench/run.sh [bench_eval options...]   (e.g. --hidden 512 --seq 50)
# Environment: BUILD_DIR (default build-bench); OPENBLAS_* variables are
# passed through unchanged.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build-bench}
cd "$root"
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=release
fi
ninja -C "$build" bench/bench_eval >/dev/null
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -m), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
exec "$build/bench/bench_eval" "$@"
