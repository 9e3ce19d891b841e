#!/bin/sh
# nonregular.sh — CLI contract: files that are not plain files.  Every input
# (ONNX model, --input/--calib tensors .npy and .pb, TrueNorth model.json,
# --spikes CSV) given through a FIFO with a writer, /dev/stdin fed by a pipe,
# a symbolic link (and a chain of them) gives the same result as the plain
# file (same output bytes); a directory, /dev/null and /dev/zero fail at
# once with exit 2 naming the path.  Outputs (run --output, simulate
# --output-spikes, simulate OUTDIR --output, convert -o) to /dev/null,
# /dev/stdout, a FIFO with a reader are written in place (the node stays what
# it was); through a symbolic link the file it leads to gets the content and
# the link stays a link; a dangling or looping link, a directory, a socket
# are refused naming the path.  Rules: README "Output files".
. "$(dirname "$0")/lib.sh"
contract_init nonregular "$@"
TIMEOUT=${SNNC_CONTRACT_TIMEOUT:-60}
EX=$(cd "$EX" && pwd) || exit 1
R=$EX/elman_tanh                       # run: a small model
N=$EX/elman_tn64                       # convert, simulate OUTDIR
M=$(cd "$(dirname "$0")/../unit/data/truenorth" && pwd)/multi_core.json   # simulate MODEL.json
cd "$T" || exit 1
# Run as root, a binary that renamed over its outputs again would replace
# /dev/null and /dev/stdout for the whole machine: root tests a character
# device of its own (the same device, 1:3) and /proc/self/fd/1, where nothing
# can be created, instead.
DEVNULL=/dev/null STDOUT=/dev/stdout
if [ "$(id -u)" = 0 ]; then
    DEVNULL= STDOUT=/proc/self/fd/1
    mknod devnull c 1 3 2>/dev/null && : >devnull 2>/dev/null && DEVNULL=$T/devnull
    [ -n "$DEVNULL" ] || echo "contract nonregular: root without mknod: no character device output cases" >&2
fi

# ------------------------------------------------------------- references
# Inputs derived from the examples: 16 samples (fast), the same values as a
# TensorProto .pb written here from the TensorProto schema (dims = field 1,
# data_type = field 2 (1: FLOAT), raw_data = field 9), and a spike list.
"$PY" - "$R/input.npy" "$N/input.npy" "$N/calib.npy" <<'EOF' || exit 1
import struct, sys
import numpy as np
def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out
x = np.load(sys.argv[1])
np.save("x.npy", x)
raw = np.ascontiguousarray(x, dtype="<f4").tobytes()
pb = b"".join(b"\x08" + varint(d) for d in x.shape) + b"\x10\x01" + b"\x4a" + varint(len(raw)) + raw
open("x.pb", "wb").write(pb)
np.save("n16.npy", np.load(sys.argv[2])[:16])
np.save("c16.npy", np.load(sys.argv[3])[:16])
with open("sp.csv", "w") as f:
    for t in range(6):
        for a in range(21):
            for core in (0, 7, 12):
                f.write("%d,%d,%d\n" % (t, core, a))
EOF
cp "$R/model.onnx" m.onnx
cp "$M" tn.json
mkdir dir
run_snnc run m.onnx --input x.npy --output ref.npy
expect_exit 0 "reference run" || exit 1
run_snnc run m.onnx --input x.pb --output ref_pb.npy
expect_exit 0 "reference run, .pb input"
same() { # CASE FILE REF: FILE holds the bytes of REF
    CHECKS=$((CHECKS + 1))
    cmp -s "$2" "$3" || contract_fail "$1: $2 differs from $3"
}
same ".pb and .npy of the same values give the same output" ref_pb.npy ref.npy
run_snnc simulate tn.json --ticks 20 --spikes sp.csv --output-spikes ref.csv
expect_exit 0 "reference simulate" || exit 1
CHECKS=$((CHECKS + 1))
[ -s ref.csv ] || contract_fail "reference simulate: no spikes fired (the cases would prove nothing)"
run_snnc simulate tn.json --ticks 20 --output-spikes ref_nospk.csv
expect_exit 0 "reference simulate without input spikes"

