#!/bin/sh
# data_files.sh — CLI contract: every value of every data file the
# conversion commands read is checked.  Labels (simulate OUTDIR --labels)
# are integers in [0, classes), one per sample; input and calibration
# batches (simulate --input, convert/check --calib) are not empty and all
# finite.  A bad file is refused with exit 2, naming the file, the first
# bad element (flat index and multi-index, derived here with numpy) and the
# reason, and no output is left.  `snnc run` (the float reference) takes
# NaN and infinities as values, as documented in its --help.
. "$(dirname "$0")/lib.sh"
contract_init data_files "$@"
E=$EX/elman_tn64
M=$E/model.onnx
D=$T/data
mkdir -p "$D"

# The bad files, and per file the element the error must name: two bad
# values, the first in row-major order named.  Labels: 256 samples, 10 classes.
$PY - "$E" "$D" <<'EOF' || { echo "FAIL: making the data files" >&2; exit 1; }
import sys, numpy as np
e, d = sys.argv[1:]
x = np.load(e + "/input.npy"); lab = np.load(e + "/labels.npy")
assert x.shape == (256, 8, 8) and lab.shape == (256,) and lab.min() == 0 and lab.max() == 9
cases = open(d + "/cases", "w")
def bad(name, a, idx, reason):
    np.save(d + "/" + name + ".npy", a)
    flat = int(np.ravel_multi_index(idx, a.shape))
    where = "element %d [%s]" % (flat, ", ".join(str(i) for i in idx))
    cases.write("%s|%s|%s\n" % (name, where, reason))
def lab_with(dtype, pos, val, pos2=None, val2=None):
    a = lab.astype(dtype)
    if pos2 is not None:
        a[pos2] = val2
    a[pos] = val
    return a
bad("lab_neg", lab_with(np.int64, 7, -1, 200, 11), (7,), "negative")
bad("lab_ten", lab_with(np.int64, 3, 10), (3,), "not below the class count")
bad("lab_huge", lab_with(np.int64, 255, 2**62), (255,), "not below the class count")
bad("lab_i32neg", lab_with(np.int32, 0, -5), (0,), "negative")
bad("lab_u8", lab_with(np.uint8, 9, 200), (9,), "not below the class count")
bad("lab_frac", lab_with(np.float64, 11, 2.5, 12, np.nan), (11,), "fractional")
bad("lab_nan", lab_with(np.float64, 5, np.nan, 6, 2.5), (5,), "NaN")
bad("lab_inf", lab_with(np.float32, 100, np.inf), (100,), "+inf")
bad("lab_minf", lab_with(np.float32, 101, -np.inf), (101,), "-inf")
bad("lab_fbig", lab_with(np.float64, 4, 1e300), (4,), "out of range")
bad("lab_fneg", lab_with(np.float32, 8, -3.0), (8,), "negative")
bad("lab_col", lab_with(np.int64, 2, 12).reshape(256, 1), (2, 0), "not below the class count")
# shape and dtype (no element: the reason only)
np.save(d + "/lab_short.npy", lab[:255]); np.save(d + "/lab_long.npy", np.concatenate([lab, lab[:1]]))
np.save(d + "/lab_2d.npy", np.stack([lab, lab], 1)); np.save(d + "/lab_empty.npy", lab[:0])
np.save(d + "/lab_bool.npy", lab > 4); np.save(d + "/lab_scalar.npy", np.int64(3))
# valid spellings of the same labels
np.save(d + "/ok_i32.npy", lab.astype(np.int32)); np.save(d + "/ok_f64.npy", lab.astype(np.float64))
np.save(d + "/ok_col.npy", lab.reshape(256, 1)); np.save(d + "/ok_u8.npy", lab.astype(np.uint8))
# input batches
def x_with(dtype, pos, val, pos2=None, val2=None):
    a = x.astype(dtype)
    if pos2 is not None:
        a[pos2] = val2
    a[pos] = val
    return a
bad("in_nan", x_with(np.float32, (3, 2, 1), np.nan, (200, 0, 0), np.inf), (3, 2, 1), "NaN")
bad("in_inf", x_with(np.float32, (0, 7, 7), np.inf), (0, 7, 7), "+inf")
bad("in_minf", x_with(np.float32, (255, 0, 3), -np.inf), (255, 0, 3), "-inf")
bad("in_f64nan", x_with(np.float64, (17, 4, 0), np.nan), (17, 4, 0), "NaN")
# a float64 beyond float32's range is infinite once read as float32
bad("in_f64big", x_with(np.float64, (9, 1, 5), 1e300), (9, 1, 5), "+inf")
np.save(d + "/in_empty.npy", x[:0]); np.save(d + "/in_int.npy", (x * 4).astype(np.int64))
cases.close()
EOF

