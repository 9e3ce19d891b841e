#!/bin/bash
# run_malformed.sh — runs `snnc` on every malformed-input case of cases/
# (written by make_cases.py; fuzz-* files are crash inputs found by
# tests/fuzz) and checks that each one is refused cleanly.
#
#   tests/malformed/run_malformed.sh SNNC [CASES_DIR]
#
# For each row of the table below: the exit status is the expected one (2
# invalid/unsupported, 1 usage, 0 for edge cases that must work), snnc was
# not killed by a signal and did not hang (TIMEOUT seconds), every expected
# fragment appears in stderr (stdout when the expected status is 0), no
# sanitizer reported anything, and a failing run left no file in its
# output directory.  Memory: sanitized builds (detected with ldd) refuse
# any single allocation over 2 GiB (ASan max_allocation_size_mb), plain
# builds run under `ulimit -v`, so a size that is not checked before
# allocating shows up as a failure in either build.
set -u

snnc=${1:?usage: run_malformed.sh SNNC [CASES_DIR]}
cases=${2:-$(cd "$(dirname "$0")" && pwd)/cases}
TIMEOUT=${SNNC_MAL_TIMEOUT:-30}
snnc=$(cd "$(dirname "$snnc")" && pwd)/$(basename "$snnc")

sanitized=0
if ldd "$snnc" 2>/dev/null | grep -Eq 'lib(asan|ubsan)' || nm "$snnc" 2>/dev/null | grep -q __asan_init; then
    sanitized=1
fi
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:max_allocation_size_mb=2048:allocator_may_return_null=0:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=87:print_stacktrace=1"
export OPENBLAS_NUM_THREADS=1

