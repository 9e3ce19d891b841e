#!/bin/sh
# needs: python3-onnx (only for the structured seeds; run by hand, not by the tests)
# run_fuzz.sh — build and run a libFuzzer target of snnc for a given time.
#
#   tests/fuzz/run_fuzz.sh load|npy|tn SECONDS [libFuzzer options...]
#
# SECONDS=0 only builds the target and prints its path; libFuzzer options
# go through (e.g. -fork=0 to stop at the first finding).  To re-run a
# finding: BUILD/fuzz_TARGET FILE.
# The library is built by meson in a separate directory (default build-fuzz,
# or $SNNC_FUZZ_BUILD) with CC=clang, ASan+UBSan and coverage for libFuzzer
# (-fsanitize=fuzzer-no-link); the target (fuzz_load.c / fuzz_npy.c) is then
# linked against that libsnnc.a with -fsanitize=fuzzer.  The corpus lives in
# BUILD/fuzz/TARGET/corpus (seeded once from the examples, the ONNX node
# tests and tests/malformed; for load also BUILD/fuzz/load/graph-seeds from
# make_graph_seeds.py; for npy tests/fuzz/seeds/npy from make_npy_seeds.py;
# for tn (fuzz_tn.c: TrueNorth model reader and spike parser) the model
# files of tests/unit/data/truenorth (copies of ../shared/data/truenorth-cpe
# among them), each also followed by spikes, and tests/fuzz/seeds/tn);
# crashes, leaks and timeouts land in BUILD/fuzz/TARGET/artifacts.
# Exit status: 0 when artifacts/ is empty at the end, 3 when it holds findings.
set -eu

usage() { echo "usage: $0 load|npy|tn SECONDS [libFuzzer options...]" >&2; exit 1; }
[ $# -ge 2 ] || usage
target=$1 seconds=$2
shift 2
case $target in load | npy | tn) ;; *) usage ;; esac

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SNNC_FUZZ_BUILD:-$root/build-fuzz}
testdata=${SNNC_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data/node}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

# --- build: libsnnc.a (meson, instrumented), then the fuzz target (clang) ---
if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" "$root" -Dtests=false -Dbuildtype=debugoptimized \
        -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
        >"$build.setup.log" 2>&1 || { cat "$build.setup.log" >&2; exit 2; }
fi
ninja -C "$build" libsnnc.a libonnx_pb.a >/dev/null || { ninja -C "$build" libsnnc.a libonnx_pb.a; exit 2; }
exe=$build/fuzz_$target
# shellcheck disable=SC2046,SC2086
clang -std=c17 -g -O1 -fsanitize=fuzzer $san -I"$root/include" -I"$root" -I"$build" \
    "$root/tests/fuzz/fuzz_$target.c" "$build/libsnnc.a" "$build/libonnx_pb.a" \
    $(pkg-config --libs libprotobuf-c jansson) $(pkg-config --libs openblas 2>/dev/null || echo -lcblas) \
    -lm -lpthread -o "$exe"

if [ "$seconds" = 0 ]; then
    echo "$exe"
    exit 0 # SECONDS=0: build only
fi

# --- seed corpus (first run only; the corpus then grows) ---
work=$build/fuzz/$target
mkdir -p "$work/corpus" "$work/artifacts"
if [ -z "$(ls -A "$work/corpus")" ]; then
    i=0
    if [ "$target" = load ]; then
        [ -d "$testdata" ] || echo "run_fuzz.sh: no ONNX node tests in $testdata" \
            "(libonnx-testdata): seeding without them" >&2
        for f in "$root"/examples/*/model.onnx "$testdata"/*/model.onnx \
            "$root"/tests/malformed/cases/*.onnx; do
            [ -f "$f" ] && cp "$f" "$work/corpus/seed_$i" && i=$((i + 1))
        done
    elif [ "$target" = tn ]; then
        for f in "$root"/tests/unit/data/truenorth/*.json "$root"/tests/fuzz/seeds/tn/*; do
            [ -f "$f" ] || continue
            cp "$f" "$work/corpus/seed_$i" && i=$((i + 1))
            case $f in *.json) # the model followed by spikes (fuzz_tn.c splits at %%spikes)
                { cat "$f"; printf '\n%%%%spikes\n0,0,1\n1,0,2\n1,0,2\n9,0,0\n'; } >"$work/corpus/seed_$i"
                i=$((i + 1)) ;;
            esac
        done
    else
        # (seeds above 256 KiB, e.g. examples/fashion28's 3 MB input.npy, are
        # left out: libFuzzer's max_len follows the largest seed)
        for f in "$root"/examples/*/*.npy "$root"/tests/malformed/cases/*.npy \
            "$root"/tests/fuzz/seeds/npy/*.npy; do
            [ -f "$f" ] && [ "$(wc -c <"$f")" -le 262144 ] &&
                cp "$f" "$work/corpus/seed_$i" && i=$((i + 1))
        done
    fi
    echo "run_fuzz.sh: seeded $work/corpus with $i files" >&2
fi

# Structured seeds: random single-operator models (make_graph_seeds.py), a
# second corpus directory libFuzzer reads but does not write.
# Without them (no python3-onnx) fuzzing goes on from the corpus alone.
extra=""
if [ "$target" = load ] && [ ! -d "$work/graph-seeds" ]; then
    if ! /usr/bin/python3 -c "import onnx.helper" 2>/dev/null; then
        echo "run_fuzz.sh: no structured seed corpus: make_graph_seeds.py needs python3-onnx" \
            "(apt-get install python3-onnx); fuzzing from $work/corpus alone" >&2
    elif /usr/bin/python3 "$root/tests/fuzz/make_graph_seeds.py" "$work/graph-seeds.tmp" 3000 1; then
        mv "$work/graph-seeds.tmp" "$work/graph-seeds"
    else
        echo "run_fuzz.sh: make_graph_seeds.py failed: no structured seed corpus;" \
            "fuzzing from $work/corpus alone" >&2
    fi
fi
[ "$target" = load ] && [ -d "$work/graph-seeds" ] && extra=$work/graph-seeds

# --- run ---
# Allocations over 2 GiB fail (return NULL) instead of aborting: the library
# must handle that, and fuzzing goes on past models that ask for 8 GiB.
export ASAN_OPTIONS="${ASAN_OPTIONS:-allocator_may_return_null=1:max_allocation_size_mb=2048}"
cd "$work"
# Fork mode: a finding is saved and fuzzing goes on for the whole time
# (options given on the command line come later and win).
# shellcheck disable=SC2086
"$exe" "$work/corpus" $extra -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$@"
if [ -n "$(ls -A "$work/artifacts")" ]; then
    echo "run_fuzz.sh: findings in $work/artifacts:" >&2
    ls -l "$work/artifacts" >&2
    exit 3
fi
