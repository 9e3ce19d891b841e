#!/bin/sh
# finetune.sh — CLI contract of convert's fine-tuning options: each refused
# outside its range and without --calib (usage, exit 1, before any work, no
# OUTDIR); a --finetune-labels file of the wrong type, length or classes
# refused naming the file and the reason (exit 2, no OUTDIR); good labels
# are copied to OUTDIR/calib_labels.npy, recorded in report.json, and
# simulate rebuilds the same network from them (TrueNorth equals the ideal
# stage); a changed copy is refused by the manifest.
. "$(dirname "$0")/lib.sh"
contract_init finetune "$@"
E=$EX/elman_tn64
M=$E/model.onnx
C=$E/calib.npy

refused() { # refused EXIT CASE TEXT ARGS...
    rc=$1 what=$2 text=$3
    shift 3
    run_snnc convert "$M" --target truenorth -o "$T/o" "$@"
    expect_exit "$rc" "$what" && expect_said "$what" "$text"
    expect_before_work "$what"
    expect_absent "$what" "$T/o"
}

for v in -1 100001 x 1.5 ""; do
    refused 1 "--finetune-steps $v" "--finetune-steps needs an integer in 0..100000" --calib "$C" --finetune-steps "$v"
done
for v in -0.1 1.5 nan x; do
    refused 1 "--finetune-lr $v" "--finetune-lr needs a number in 0..1" --calib "$C" --finetune-lr "$v"
done
refused 1 "--finetune-noise 5" "--finetune-noise needs a number in 0..4" --calib "$C" --finetune-noise 5
refused 1 "--finetune-label-weight -1" "--finetune-label-weight needs a number in 0..100" --calib "$C" \
    --finetune-label-weight -1
refused 1 "--finetune-seed -1" "--finetune-seed needs an integer" --calib "$C" --finetune-seed -1
refused 1 "--finetune-steps without --calib" "--finetune-steps needs --calib" --finetune-steps 5
refused 1 "--finetune-labels without --calib" "--finetune-labels needs --calib" --finetune-labels "$C"

# Label files: 256 calibration samples, classes 0..9.
$PY - "$T" <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
good = (np.arange(256) % 10).astype(np.int64)
np.save(d + "/good.npy", good)
np.save(d + "/good32.npy", good.astype(np.int32))
np.save(d + "/short.npy", good[:255])
np.save(d + "/float.npy", good.astype(np.float64))
np.save(d + "/matrix.npy", good.reshape(16, 16))
big = good.copy(); big[37] = 10
np.save(d + "/big.npy", big)
neg = good.copy(); neg[5] = -1
np.save(d + "/neg.npy", neg)
EOF
L=$T/labels
refused 2 "labels float64" "int64 or int32" --calib "$C" --finetune-labels "$T/float.npy"
expect_said "labels float64" "--finetune-labels $T/float.npy"
refused 2 "labels [16, 16]" "shape [16,16]; expected one dimension" --calib "$C" --finetune-labels "$T/matrix.npy"
refused 2 "labels negative" "negative" --calib "$C" --finetune-labels "$T/neg.npy"
refused 2 "labels 255 of 256" "255 labels for 256 calibration samples" --calib "$C" --finetune-labels "$T/short.npy"
expect_said "labels 255 of 256" "--finetune-labels $T/short.npy"
refused 2 "label 10 of 10 classes" "element 37 is 10, not a class 0..9" --calib "$C" --finetune-labels "$T/big.npy"
expect_said "label 10 of 10 classes" "--finetune-labels $T/big.npy"
refused 2 "labels missing" "$T/none.npy" --calib "$C" --finetune-labels "$T/none.npy"

# Good labels (int32 accepted): copied, recorded, replayed by simulate.
run_snnc convert "$M" --target truenorth -o "$T/ok" --calib "$C" --finetune-labels "$T/good32.npy" \
    --finetune-steps 20
expect_exit 0 "good labels"
expect_said "good labels" "finetune step 20/20" "ms/step" "validation loss"
CHECKS=$((CHECKS + 2))
cmp -s "$T/ok/calib_labels.npy" "$T/good.npy" || contract_fail "calib_labels.npy is not the labels as int64"
grep -q '"labels": "calib_labels.npy"' "$T/ok/report.json" || contract_fail "report.json: finetune.labels"
run_snnc simulate "$T/ok" --input "$E/input.npy" --json
expect_exit 0 "simulate the fine-tuned OUTDIR"
CHECKS=$((CHECKS + 1))
grep -qE '"truenorth_scores_equal_ideal": 1(\.0+)?,?$' "$T/out" ||
    contract_fail "simulate: the rebuilt network is not the emitted one (TrueNorth != ideal)"
cp "$T/neg.npy" "$T/ok/calib_labels.npy"
run_snnc simulate "$T/ok" --input "$E/input.npy"
expect_exit 2 "changed calib_labels.npy" && expect_said "changed calib_labels.npy" "calib_labels.npy" "SHA-256"

# --finetune-carry: both fine-tunings built, the choice recorded and replayed
# by simulate (the same network: TrueNorth = ideal).
run_snnc convert "$M" --target truenorth -o "$T/carry" --calib "$C" --finetune-carry --finetune-steps 20
expect_exit 0 "carry" && expect_said "carry" "finetune carry:" "held-out calibration part"
CHECKS=$((CHECKS + 1))
grep -q '"carry": true' "$T/carry/report.json" && grep -q '"carry_agreement"' "$T/carry/report.json" ||
    contract_fail "report.json: finetune.carry, carry_agreement"
run_snnc simulate "$T/carry" --input "$E/input.npy" --json
expect_exit 0 "simulate the carry OUTDIR"
CHECKS=$((CHECKS + 1))
grep -qE '"truenorth_scores_equal_ideal": 1(\.0+)?,?$' "$T/out" ||
    contract_fail "simulate carry: the rebuilt network is not the emitted one (TrueNorth != ideal)"

contract_done