# name | exit | expected fragments (';'-separated) | arguments (@C@ = cases dir, @T@ = empty output dir)
# An exit field "N xfail" marks a known, reported bug: its failure is listed
# as XFAIL and does not fail the test; once fixed it shows as XPASS (then
# drop the marker).
read -r -d '' TABLE <<'EOF'
empty              |2| empty.onnx;empty file                          | inspect @C@/empty.onnx
empty-run          |2| empty.onnx;empty file                          | run @C@/empty.onnx --input @C@/x_ok.npy --output @T@/y.npy
random-bytes       |2| random.onnx;not an ONNX model                  | inspect @C@/random.onnx
text-as-model      |2| text.onnx;not an ONNX model                    | run @C@/text.onnx --input @C@/x_ok.npy --output @T@/y.npy
truncated-model    |2| truncated.onnx;truncated or corrupt           | inspect @C@/truncated.onnx
missing-model      |2| missing.onnx;No such file                      | inspect @C@/missing.onnx
missing-model-run  |2| missing.onnx;No such file                      | run @C@/missing.onnx --input @C@/x_ok.npy --output @T@/y.npy
model-is-dir       |2| cases;Is a directory                           | inspect @C@
undefined-input    |2| undefined_input.onnx;add_ghost;'ghost';no node | inspect @C@/undefined_input.onnx
cycle              |2| cycle.onnx;cycle;cyc_a                         | inspect @C@/cycle.onnx
cycle-run          |2| cycle.onnx;cycle;cyc_a                         | run @C@/cycle.onnx --input @C@/x_ok.npy --output @T@/y.npy
unsupported-op     |2| unsupported_op.onnx;ein0;Einsum;not supported  | run @C@/unsupported_op.onnx --input @C@/x_ok.npy --output @T@/y.npy
unknown-domain     |2| unknown_domain.onnx;frob0;com.example          | run @C@/unknown_domain.onnx --input @C@/x_ok.npy --output @T@/y.npy
output-is-input    |2| output_redefines_input.onnx;relu_self;'x'      | inspect @C@/output_redefines_input.onnx
too-few-inputs     |2| missing_required_input.onnx;add_one;inputs     | inspect @C@/missing_required_input.onnx
output-never-made  |2| output_never_computed.onnx;'z';never computed  | inspect @C@/output_never_computed.onnx
init-no-data       |2| init_no_data.onnx;'W';6 elements               | inspect @C@/init_no_data.onnx
init-short-raw     |2| init_short_raw.onnx;'W';raw_data;24 bytes      | run @C@/init_short_raw.onnx --input @C@/x_ok.npy --output @T@/y.npy
init-dims-overflow |2| init_dims_overflow.onnx;'W';exceed             | inspect @C@/init_dims_overflow.onnx
init-dims-huge     |2| init_dims_huge.onnx;'W';[2147483648,16];exceed | inspect @C@/init_dims_huge.onnx
init-4gib-no-data  |2| init_dims_4gib_no_data.onnx;'W';1073741824 elements;holds 0 | inspect @C@/init_dims_4gib_no_data.onnx
init-dims-negative |2| init_dims_negative.onnx;'W';negative          | inspect @C@/init_dims_negative.onnx
init-external      |2| init_external.onnx;'W';external data           | inspect @C@/init_external.onnx
init-float16       |2| init_float16.onnx;'W';float16;not supported    | inspect @C@/init_float16.onnx
input-dims-overflow|2| input_dims_overflow.onnx;value 'x';exceeds       | run @C@/input_dims_overflow.onnx --input @C@/x_ok.npy --output @T@/y.npy
opset-6            |2| opset_6.onnx;opset 6;7 to 18                   | inspect @C@/opset_6.onnx
opset-19           |2| opset_19.onnx;opset 19;7 to 18                 | run @C@/opset_19.onnx --input @C@/x_ok.npy --output @T@/y.npy
opset-none         |2| opset_none.onnx;no opset                       | inspect @C@/opset_none.onnx
npy-wrong-shape    |2| relu.onnx;input 'x';[3,2];[2,3]                | run @C@/relu.onnx --input @C@/x_wrong_shape.npy --output @T@/y.npy
npy-wrong-rank     |2| relu.onnx;input 'x';[6];[2,3]                  | run @C@/relu.onnx --input x=@C@/x_wrong_rank.npy --output @T@/y.npy
npy-wrong-dtype    |2| relu.onnx;input 'x';bool;float32               | run @C@/relu.onnx --input @C@/x_bool.npy --output @T@/y.npy
npy-not-npy        |2| x_text.npy;not a .npy                          | run @C@/relu.onnx --input @C@/x_text.npy --output @T@/y.npy
npy-truncated      |2| x_truncated.npy;truncated                      | run @C@/relu.onnx --input @C@/x_truncated.npy --output @T@/y.npy
npy-header-only    |2| x_header_only.npy;truncated header             | run @C@/relu.onnx --input @C@/x_header_only.npy --output @T@/y.npy
npy-huge-shape     |2| x_huge_shape.npy;[1099511627776,1099511627776] | run @C@/relu.onnx --input @C@/x_huge_shape.npy --output @T@/y.npy
npy-missing        |2| x_missing.npy;No such file                     | run @C@/relu.onnx --input @C@/x_missing.npy --output @T@/y.npy
reshape-runtime    |2| reshape_runtime.onnx;reshape_bad;[2,3];[4,4]   | run @C@/reshape_runtime.onnx --input x=@C@/x_ok.npy --input shape=@C@/shape_4x4.npy --output @T@/y.npy
output-no-dir      |2| @T@/nodir/y.npy;No such file                   | run @C@/relu.onnx --input @C@/x_ok.npy --output @T@/nodir/y.npy
output-no-dir-2nd  |2| @T@/nodir/y.npy;No such file                   | run @C@/relu.onnx --input @C@/x_ok.npy --output y=@T@/first.npy --output y=@T@/nodir/y.npy
output-is-dir      |2| @T@;directory                                  | run @C@/relu.onnx --input @C@/x_ok.npy --output @T@
usage-no-model     |1| no MODEL                                       | run --input @C@/x_ok.npy
usage-bad-option   |1| --bogus                                        | run @C@/relu.onnx --input @C@/x_ok.npy --bogus
usage-bad-input    |1| relu.onnx;no input named 'nope'                | run @C@/relu.onnx --input nope=@C@/x_ok.npy --output @T@/y.npy
usage-bad-output   |1| relu.onnx;no tensor named 'zz'                 | run @C@/relu.onnx --input @C@/x_ok.npy --output y=@T@/a.npy --output zz=@T@/b.npy
usage-no-input     |1| relu.onnx;no data given;'x'                    | run @C@/relu.onnx --output @T@/y.npy
usage-dangling     |1| --output needs                                 | run @C@/relu.onnx --input @C@/x_ok.npy --output
const-fold-inspect |0| const_fold.onnx                                | inspect @C@/const_fold.onnx
const-fold-run     |0| c int64 [1]: 2                                 | run @C@/const_fold.onnx
relu-ok            |0| y float32 [2,3]                                | run @C@/relu.onnx --input @C@/x_ok.npy --output @T@/y.npy
matmul-empty-batch |0| outputs                                        | inspect @C@/matmul_empty_batch.onnx
matmul-empty-run   |0| y float32 [0,4,3]                              | run @C@/matmul_empty_batch_input.onnx --input @C@/x_empty_batch.npy
rnn-hidden-huge    |2| rnn_hidden_huge.onnx;rnn_huge;hidden_size      | inspect @C@/rnn_hidden_huge.onnx
split-unnamed-out  |0| a float32 [1,2]: 0 1;c float32 [1,2]: 4 5     | run @C@/split_unnamed_output.onnx --input @C@/x_3x2.npy
const-unnamed-out  |0| y float32 [2,3]                                | run @C@/constant_unnamed_output.onnx --input @C@/x_ok.npy
no-outputs-run     |1| fuzz-equal-unnamed-output.onnx;output 0 has no name | run @C@/fuzz-equal-unnamed-output.onnx --output @T@/y.npy
concat-declared    |2| concat_declared_huge.onnx;value 'z';exceeds    | inspect @C@/concat_declared_huge.onnx
empty-huge-bcast   |2      | x_empty_huge.npy;4611686018427387904       | run @C@/add_sym.onnx --input @C@/x_empty_huge.npy --output @T@/y.npy
init-empty-huge    |2      | init_empty_huge.onnx;'W';1099511627776      | inspect @C@/init_empty_huge.onnx
empty-huge-dims    |2      | x_empty_huge.npy;4611686018427387904       | run @C@/transpose_sym.onnx --input @C@/x_empty_huge.npy --output @T@/y.npy
constofshape-8gib  |2      | constantofshape_8gib.onnx;cos_big          | run @C@/constantofshape_8gib.onnx --output @T@/y.npy
tile-8gib          |2      | tile_8gib.onnx;tile_big                    | run @C@/tile_8gib.onnx --input @C@/x_one.npy --output @T@/y.npy
EOF

