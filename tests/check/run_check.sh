#!/bin/bash
# run_check.sh — tests of `snnc check` (cli/cmd_check.c, docs/CHECK.md) on
# the examples: fan-in within/over the limit, the one-core estimate of the
# paper's shape, unsupported layers, --strict, weight levels, bad arguments;
# and the figures of a tiny network derived by hand (tests/check/tiny, written
# by make_tiny.py).
#
#   tests/check/run_check.sh SNNC EXAMPLES_DIR
set -u
snnc=${1:?usage: run_check.sh SNNC EXAMPLES_DIR}
ex=${2:?usage: run_check.sh SNNC EXAMPLES_DIR}
py=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS ARGS...: exit status of `snnc check ARGS`, stdout in $tmp/out
expect() {
    local want=$1; shift
    "$snnc" check "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    [ "$got" = "$want" ] || fail "snnc check $*: exit $got, expected $want ($(head -c 300 "$tmp/err"))"
}

# names WORD: the last command's error message names WORD (the option, file...)
names() {
    grep -qF -- "$1" "$tmp/err" || fail "message does not name '$1': $(head -c 300 "$tmp/err")"
}

# jcheck PYTHON-EXPR: evaluated with r = the JSON in $tmp/out
jcheck() {
    "$py" -c "import json,sys; r=json.load(open('$tmp/out')); sys.exit(0 if ($1) else 1)" ||
        fail "json check: $1"
}

tn=$ex/elman_tn64/model.onnx h=$ex/elman_h128/model.onnx

# Paper's shape: 8 inputs + 56 hidden = fan-in 64, no fan-in violation.
# Without --calib the inputs are taken on [-1, 1] (quantize.h): two spike
# channels each, 16 + 56 = 72 channels.
expect 0 "$tn" --target truenorth --json
jcheck "r['layers'][0]['fan_in'] == 64 and r['layers'][0]['role'] == 'recurrent'"
jcheck "not [v for v in r['violations'] if v['kind'] == 'fan_in']"
jcheck "[v for v in r['violations'] if v['kind'] == 'fan_in_channels' and v['value'] == 72]"
jcheck "r['layers'][0]['output_rel_error'] is None"
cp "$tmp/out" "$tmp/w16.json"
# Calibrated (digits in [0, 1]): one channel per input; one core:
# (8 + 56) x 4 = 256 axons, 56 x 4 copies + 10 readouts = 234 neurons.
expect 0 "$tn" --target truenorth --json --calib "$ex/elman_tn64/calib.npy"
jcheck "not [v for v in r['violations'] if v['kind'].startswith('fan_in')]"
jcheck "r['totals'] == {'cores': 1, 'axons': 256, 'neurons': 234, 'mappable': True, 'splitter_cores': 0}"
jcheck "r['layers'][0]['copies'] == {'min': 4, 'max': 4} and r['layers'][1]['copies']['max'] == 1"
jcheck "r['violations'] and all(set(v) == {'layer','kind','value','limit','detail'} for v in r['violations'])"
# Compensation trades weight error for pre-activation error (docs/QUANTIZE.md
# §5): on calibration data the output error is below the weight error.  At
# 16 levels the error is over 1 %, so 1 % needs more than 16 levels, and the
# weight_levels violation carries the error in percent.
jcheck "r['constraints']['calibrated'] and all(0 < l['output_rel_error'] < l['weight_rel_error'] for l in r['layers'])"
jcheck "0.01 < r['layers'][0]['weight_rel_error'] < 0.3 and r['layers'][0]['levels_for_1pct'] > 16"
jcheck "[round(100 * l['weight_rel_error'], 2) for l in r['layers']] == [v['value'] for v in r['violations'] if v['kind'] == 'weight_levels']"

