#!/bin/sh
# output_paths.sh — CLI contract: every output path (convert -o OUTDIR,
# simulate --output-spikes, simulate OUTDIR --output, run --output) is
# checked before any work (refused before the matching step
# begins), with a message naming the path as typed, and nothing is left.
# Exit 2 when the file system refuses the path (a directory missing, not a
# directory, not writable; a file output that is a directory), as for an
# input file that cannot be read; exit 1 for a path wrong whatever the file
# system holds ("", ".", "..", "/", a name too long for its temporary, a file
# output ending in '/') and for an existing OUTDIR without --force.  A
# trailing '/' on OUTDIR is accepted.
# Unwritable directories: root passes every permission check, so that case
# runs as user nobody (setpriv) when the test runs as root, and is skipped
# when neither is possible.
. "$(dirname "$0")/lib.sh"
contract_init output_paths "$@"
EX=$(cd "$EX" && pwd)
M=$EX/elman_h128/model.onnx
IN=$EX/elman_h128/input.npy
$PY -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])[:16])" \
    "$EX/elman_h128/calib.npy" "$T/c16.npy" || exit 1

# refused CASE EXIT PATH_AS_TYPED TEXT -- ARGS...: exit EXIT, before the
# matching step, the message naming the path and saying TEXT.
refused() {
    c=$1 x=$2 p=$3 text=$4
    shift 5
    run_snnc "$@"
    expect_exit "$x" "$c"
    expect_said "$c" "'$p'" "$text"
    expect_before_work "$c"
    grep -q "tmp-" "$T/err" && contract_fail "$c: the message names a temporary: $(tail -1 "$T/err")"
}

# ---- a trailing '/' on OUTDIR (and a relative OUTDIR with no directory part)
(cd "$T" && exec "$SNNC" convert "$M" --target truenorth --calib "$T/c16.npy" -o a//) \
    >"$T/out" 2>"$T/err" </dev/null
RC=$?
expect_exit 0 "convert -o a//"
CHECKS=$((CHECKS + 2))
[ -f "$T/a/report.json" ] && [ -f "$T/a/truenorth/model.json" ] ||
    contract_fail "convert -o a//: no a/report.json, a/truenorth/model.json"
[ -e "$T/a/.snnc-temporary" ] && contract_fail "convert -o a//: the temporary's marker was left in OUTDIR"
CHECKS=$((CHECKS + 1))
ls -d "$T"/a.tmp-* "$T"/a/.tmp* >/dev/null 2>&1 && contract_fail "convert -o a//: a temporary left"

# ---- convert -o: refused before the pipeline
echo text >"$T/file"
mkdir "$T/dir"
long=$(printf '%0240d' 0)
C="--target truenorth --calib $T/c16.npy"
refused "convert missing parent" 2 "$T/no/such/o" "directory '$T/no/such': No such file" -- \
    convert "$M" $C -o "$T/no/such/o"
expect_absent "convert missing parent" "$T/no"
refused "convert under a file" 2 "$T/file/o" "directory '$T/file': Not a directory" -- convert "$M" $C -o "$T/file/o"
refused "convert under a file, trailing /" 2 "$T/file/o/" "Not a directory" -- \
    convert "$M" $C -o "$T/file/o/"
refused "convert onto a file" 1 "$T/file/" "exists (use --force" -- convert "$M" $C -o "$T/file/"
refused "convert onto a directory" 1 "$T/dir" "exists (use --force" -- convert "$M" $C -o "$T/dir"
refused "convert --force -o ." 1 "$T/dir/." "not a name for a new directory" -- \
    convert "$M" $C --force -o "$T/dir/."
refused "convert --force -o .." 1 "$T/dir/.." "not a name for a new directory" -- \
    convert "$M" $C --force -o "$T/dir/.."
refused "convert --force -o /" 1 "/" "not a name for a new directory" -- convert "$M" $C --force -o /
refused "convert a 240-byte name" 1 "$T/$long" "a name longer than" -- convert "$M" $C -o "$T/$long"
expect_absent "convert a 240-byte name" "$T/$long"
run_snnc convert "$M" $C -o ""
expect_exit 1 "convert -o ''"
expect_said "convert -o ''" "-o"
CHECKS=$((CHECKS + 2))
[ "$(cat "$T/file")" = text ] || contract_fail "convert: $T/file changed"
[ -z "$(ls -A "$T/dir")" ] || contract_fail "convert: $T/dir changed"

# ---- simulate MODEL.json --output-spikes
TN=$T/a/truenorth/model.json
for k in "missing parent:$T/no/s.csv:No such file" "under a file:$T/file/s.csv:Not a directory" \
    "a directory:$T/dir:is a directory" "trailing /:$T/s.csv/:names a directory" \
    "a 240-byte name:$T/$long:a name longer than"; do
    p=${k#*:} && p=${p%%:*}
    case $k in trailing* | *240-byte*) x=1 ;; *) x=2 ;; esac # (see the top)
    refused "simulate --output-spikes ${k%%:*}" "$x" "$p" "${k##*:}" -- \
        simulate "$TN" --ticks 100000000 --output-spikes "$p"
    expect_absent "simulate --output-spikes ${k%%:*}" "$T/s.csv" "$T/no"
