#!/bin/sh
# step_gap.sh — CLI contract: the per-step gap between the constrained
# network and the ideal spiking netlist (mapper/step_gap.c) in report.json
# (on the calibration batch) and in `snnc simulate OUTDIR --json` (on the
# input): present, shaped by the network (one entry per hidden layer, arrays
# of `steps` values), within its ranges, the same numbers from both commands
# on the same batch, and consistent with what simulate measures otherwise
# (the exact fraction is the hidden agreement's fraction within half a
# level; accuracies of the two stages differ by at most the disagreement).
# Without calibration data convert writes null.
. "$(dirname "$0")/lib.sh"
contract_init step_gap "$@"
E=$EX/elman_tn64

run_snnc convert "$E/model.onnx" --target truenorth -o "$T/a" --calib "$E/calib.npy"
expect_exit 0 "convert"
run_snnc simulate "$T/a" --input "$E/calib.npy" --json
expect_exit 0 "simulate on calib.npy" && cp "$T/out" "$T/sim_calib.json"
run_snnc simulate "$T/a" --input "$E/input.npy" --labels "$E/labels.npy" --json
expect_exit 0 "simulate on input.npy" && cp "$T/out" "$T/sim_test.json"
run_snnc simulate "$T/a" --input "$E/input.npy"
expect_exit 0 "simulate, text"
CHECKS=$((CHECKS + 1))
grep -q "^constrained vs ideal per step" "$T/out" && grep -q "one_step_mae" "$T/out" ||
    contract_fail "simulate's text does not show the step gap"

CASES=$((CASES + 1)) CHECKS=$((CHECKS + 1))
$PY - "$T" "$E" <<'EOF' || contract_fail "step_gap fields"
import json, struct, sys
t, e = sys.argv[1], sys.argv[2]
rep = json.load(open(t + "/a/report.json"))
sc, st = json.load(open(t + "/sim_calib.json")), json.load(open(t + "/sim_test.json"))
def batch(path):  # first dimension of a .npy (header only)
    h = open(path, "rb").read(256)
    n = struct.unpack("<H", h[8:10])[0]
    return eval(h[10:10 + n].decode())["shape"][0]
def check(g, samples, where):
    assert g["samples"] == samples and g["steps"] == rep["steps"], where
    assert 0 <= g["class_agreement"] <= 1, where
    hidden = [l["layer"] for l in rep["layers"]][:-1]  # all but the readout
    assert [l["layer"] for l in g["layers"]] == hidden, (where, hidden)
    for l in g["layers"]:
        for k in ("mean_count", "mae", "rms", "exact", "one_step_mae", "one_step_exact"):
            assert len(l[k]) == rep["steps"] and all(v >= 0 for v in l[k]), (where, k)
        assert len(l["bias"]) == rep["steps"], where
        assert all(abs(b) <= a + 1e-6 for b, a in zip(l["bias"], l["mae"])), where  # |mean d| <= mean |d|
        assert all(v <= 1 for v in l["exact"] + l["one_step_exact"]), where
        assert all(a <= r + 1e-6 for a, r in zip(l["mae"], l["rms"])), where  # mean |d| <= rms
        assert l["mean_count"][-1] > 0, where
check(rep["step_gap"], batch(e + "/calib.npy"), "report.json")
check(st["step_gap"], batch(e + "/input.npy"), "simulate")
assert sc["step_gap"] == rep["step_gap"], "simulate on calib.npy differs from report.json"
# exact counts = hidden values within half a level (another computation)
h = st["hidden_agreement"]["constrained_vs_ideal"]
g = st["step_gap"]["layers"][-1]
assert all(abs(x["within_half_level"] - y) < 2e-3 for x, y in zip(h, g["exact"])), (h, g["exact"])
a = st["accuracy"]
assert abs(a["constrained"] - a["ideal"]) <= 1 - st["step_gap"]["class_agreement"] + 2e-3, a
EOF

run_snnc convert "$E/model.onnx" --target truenorth -o "$T/b"
expect_exit 0 "convert without calibration"
CHECKS=$((CHECKS + 1))
$PY -c 'import json, sys; assert json.load(open(sys.argv[1]))["step_gap"] is None' "$T/b/report.json" ||
    contract_fail "without calibration data step_gap is not null"
contract_done