# The tiny network of tests/check/make_tiny.py, whose figures are derived by
# hand.  One step, h0 = 0, ReLU: h = relu(x1 + x2/4 + 1/2) (U = 1/7 never
# acts), y = 2h - 1.  Calibration: (x1, x2) = (+-1, +-1), each sign pair
# twice (8 sequences), so E[x1] = E[x2] = E[x1 x2] = 0, E[x^2] = 1.
#  - Ranges (99.9th percentile of |.|, linear interpolation between the two
#    largest of 8 values, which are equal): a_in = 1; h = 1.75, 1.25, 0, 0
#    (twice each): a_out = 1.75; |y| = 2.5, 1.5, 1, 1: 2.5.
#  - Layer 0's count-domain row (docs/QUANTIZE.md §1: W' = w a_in / a_out,
#    U' = U) is [4/7, 1/7, 1/7] = [4, 1, 1] / 7.  Its inputs' second moments
#    H over [x1, x2, h0, 1] are diagonal (h0 = 0: a zero row and column), so
#    compensation (§5) moves nothing: plain rounding at the optimal scale.
#  - 3 levels (codes -1, 0, 1): the best code vector c maximises
#    <w,c>^2 / <c,c> over [1,0,0] (16), [1,1,0] (12.5), [1,1,1] (12): s = 4/7,
#    codes [1, 0, 0], weight error sqrt((1 + 1) / 18) = 1/3.  The dropped
#    term is x2/4: output error^2 = E[(x2/4)^2] / E[(x1 + x2/4 + 1/2)^2]
#    = (1/16) / (1 + 1/16 + 1/4) = 1/21, i.e. 0.2182179.
#    Levels for 1 %: 9 levels (codes -4..4) hold [4, 1, 1] exactly; 8 (codes
#    up to 3) at best [3, 1, 1]: error^2 = 18 - 14^2/11 = 2/11, 1/99 of 18,
#    10 % > 1 %: 9.  The readout's single weight is exact (code 1, s = its
#    count-domain value): errors 0; 2 levels cannot code it (codes -1, 0): 3.
#  - Estimate (docs/CHECK.md): 2 signed inputs x 2 channels + 1 ReLU unit =
#    5 channels; 1 unit with 4 copies on 1 core, 4 x 5 = 20 axons; the
#    readout shares the core (4 + 1 <= 256 slots): 1 core, 20 axons, 5 neurons.
tiny=$(dirname "$0")/tiny
expect 0 "$tiny/model.onnx" --target truenorth --json --calib "$tiny/calib.npy" --weight-levels 3
jcheck "[l['input_range'] for l in r['layers']] == [1, 1.75] and [l['activity_range'] for l in r['layers']] == [1.75, 2.5]"
jcheck "abs(r['layers'][0]['output_rel_error'] - (1 / 21) ** 0.5) < 1e-6"
jcheck "abs(r['layers'][0]['weight_rel_error'] - 1 / 3) < 1e-6 and r['layers'][0]['levels_for_1pct'] == 9"
jcheck "r['layers'][1]['output_rel_error'] < 1e-6 and r['layers'][1]['weight_rel_error'] < 1e-6"
jcheck "r['layers'][1]['levels_for_1pct'] == 3"
jcheck "r['layers'][0]['fan_in'] == 3 and r['layers'][0]['fan_in_channels'] == 5"
jcheck "r['totals'] == {'cores': 1, 'axons': 20, 'neurons': 5, 'mappable': True, 'splitter_cores': 0}"
jcheck "[(v['layer'], v['kind'], v['value']) for v in r['violations']] == [('rnn', 'weight_levels', 33.33)]"
# 2 levels (codes -1, 0) code no positive weight: everything is dropped.
#  - Layer 0: H diagonal again, error^2 = E[(x1 + x2/4)^2] / (21/16) = 17/21.
#  - Readout: the dropped term 2h goes to the bias (§5): with the count-domain
#    input v = h a_out / a_in = h 10/7 and H = [[E v^2, E v], [E v, 1]] plus
#    the damping lambda = 1 % of mean(diag H) on the diagonal, the bias moves
#    by e H_01 / (H_11 + lambda) = (7/5)(15/14) / (1 + lambda) = db, with
#    E h = 3/4, E h^2 = 37/32, E v^2 = 925/392, lambda = 1317/78400,
#    db = 117600/79717 = 1.4752186.  Output error^2 = E[(2h - db)^2] /
#    E[(2h - 1)^2] = (37/8 - 3 db + db^2) / (21/8) = 0.9050, i.e. 0.9513127.
expect 0 "$tiny/model.onnx" --target truenorth --json --calib "$tiny/calib.npy" --weight-levels 2
jcheck "abs(r['layers'][0]['output_rel_error'] - (17 / 21) ** 0.5) < 1e-6"
jcheck "abs(r['layers'][1]['output_rel_error'] - 0.9513127) < 1e-6"
jcheck "[l['weight_rel_error'] for l in r['layers']] == [1, 1] and [l['levels_for_1pct'] for l in r['layers']] == [9, 3]"