work=$(mktemp -d "${TMPDIR:-/tmp}/snnc-malformed.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0 xfails=0

check_case() { # name want_rc fragments args
    local name=$1 want=$2 frags=$3 argline=$4 xfail=0
    case $want in *xfail) xfail=1 want=${want%xfail} ;; esac
    local out=$work/$name
    mkdir -p "$out/o"
    argline=${argline//@C@/$cases}
    argline=${argline//@T@/$out/o}
    frags=${frags//@C@/$cases}
    frags=${frags//@T@/$out/o}
    local -a args
    read -r -a args <<<"$argline"
    local rc
    (
        [ $sanitized = 1 ] || ulimit -v 4000000
        exec timeout -k 5 "$TIMEOUT" "$snnc" "${args[@]}"
    ) >"$out/stdout" 2>"$out/stderr"
    rc=$?
    local why=""
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        why="timed out after ${TIMEOUT}s"
    elif [ $rc -gt 128 ]; then
        why="killed by signal $((rc - 128))"
    elif grep -Eq 'Sanitizer|runtime error:' "$out/stderr"; then
        why="sanitizer report (exit $rc)"
    elif [ "$rc" != "$want" ]; then
        why="exit status $rc, expected $want"
    else
        local where=$out/stderr f
        [ "$want" = 0 ] && where=$out/stdout
        IFS=';' read -r -a fl <<<"$frags"
        for f in "${fl[@]}"; do
            f=$(echo "$f" | sed 's/^ *//; s/ *$//')
            [ -z "$f" ] && continue
            grep -qF -- "$f" "$where" || why="${why:+$why; }message lacks '$f'"
        done
        if [ "$want" != 0 ] && [ -n "$(ls -A "$out/o")" ]; then
            why="${why:+$why; }left files behind: $(ls -A "$out/o" | tr '\n' ' ')"
        fi
    fi
    if [ -n "$why" ] && [ $xfail = 1 ]; then
        xfails=$((xfails + 1))
        echo "XFAIL $name (known bug): $why"
    elif [ -n "$why" ]; then
        fail=$((fail + 1))
        echo "FAIL $name: $why"
        echo "     snnc ${args[*]}"
        sed 's/^/     | /' "$out/stderr" | head -40
    elif [ $xfail = 1 ]; then
        pass=$((pass + 1))
        echo "XPASS $name: passes here; drop its xfail marker once it passes in every build"
    else
        pass=$((pass + 1))
        echo "ok   $name: $(head -c 200 "$out/stderr" | head -1)"
    fi
}

while IFS='|' read -r name want frags argline; do
    name=$(echo "$name" | tr -d ' ')
    [ -z "$name" ] && continue
    check_case "$name" "$(echo "$want" | tr -d ' ')" "$frags" "$argline"
done <<<"$TABLE"

# Crash inputs found by the fuzzers: each must be refused or accepted without
# a crash, a sanitizer report or a hang, both by inspect and by run.
for f in "$cases"/fuzz-*.onnx; do
    [ -f "$f" ] || continue
    b=$(basename "$f" .onnx)
    check_fuzz() {
        local name=$1
        shift
        local out=$work/$name rc
        mkdir -p "$out/o"
        ( [ $sanitized = 1 ] || ulimit -v 4000000; exec timeout -k 5 "$TIMEOUT" "$snnc" "$@" ) \
            >"$out/stdout" 2>"$out/stderr"
        rc=$?
        if [ $rc -gt 2 ] || grep -Eq 'Sanitizer|runtime error:' "$out/stderr" ||
            { [ $rc != 0 ] && ! grep -qF "$(basename "$f")" "$out/stderr" && ! grep -q "^snnc [a-z]*: " "$out/stderr"; }; then
            fail=$((fail + 1))
            echo "FAIL $name: exit $rc"
            sed 's/^/     | /' "$out/stderr" | head -40
        else
            pass=$((pass + 1))
            echo "ok   $name (exit $rc): $(head -1 "$out/stderr")"
        fi
    }
    check_fuzz "$b-inspect" inspect "$f"
    check_fuzz "$b-run" run "$f" --output "$work/$b-run/o/y.npy"
done
for f in "$cases"/fuzz-*.npy; do
    [ -f "$f" ] || continue
    b=$(basename "$f" .npy)
    check_case "$b" 2 "$(basename "$f")" "run @C@/relu.onnx --input $f --output @T@/y.npy"
done

echo "malformed inputs: $pass passed, $fail failed, $xfails known bugs (snnc: $snnc, sanitized: $sanitized)"
[ $fail = 0 ]
