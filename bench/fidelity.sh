#!/bin/sh
# fidelity.sh — issue 9's accuracy budgets on every float-trained network
# (too long for the test command: the 28-step networks convert in 1-4 min
# each and simulate OUTDIR converts them again).  Builds a release build
# directory, then for each network runs tests/convert/budget.sh (convert with
# the calibration batch and default options, simulate OUTDIR on the test
# samples) and prints its line: float, constrained, ideal, TrueNorth, points
# lost against the budget, cores, wall time.  Exit status: the number of
# budgets missed (hard errors count too).  The cheapest of them,
# fashion28/dense48_elman16, is also a test (tests/meson.build).
# usage: bench/fidelity.sh   Environment: BUILD_DIR (default build-bench).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build-bench}
cd "$root" || exit 1
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=release >/dev/null || exit 1
fi
ninja -C "$build" snnc >/dev/null || exit 1
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(git rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
ex=examples f28=examples/fashion28 missed=0
# example, budget in points, data folder
for row in "$ex/elman_tn64 2 $ex/elman_tn64" "$ex/elman_h128 3 $ex/elman_h128" \
           "$ex/elman_tanh 3 $ex/elman_tanh" "$f28/dense48_elman16 5 $f28" \
           "$f28/elman128_relu 3 $f28" "$f28/elman64_tanh 3 $f28"; do
    set -- $row
    t0=$(date +%s)
    line=$(sh tests/convert/budget.sh "$build/snnc" "$1" "$2" "$3" 2>&1)
    rc=$?
    echo "$line ($(($(date +%s) - t0)) s wall)"
    [ $rc -eq 0 ] || missed=$((missed + 1))
done
exit $missed