# Constraint cost (docs/CHECK.md) on tests/check/tiny/two_class.onnx: the
# tiny network above with the readout y = [h, 1.4] (parameters in
# two_class_params.npy), --weight-levels 3 --activity-levels 4, derived here
# with numpy from the parameters and the rules of docs/QUANTIZE.md:
#  - weights only: layer 0's count-domain row [4, 1, 1] / 7 at 3 levels is
#    coded [1, 0, 0] at scale 4/7 (derived above, found again below by
#    trying every code vector in {-1, 0, 1}^3 at its optimal scale), i.e.
#    W = [1, 0], U = 0, and compensation moves nothing (H diagonal, above);
#    the readout's rows [1 . a_h/a_y] and [0] are exact (one weight: code 1).
#  - activities: ranges as above (input 1, signed: [-1, 1] on 2 (4-1) + 1 = 7
#    levels; hidden 1.75, ReLU: [0, 1.75] on 4 levels), nearest, halves up;
#    the readout's output is its membrane, not quantised.
#  - fan-in: 5 channels <= 64: nothing to limit, cost 0.
# Per layer: only the rnn constrained (with the input quantiser) = every
# layer, since the readout is exact; only the readout: cost 0.
expect 0 "$tiny/two_class.onnx" --target truenorth --json --calib "$tiny/calib.npy" --weight-levels 3 --activity-levels 4
"$py" - "$tmp/out" "$tiny" <<'EOF' || fail "two_class: constraint cost differs from the numpy derivation"
import itertools, json, sys
import numpy as np
r = json.load(open(sys.argv[1]))["constraint_cost"]
p = np.load(sys.argv[2] + "/two_class_params.npy").astype(np.float64)
W, U, b, V, c = p[0:2], p[2], p[3], p[4:6].reshape(2, 1), p[6:8]
x = np.load(sys.argv[2] + "/calib.npy").astype(np.float64)[0]          # [8, 2], one step, h0 = 0
a_in, a_h = 1.0, 1.75

def quant(v, lo, hi, levels):                                           # nearest, halves up
    step = (hi - lo) / (levels - 1)
    return lo + np.floor((np.clip(v, lo, hi) - lo) / step + 0.5) * step

def run(W, U, qx=None, qh=None):
    xs = qx(x) if qx else x
    h = np.maximum(xs @ W + U * 0 + b, 0)                               # h0 = 0: U never acts
    h = qh(h) if qh else h
    return h[:, None] @ V.T + c