done

# ---- simulate OUTDIR --output
for k in "missing parent:$T/no/y.npy:No such file" "under a file:$T/file/y.npy:Not a directory" \
    "a directory:$T/dir:is a directory" "trailing /:$T/y.npy/:names a directory"; do
    p=${k#*:} && p=${p%%:*}
    case $k in trailing* | *240-byte*) x=1 ;; *) x=2 ;; esac # (see the top)
    refused "simulate OUTDIR --output ${k%%:*}" "$x" "$p" "${k##*:}" -- \
        simulate "$T/a" --input "$IN" --output "$p"
    expect_absent "simulate OUTDIR --output ${k%%:*}" "$T/y.npy" "$T/no"
done

# ---- run --output: a bad second output refuses the whole command first.
for k in "missing parent:$T/no/y.npy:No such file" "under a file:$T/file/y.npy:Not a directory" \
    "a directory:$T/dir:is a directory" "trailing /:$T/y.npy/:names a directory"; do
    p=${k#*:} && p=${p%%:*}
    case $k in trailing* | *240-byte*) x=1 ;; *) x=2 ;; esac # (see the top)
    refused "run --output ${k%%:*}" "$x" "$p" "${k##*:}" -- \
        run "$M" --input "$IN" --output "output=$T/first.npy" --output "output=$p"
    expect_absent "run --output ${k%%:*}" "$T/first.npy" "$T/y.npy" "$T/no"
done

# ---- an unwritable directory (as user nobody when root)
mkdir "$T/ro" && chmod 555 "$T/ro"
AS=
if [ "$(id -u)" -eq 0 ]; then
    AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
    chmod 711 "$T"
    $AS true 2>/dev/null || AS=skip
fi
if [ "$AS" = skip ]; then
    echo "output_paths: skipped the unwritable-directory cases (root without setpriv)" >&2
else
    SNNC_REAL=$SNNC
    SNNC=$T/as-user
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$AS" "$SNNC_REAL" >"$SNNC" && chmod 755 "$SNNC"
    refused "convert unwritable parent" 2 "$T/ro/o" "directory '$T/ro' is not writable" -- \
        convert "$M" $C -o "$T/ro/o"
    refused "simulate --output-spikes unwritable parent" 2 "$T/ro/s.csv" "is not writable" -- \
        simulate "$TN" --ticks 10 --output-spikes "$T/ro/s.csv"
    refused "run --output unwritable parent" 2 "$T/ro/y.npy" "is not writable" -- \
        run "$M" --input "$IN" --output "$T/ro/y.npy"
    SNNC=$SNNC_REAL
    CHECKS=$((CHECKS + 1))
    [ -z "$(ls -A "$T/ro")" ] || contract_fail "unwritable parent: $T/ro changed"
fi
chmod 700 "$T/ro"

contract_done