# A FIFO fed by a writer in the background, once (the writer gives up after
# $TIMEOUT s if snnc never opens it; those left are ended at the end).
BG=
fifo_from() { # NAME FILE
    rm -f "$1" && mkfifo "$1" && { timeout "$TIMEOUT" cat "$2" >"$1" 2>/dev/null & BG="$BG $!"; }
}
# A FIFO drained by a reader into FILE in the background; fifo_wait waits for it.
fifo_to() { # NAME FILE
    rm -f "$1" && mkfifo "$1" && { timeout "$TIMEOUT" cat "$1" >"$2" 2>/dev/null & READER=$!; }
}
fifo_wait() { wait "$READER" 2>/dev/null; }
no_temp() { # CASE PATH...: no PATH.tmp-* beside PATH
    c=$1
    shift
    for p in "$@"; do
        CHECKS=$((CHECKS + 1))
        ls -d "$p".tmp-* >/dev/null 2>&1 && contract_fail "$c: temporary $(ls -d "$p".tmp-* | head -1) left"
    done
    return 0
}
is_fifo() { # CASE PATH
    CHECKS=$((CHECKS + 1))
    [ -p "$2" ] || contract_fail "$1: $2 is no longer a FIFO"
}

# ------------------------------------------------------------------ inputs
# run: the model and --input through a FIFO, /dev/stdin, links.
fifo_from mf m.onnx
run_snnc run mf --input x.npy --output o.npy
expect_exit 0 "model through a FIFO" && same "model through a FIFO" o.npy ref.npy
run_snnc_stdin m.onnx run /dev/stdin --input x.npy --output o.npy
expect_exit 0 "model through /dev/stdin" && same "model through /dev/stdin" o.npy ref.npy
ln -s m.onnx ml.onnx && ln -s ml.onnx mll.onnx
run_snnc run mll.onnx --input x.npy --output o.npy
expect_exit 0 "model through two symbolic links" && same "model through two links" o.npy ref.npy
fifo_from xf x.npy
run_snnc run m.onnx --input xf --output o.npy
expect_exit 0 "--input .npy through a FIFO" && same "--input .npy through a FIFO" o.npy ref.npy
run_snnc_stdin x.npy run m.onnx --input /dev/stdin --output o.npy
expect_exit 0 "--input through /dev/stdin" && same "--input through /dev/stdin" o.npy ref.npy
fifo_from xf.pb x.pb
run_snnc run m.onnx --input xf.pb --output o.npy
expect_exit 0 "--input .pb through a FIFO" && same "--input .pb through a FIFO" o.npy ref.npy
run_snnc_stdin x.pb run m.onnx --input /dev/stdin --output o.npy
expect_exit 0 "--input .pb through /dev/stdin (the first byte tells)" &&
    same "--input .pb through /dev/stdin" o.npy ref.npy
printf 'hello\n' >hello.txt
run_snnc_stdin hello.txt run m.onnx --input /dev/stdin --output never.npy
expect_exit 2 "--input text through /dev/stdin" && expect_said "--input text through /dev/stdin" /dev/stdin
expect_absent "--input text through /dev/stdin" never.npy
ln -s x.pb xl.pb
run_snnc run m.onnx --input xl.pb --output o.npy
expect_exit 0 "--input .pb through a link" && same "--input .pb through a link" o.npy ref.npy

# check: the model and --calib through FIFOs give the report of plain files.
run_snnc check m.onnx --target truenorth --calib x.npy --json
cp "$T/out" ref_check.json
fifo_from mf m.onnx
fifo_from cf x.npy
run_snnc check mf --target truenorth --calib cf --json
if expect_exit 0 "check: model and --calib through FIFOs"; then
    sed 's|"mf"|"m.onnx"|; s|"cf"|"x.npy"|' "$T/out" >o.json # the report names its files
    same "check through FIFOs" o.json ref_check.json