# Optimal 3-level coding of layer 0's count-domain row.
row = np.array([W[0] * a_in / a_h, W[1] * a_in / a_h, U])
codes = [np.array(k) for k in itertools.product([-1, 0, 1], repeat=3) if any(k)]
best = max(codes, key=lambda k: np.dot(row, k) ** 2 / np.dot(k, k))
s = np.dot(row, best) / np.dot(best, best)
Wq, Uq = s * best[:2] * a_h / a_in, s * best[2]
assert np.allclose([Wq[0], Wq[1], Uq], [1, 0, 0]), (Wq, Uq)
qx = lambda v: quant(v, -a_in, a_in, 7)
qh = lambda v: quant(v, 0, a_h, 4)
f = run(W, U)
def cost(y):
    lp = f - np.log(np.exp(f).sum(1, keepdims=True))
    lq = y - np.log(np.exp(y).sum(1, keepdims=True))
    return (f.argmax(1) == y.argmax(1)).mean(), (np.exp(lp) * (lp - lq)).sum(1).mean()
want = {"weights": cost(run(Wq, Uq)), "activities": cost(run(W, U, qx, qh)), "fan_in": (1.0, 0.0),
        "all": cost(run(Wq, Uq, qx, qh))}
assert want["weights"][0] == 0.75 and want["activities"][0] == 1 and want["all"][0] == 0.75, want
def close(got, w):
    return got["agreement"] == w[0] and abs(got["kl"] - w[1]) <= 1e-6 * max(1, w[1])
ok = all(close(r[k], w) for k, w in want.items()) and r["samples"] == 8
ok &= [l["name"] for l in r["layers"]] == ["rnn", "fc"]
ok &= all(close(r["layers"][0][k], w) for k, w in want.items())
ok &= all(close(r["layers"][1][k], (1.0, 0.0)) for k in want)
print(want) if not ok else None
sys.exit(0 if ok else 1)
EOF
# Without --calib: no figures, and the table says they need it.
expect 0 "$tiny/two_class.onnx" --target truenorth --json
jcheck "r['constraint_cost'] is None"
expect 0 "$tiny/two_class.onnx" --target truenorth
grep -q "constraint cost: needs --calib" "$tmp/out" || fail "table: no word that the constraint cost needs --calib"

# elman_tn64 at 3 weight levels: "all" is the constrained network convert
# builds (before fine-tuning, which check does not run: docs/FINETUNE.md), so
# its agreement with the float network is the one `snnc simulate`
# measures by another route (the conversion rebuilt from OUTDIR, its
# constrained stage against its float stage).  Weights alone at 2 levels
# cost more than at 16 (every positive weight is dropped at 2, codes -1, 0).
expect 0 "$tn" --target truenorth --json --calib "$ex/elman_tn64/calib.npy" --weight-levels 3
cp "$tmp/out" "$tmp/cost3.json"
"$snnc" convert "$tn" --target truenorth --calib "$ex/elman_tn64/calib.npy" --weight-levels 3 \
    --finetune-steps 0 -o "$tmp/conv" >/dev/null 2>&1 || fail "convert --weight-levels 3"
"$snnc" simulate "$tmp/conv" --input "$ex/elman_tn64/calib.npy" --json >"$tmp/sim.json" 2>/dev/null ||
    fail "simulate OUTDIR"
"$py" -c "import json; c=json.load(open('$tmp/cost3.json'))['constraint_cost']; s=json.load(open('$tmp/sim.json'))
assert c['all']['agreement'] == s['class_agreement_with_ann']['constrained'] < 1, (c['all'], s['class_agreement_with_ann'])" ||
    fail "check's 'all' agreement differs from simulate's constrained agreement"
expect 0 "$tn" --target truenorth --json --calib "$ex/elman_tn64/calib.npy"
cp "$tmp/out" "$tmp/cost16.json"
expect 0 "$tn" --target truenorth --json --calib "$ex/elman_tn64/calib.npy" --weight-levels 2
"$py" -c "import json; a=json.load(open('$tmp/cost16.json'))['constraint_cost']; b=json.load(open('$tmp/out'))['constraint_cost']
ok = lambda r: all(0 <= r[k]['agreement'] <= 1 and r[k]['kl'] >= 0 for k in ('weights', 'activities', 'fan_in', 'all'))
assert ok(a) and ok(b) and all(ok(l) for l in a['layers'] + b['layers'])
assert b['weights']['kl'] > a['weights']['kl'] and b['weights']['agreement'] < a['weights']['agreement']
assert a['activities'] == b['activities'] and a['fan_in'] == {'agreement': 1, 'kl': 0}" ||
    fail "elman_tn64: constraint cost out of range or not rising at 2 weight levels"