# simulate OUTDIR: a conversion without calibration data (no matching: fast).
run_snnc convert "$M" --target truenorth -o "$T/o"
expect_exit 0 "convert"

case_line() { grep "^$1|" "$D/cases"; }
# refused_elem CASE FLAG ARGS...: exit 2 naming FLAG, the file, element and reason.
refused_elem() {
    name=$1 flag=$2
    shift 2
    line=$(case_line "$name")
    where=$(echo "$line" | cut -d'|' -f2) why=$(echo "$line" | cut -d'|' -f3)
    run_snnc "$@"
    expect_exit 2 "$name" && expect_said "$name" "$flag $D/$name.npy: $where is $why"
}

for l in lab_neg lab_ten lab_huge lab_i32neg lab_u8 lab_frac lab_nan lab_inf lab_minf lab_fbig \
    lab_fneg lab_col; do
    refused_elem $l --labels simulate "$T/o" --input "$E/input.npy" --labels "$D/$l.npy" \
        --output "$T/scores.npy"
    expect_absent $l "$T/scores.npy"
done
for l in lab_short lab_long lab_2d lab_empty lab_scalar; do
    run_snnc simulate "$T/o" --input "$E/input.npy" --labels "$D/$l.npy" --output "$T/scores.npy"
    expect_exit 2 $l && expect_said $l "--labels $D/$l.npy: shape" "expected [256]"
    expect_absent $l "$T/scores.npy"
done
run_snnc simulate "$T/o" --input "$E/input.npy" --labels "$D/lab_bool.npy"
expect_exit 2 lab_bool && expect_said lab_bool "--labels $D/lab_bool.npy: bool values"

# The same labels in other dtypes and shapes give the same accuracies.
run_snnc simulate "$T/o" --input "$E/input.npy" --labels "$E/labels.npy" --json
expect_exit 0 "labels int64"
grep -A5 '"accuracy"' "$T/out" >"$T/acc.ref"
CHECKS=$((CHECKS + 1))
grep -q '"truenorth": 0\.[0-9]*[1-9]' "$T/acc.ref" || contract_fail "labels int64: accuracy 0 or missing"
for l in ok_i32 ok_f64 ok_col ok_u8; do
    run_snnc simulate "$T/o" --input "$E/input.npy" --labels "$D/$l.npy" --json
    expect_exit 0 $l
    CHECKS=$((CHECKS + 1))
    grep -A5 '"accuracy"' "$T/out" | cmp -s - "$T/acc.ref" || contract_fail "$l: accuracies differ from int64 labels"
done

# Input batches: simulate --input, convert --calib, check --calib.
for b in in_nan in_inf in_minf in_f64nan in_f64big; do
    refused_elem $b --input simulate "$T/o" --input "$D/$b.npy" --output "$T/scores.npy"
    expect_absent $b "$T/scores.npy"
    refused_elem $b --calib convert "$M" --target truenorth -o "$T/c" --calib "$D/$b.npy"
    expect_absent "convert $b" "$T/c"
    refused_elem $b --calib check "$M" --target truenorth --calib "$D/$b.npy"
done
run_snnc simulate "$T/o" --input "$D/in_empty.npy"
expect_exit 2 "simulate in_empty" && expect_said "simulate in_empty" "--input $D/in_empty.npy: empty batch"
run_snnc convert "$M" --target truenorth -o "$T/c" --calib "$D/in_empty.npy"
expect_exit 2 "convert in_empty" && expect_said "convert in_empty" "--calib $D/in_empty.npy: empty batch"
expect_absent "convert in_empty" "$T/c"
run_snnc check "$M" --target truenorth --calib "$D/in_empty.npy"
expect_exit 2 "check in_empty" && expect_said "check in_empty" "--calib $D/in_empty.npy: empty batch"

run_snnc simulate "$T/o" --input "$D/in_int.npy"
expect_exit 2 "simulate in_int" && expect_said "simulate in_int" "$D/in_int.npy" "float32 or float64"

# run: the float reference takes non-finite values (documented).
run_snnc run --help
expect_exit 0 "run --help"
CHECKS=$((CHECKS + 1))
grep -q "NaN and infinities are valid" "$T/out" || contract_fail "run --help: non-finite inputs not documented"
run_snnc run "$M" --input "$E/input.npy" --output "$T/run_ok.npy"
expect_exit 0 "run"
run_snnc run "$M" --input "$D/in_nan.npy" --output "$T/run.npy"
expect_exit 0 "run in_nan"
CHECKS=$((CHECKS + 1))
$PY -c "import sys, numpy as np; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); m = np.ones(256, bool); m[[3, 200]] = False; sys.exit(0 if a.shape == (256, 10) and (a[m] == b[m]).all() else 1)" \
    "$T/run.npy" "$T/run_ok.npy" || contract_fail "run in_nan: samples without NaN/inf changed"

contract_done