fi

# Nothing useful: a directory, /dev/null (empty), /dev/zero (endless zeros:
# refused at once, not after reading gigabytes).
for c in "model:run dir --input x.npy --output never.npy:dir:Is a directory" \
         "model:run /dev/null --input x.npy --output never.npy:/dev/null:empty file" \
         "model:run /dev/zero --input x.npy --output never.npy:/dev/zero:not a protobuf message" \
         "model:inspect /dev/zero:/dev/zero:protobuf message" \
         "model:inspect dir:dir:Is a directory" \
         "--input:run m.onnx --input dir --output never.npy:dir:Is a directory" \
         "--input:run m.onnx --input /dev/null --output never.npy:/dev/null:empty file" \
         "--input:run m.onnx --input /dev/zero --output never.npy:/dev/zero:not a .npy file nor a protobuf message" \
         "--input .pb:run m.onnx --input z.pb --output never.npy:z.pb:not a protobuf message" \
         "--calib:convert m.onnx --target truenorth -o od --calib /dev/zero:/dev/zero:not a .npy file" \
         "--calib:convert m.onnx --target truenorth -o od --calib dir:dir:Is a directory" \
         "model.json:simulate /dev/null --ticks 5 --output-spikes never.csv:/dev/null:empty file" \
         "model.json:simulate /dev/zero --ticks 5 --output-spikes never.csv:/dev/zero:not a text file" \
         "--spikes:simulate tn.json --ticks 5 --spikes /dev/zero --output-spikes never.csv:/dev/zero:not a text file" \
         "--spikes:simulate tn.json --ticks 5 --spikes dir --output-spikes never.csv:dir:Is a directory"; do
    what=${c%%:*} rest=${c#*:}
    args=${rest%%:*} rest=${rest#*:}
    path=${rest%%:*} said=${rest#*:}
    rm -f z.pb && ln -s /dev/zero z.pb
    # shellcheck disable=SC2086
    run_snnc $args
    expect_exit 2 "$what $path ($args)" && expect_said "$what $path" "$path" "$said"
    expect_absent "$what $path" od never.npy never.csv
done
# /dev/null as the spike list: no input spikes, as without --spikes.
run_snnc simulate tn.json --ticks 20 --spikes /dev/null --output-spikes o.csv
expect_exit 0 "--spikes /dev/null" && same "--spikes /dev/null is no input spikes" o.csv ref_nospk.csv

# inspect: the kind of model comes from the bytes when the name does not say.
run_snnc inspect --json m.onnx
sed 's|"m.onnx"|"M"|' "$T/out" >ref_inspect.json
fifo_from mf m.onnx
run_snnc inspect --json mf
expect_exit 0 "inspect an ONNX model through a FIFO"
sed 's|"mf"|"M"|' "$T/out" >o.json && same "inspect an ONNX model through a FIFO" o.json ref_inspect.json
run_snnc inspect --json tn.json
sed 's|"tn.json"|"M"|' "$T/out" >ref_inspect_tn.json
run_snnc_stdin tn.json inspect --json /dev/stdin
expect_exit 0 "inspect a TrueNorth model through /dev/stdin"
sed 's|"/dev/stdin"|"M"|' "$T/out" >o.json && same "inspect TrueNorth via /dev/stdin" o.json ref_inspect_tn.json

# simulate MODEL.json: the model and --spikes through a FIFO, /dev/stdin, a link.
fifo_from tf tn.json
run_snnc simulate tf --ticks 20 --spikes sp.csv --output-spikes o.csv
expect_exit 0 "model.json through a FIFO" && same "model.json through a FIFO" o.csv ref.csv
run_snnc_stdin tn.json simulate /dev/stdin --ticks 20 --spikes sp.csv --output-spikes o.csv
expect_exit 0 "model.json through /dev/stdin" && same "model.json through /dev/stdin" o.csv ref.csv
fifo_from sf sp.csv
run_snnc simulate tn.json --ticks 20 --spikes sf --output-spikes o.csv
expect_exit 0 "--spikes through a FIFO" && same "--spikes through a FIFO" o.csv ref.csv
run_snnc_stdin sp.csv simulate tn.json --ticks 20 --spikes /dev/stdin --output-spikes o.csv
expect_exit 0 "--spikes through /dev/stdin" && same "--spikes through /dev/stdin" o.csv ref.csv
ln -s tn.json tl && ln -s sp.csv sl.csv
run_snnc simulate tl --ticks 20 --spikes sl.csv --output-spikes o.csv
expect_exit 0 "model.json and --spikes through links" && same "through links" o.csv ref.csv

# convert: the model through a FIFO, --calib through /dev/stdin; OUTDIR the
# same bytes as from plain files, its model.onnx the bytes of the model.
cp "$N/model.onnx" n.onnx
run_snnc convert n.onnx --target truenorth -o ref_out --calib c16.npy
expect_exit 0 "reference convert" || exit 1
fifo_from nf n.onnx
cat c16.npy | timeout -k 5 "$TIMEOUT" "$SNNC" convert nf --target truenorth -o od \
    --calib /dev/stdin >"$T/out" 2>"$T/err"
RC=$?
if expect_exit 0 "convert: model through a FIFO, --calib through /dev/stdin"; then
    CHECKS=$((CHECKS + 1))
    diff -r ref_out od >/dev/null || contract_fail "convert through a FIFO and a pipe: OUTDIR differs from the plain files' one"
    same "convert: OUTDIR/model.onnx is the model read" od/model.onnx n.onnx
fi
rm -rf od

# ----------------------------------------------------------------- outputs
# --output, --output-spikes: /dev/null (and a link to it), /dev/stdout (a
# pipe), a FIFO with a reader.
if [ -n "$DEVNULL" ]; then
    run_snnc run m.onnx --input x.npy --output "$DEVNULL"
    expect_exit 0 "--output $DEVNULL"
    CHECKS=$((CHECKS + 1))
    [ -c "$DEVNULL" ] || contract_fail "--output $DEVNULL: no longer a character device"
    ln -s "$DEVNULL" dn
    run_snnc run m.onnx --input x.npy --output dn
    expect_exit 0 "--output a link to $DEVNULL"
    CHECKS=$((CHECKS + 1))
    [ -L dn ] && [ -c "$DEVNULL" ] || contract_fail "--output a link to $DEVNULL: link or device replaced"
    run_snnc simulate tn.json --ticks 20 --spikes sp.csv --output-spikes "$DEVNULL"
    expect_exit 0 "--output-spikes $DEVNULL"
    CHECKS=$((CHECKS + 1))
    [ -c "$DEVNULL" ] || contract_fail "--output-spikes $DEVNULL: no longer a character device"
fi
run_snnc_stdin /dev/null run m.onnx --input x.npy --output "$STDOUT"
if expect_exit 0 "--output $STDOUT (a pipe)"; then
    head -c "$(wc -c <ref.npy)" "$T/out" >o.npy
    same "--output $STDOUT: the output, then the summary" o.npy ref.npy
fi
fifo_to of o.npy
run_snnc run m.onnx --input x.npy --output of
fifo_wait
expect_exit 0 "--output a FIFO with a reader" && same "--output a FIFO" o.npy ref.npy
is_fifo "--output a FIFO" of

# A link to a regular file: the file gets the content, the link stays.
mkdir sub && echo old >sub/target.npy && ln -s sub/target.npy tl.npy
run_snnc run m.onnx --input x.npy --output tl.npy
if expect_exit 0 "--output a link to a regular file"; then
    CHECKS=$((CHECKS + 1))
    [ -L tl.npy ] && [ "$(readlink tl.npy)" = sub/target.npy ] ||
        contract_fail "--output through a link: the link was replaced"
    same "--output through a link: the target holds the output" sub/target.npy ref.npy
    no_temp "--output through a link" sub/target.npy tl.npy
fi
# Refused, naming the path, leaving it as it was: a dangling link, a
# looping link, a directory, a link to a directory, a socket.
ln -s sub/missing.npy dang.npy
ln -s loop_a loop_b && ln -s loop_b loop_a
ln -s dir dirlink
"$PY" -c "import socket; socket.socket(socket.AF_UNIX).bind('sock')"
for c in "dang.npy:does not exist" "loop_a:symbolic links" "dir:is a directory" \
         "dirlink:is a directory" "sock:sock"; do
    p=${c%%:*} said=${c#*:}
    run_snnc run m.onnx --input x.npy --output "$p"
    expect_exit 2 "--output $p" && expect_said "--output $p" "$p" "$said"
done
CHECKS=$((CHECKS + 1))
[ -L dang.npy ] && [ ! -e sub/missing.npy ] && [ -L loop_a ] && [ -d dir ] && [ -L dirlink ] &&
    [ -S sock ] && [ -z "$(ls dir)" ] || contract_fail "refused outputs: a path was changed"
expect_absent "refused outputs: no temporary" sub/missing.npy dir/o.npy

# simulate --output-spikes: a FIFO with a reader, a link.
fifo_to osf o.csv
run_snnc simulate tn.json --ticks 20 --spikes sp.csv --output-spikes osf
fifo_wait
expect_exit 0 "--output-spikes a FIFO" && same "--output-spikes a FIFO" o.csv ref.csv
is_fifo "--output-spikes a FIFO" osf
: >sub/spikes.csv && ln -s sub/spikes.csv sl_out.csv
run_snnc simulate tn.json --ticks 20 --spikes sp.csv --output-spikes sl_out.csv
expect_exit 0 "--output-spikes a link" && same "--output-spikes a link" sub/spikes.csv ref.csv
CHECKS=$((CHECKS + 1))
[ -L sl_out.csv ] || contract_fail "--output-spikes a link: the link was replaced"

# simulate OUTDIR: --input through a FIFO, --output through a FIFO and a link.
run_snnc simulate ref_out --input n16.npy --output scores_ref.npy
expect_exit 0 "reference simulate OUTDIR"
fifo_from nif n16.npy
fifo_to sof o.npy
run_snnc simulate ref_out --input nif --output sof
fifo_wait
expect_exit 0 "simulate OUTDIR: --input and --output FIFOs" &&
    same "simulate OUTDIR through FIFOs" o.npy scores_ref.npy
: >sub/scores.npy && ln -s sub/scores.npy scl.npy
run_snnc simulate ref_out --input n16.npy --output scl.npy
expect_exit 0 "simulate OUTDIR --output a link" && same "simulate OUTDIR --output a link" sub/scores.npy scores_ref.npy

# convert -o: a link to a directory (--force) is kept and the directory
# replaced; a dangling link, a FIFO are refused.
mkdir outs && echo stale >outs/stale && ln -s outs outlink
run_snnc convert n.onnx --target truenorth -o outlink --force
if expect_exit 0 "convert -o a link to a directory"; then
    CHECKS=$((CHECKS + 1))
    [ -L outlink ] && [ -f outs/model.onnx ] && [ ! -e outs/stale ] ||
        contract_fail "convert -o a link: the link replaced, or its directory not"
    no_temp "convert -o a link" outs outlink
fi
ln -s nowhere outdang
run_snnc convert n.onnx --target truenorth -o outdang
expect_exit 2 "convert -o a dangling link" && expect_said "convert -o a dangling link" outdang "does not exist"
CHECKS=$((CHECKS + 1))
[ -L outdang ] && [ ! -e nowhere ] || contract_fail "convert -o a dangling link: changed"
mkfifo outfifo
run_snnc convert n.onnx --target truenorth -o outfifo --force
expect_exit 2 "convert -o a FIFO" && expect_said "convert -o a FIFO" outfifo "not a directory"
is_fifo "convert -o a FIFO" outfifo

for p in $BG; do kill "$p" 2>/dev/null; done
contract_done