# elman_h128 is split (136 inputs > 64): split keeps every weight, so the
# fan-in alone costs exactly nothing, per layer too.
expect 0 "$h" --target truenorth --json --calib "$ex/elman_h128/calib.npy"
jcheck "r['layers'][0]['groups'] == 3 and r['constraint_cost']['fan_in_strategy'] == 'split'"
jcheck "all(x['fan_in'] == {'agreement': 1, 'kl': 0} for x in [r['constraint_cost']] + r['constraint_cost']['layers'])"
jcheck "r['constraint_cost']['all']['kl'] > 0"

# 4 weight levels: more error than 16.
expect 0 "$tn" --target truenorth --json --weight-levels 4
"$py" -c "import json; a=json.load(open('$tmp/w16.json')); b=json.load(open('$tmp/out'))
assert all(y['weight_rel_error'] > 1.5 * x['weight_rel_error'] for x, y in zip(a['layers'], b['layers']))" ||
    fail "--weight-levels 4 does not raise the error"

# tanh: the hidden layer is a signed pair, 8 + 2 x 48 = 104 channels, and
# the readout's 48 tanh inputs 96: the split (fan-in counted in channels,
# docs/QUANTIZE.md §6) cuts both into 2 groups of at most 64 channels.
expect 0 "$ex/elman_tanh/model.onnx" --target truenorth --json --calib "$ex/elman_tanh/calib.npy"
jcheck "[v for v in r['violations'] if v['kind'] == 'fan_in_channels' and v['value'] == 104]"
jcheck "[l['groups'] for l in r['layers']] == [2, 2]"
# Offset-coded tanh (docs/CONVERSION.md §3): one channel per unit, 8 + 48 =
# 56 channels and the readout's 48 fit 64: no fan-in violation, no split.
expect 0 "$ex/elman_tanh/model.onnx" --target truenorth --json --calib "$ex/elman_tanh/calib.npy" --tanh-coding offset
jcheck "not [v for v in r['violations'] if v['kind'].startswith('fan_in')]"
jcheck "[l['groups'] for l in r['layers']] == [1, 1]"
expect 1 "$ex/elman_tanh/model.onnx" --target truenorth --tanh-coding both
names "--tanh-coding"

# Hidden 128: 8 + 128 = 136 inputs > 64 on the recurrent layer, split in 3.
expect 0 "$h" --target truenorth --json
jcheck "[v for v in r['violations'] if v['kind'] == 'fan_in' and v['layer'] == '/rnn/RNN' and v['value'] == 136 and v['limit'] == 64]"
jcheck "r['layers'][0]['groups'] == 3 and r['layers'][0]['estimate']['partial_neurons'] == 2 * 3 * 128"
expect 0 "$h" --target truenorth --fan-in 32 --json
jcheck "r['layers'][0]['groups'] == 5"

# Readable table by default.
expect 0 "$h" --target truenorth
grep -q "fan_in .*/rnn/RNN" "$tmp/out" || fail "table: no fan_in violation line"

# LSTM: a violation naming the layer, not a failure; --strict -> 3.
expect 0 "$ex/lstm/model.onnx" --target truenorth --json
jcheck "r['violations'][0]['kind'] == 'unsupported' and 'LSTM' in r['violations'][0]['layer']"
expect 3 "$ex/lstm/model.onnx" --target truenorth --strict
expect 3 "$tn" --target truenorth --strict
# A weight error tolerated by --weight-error is no violation: the calibrated
# one-core example then passes --strict (its error is below 30 %, above).
expect 3 "$tn" --target truenorth --calib "$ex/elman_tn64/calib.npy" --strict
expect 0 "$tn" --target truenorth --calib "$ex/elman_tn64/calib.npy" --strict --weight-error 30
expect 0 "$tn" --target truenorth --calib "$ex/elman_tn64/calib.npy" --json --weight-error 30
jcheck "r['violations'] == [] and r['constraints']['weight_error_pct'] == 30"
expect 1 "$tn" --target truenorth --weight-error 0
names --weight-error

# --fan-in-strategy prune on the tiny networks (docs/QUANTIZE.md §6): layer
# 0's count-domain row [x1, x2, h0] = [4, 1, 1] / 7 (a_in 1, a_out 1.75) on
# [2, 2, 1] channels (signed inputs, ReLU hidden).  Prune ranks by magnitude
# (ties: lower index) and keeps a weight while its channels fit, derived
# below with numpy for F = 2, 3, 4: kept x1 / x1, h0 / x1, x2.  Compensation
# moves nothing (H diagonal, above), so the fan-in-only network of
# two_class is the float one with the dropped weights zeroed (h0 = 0: h0
# never acts); dropping x2 changes the class of 2 of 8 samples, a real cost
# (split's is 0).  Placement (the mapper's, docs/CHECK.md): one core with the
# hidden unit and the readout; 4 axons per channel the core reads: the kept
# input channels and h (the readout's input, and the hidden unit's own when
# kept, on the same axons); neurons: 4 copies of h + 1 readout = 5.
for F in 2 3 4; do
    expect 0 "$tiny/model.onnx" --target truenorth --json --calib "$tiny/calib.npy" --fan-in $F --fan-in-strategy prune
    cp "$tmp/out" "$tmp/prune$F.json"
    expect 0 "$tiny/two_class.onnx" --target truenorth --json --calib "$tiny/calib.npy" --fan-in $F --fan-in-strategy prune
    "$py" - "$tmp/prune$F.json" "$tmp/out" "$tiny" $F <<'EOF' || fail "prune --fan-in $F: figures differ from the numpy derivation"
import json, sys
from fractions import Fraction
import numpy as np
r, cc = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["constraint_cost"]
F = int(sys.argv[4])
p = np.load(sys.argv[3] + "/two_class_params.npy").astype(np.float64)
W, U, b, V, c = p[0:2], p[2], p[3], p[4:6].reshape(2, 1), p[6:8]
x = np.load(sys.argv[3] + "/calib.npy").astype(np.float64)[0]
a_in, a_h = 1.0, 1.75
# the exact values the float32 parameters stand for ([4, 1, 1] / 7: x2 and h0 tie)
mag = [Fraction(abs(float(v))).limit_denominator(1000) for v in (W[0] * a_in / a_h, W[1] * a_in / a_h, U)]
ch = [2, 2, 1]
keep, left = np.zeros(3, bool), F
for i in sorted(range(3), key=lambda i: (-mag[i], i)):
    if ch[i] <= left:
        keep[i], left = True, left - ch[i]
assert keep.tolist() == {2: [1, 0, 0], 3: [1, 0, 1], 4: [1, 1, 0]}[F], keep
def run(W):
    return np.maximum(x @ W + b, 0)[:, None] @ V.T + c
f, y = run(W), run(W * keep[:2])
lp = f - np.log(np.exp(f).sum(1, keepdims=True))
lq = y - np.log(np.exp(y).sum(1, keepdims=True))
want = ((f.argmax(1) == y.argmax(1)).mean(), (np.exp(lp) * (lp - lq)).sum(1).mean())
assert want[0] == (0.75 if F < 4 else 1), want
close = lambda g, w: g["agreement"] == w[0] and abs(g["kl"] - w[1]) <= 1e-6 * max(1, w[1])
ok = [l["pruned"] for l in r["layers"]] == [3 - keep.sum(), 0]
ok &= r["constraints"]["fan_in_strategy"] == "prune" and cc["fan_in_strategy"] == "prune"
ok &= close(cc["fan_in"], want) and close(cc["layers"][0]["fan_in"], want)
ok &= close(cc["layers"][1]["fan_in"], (1.0, 0.0))
ok &= r["totals"] == {"cores": 1, "axons": 4 * int(ch[0] * keep[0] + ch[1] * keep[1] + 1), "neurons": 5,
                      "mappable": True, "splitter_cores": 0}
print(want, r["totals"], [l["pruned"] for l in r["layers"]], cc["fan_in"]) if not ok else None
sys.exit(0 if ok else 1)
EOF
done

# Prune on elman_h128 (calibrated, F = 64): a pruned neuron keeps its own
# 64 of 136 columns, so neurons share a core only while the union of their
# inputs fits 64 axon groups: the mapper gives every hidden neuron its own
# core and relays the hidden units' spikes through splitter cores.  check's
# estimate is that placement; it matches the cores convert reports for the
# same constrained network.  The estimate places the lowered netlist, convert
# the matched one: with the per-neuron ranges the method search chooses here,
# matching moves one relay core (check 229 / 91 relays, convert 228 / 90), so
# this is asserted with one range per layer, where the two placements
# coincide, and without fine-tuning (it changes the codes, and the placement
# by one core of 213).
expect 0 "$h" --target truenorth --json --calib "$ex/elman_h128/calib.npy" --fan-in-strategy prune \
    --no-per-neuron-ranges
cp "$tmp/out" "$tmp/h128prune.json"
"$snnc" convert "$h" --target truenorth --calib "$ex/elman_h128/calib.npy" --fan-in-strategy prune \
    --no-per-neuron-ranges --finetune-steps 0 -o "$tmp/convh" >/dev/null 2>&1 || fail "convert elman_h128 --fan-in-strategy prune"
"$py" -c "import json; c=json.load(open('$tmp/h128prune.json')); m=json.load(open('$tmp/convh/report.json'))['mapping']
t = c['totals']
assert t['cores'] == m['cores'] and t['splitter_cores'] == m['relay_cores'] > 0, (t, m['cores'], m['relay_cores'])
assert c['layers'][0]['estimate']['cores'] == 128 and t['mappable'], c['layers'][0]['estimate']" ||
    fail "elman_h128 prune: check's cores differ from convert's"
expect 1 "$tn" --target truenorth --fan-in-strategy merge
names --fan-in-strategy

# Usage errors (1) and invalid files (2).
expect 0 --help
grep -q "^usage: snnc check" "$tmp/out" || fail "--help: no usage on stdout"
expect 1 "$tn"
names --target
expect 1 "$tn" --target loihi
grep -q "truenorth" "$tmp/err" || fail "unknown target: accepted targets not named"
expect 1 "$tn" --target truenorth --weight-levels 1
names --weight-levels
expect 1 "$tn" --target truenorth --fan-in 65
names --fan-in
expect 1 "$tn" --target truenorth --activity-levels x
names --activity-levels
expect 1 "$tn" --target truenorth --bogus
names --bogus
expect 1 --target truenorth
names MODEL
expect 1 "$tn" --target truenorth --calib nosuch=input.npy
names nosuch
expect 2 "$tmp/missing.onnx" --target truenorth
names missing.onnx
expect 2 "$tn" --target truenorth --calib "$tmp/missing.npy"
names missing.npy
echo garbage >"$tmp/bad.onnx"
expect 2 "$tmp/bad.onnx" --target truenorth
names bad.onnx

[ "$fails" = 0 ] && echo "check: all passed" || echo "check: $fails failed"
[ "$fails" = 0 ]
