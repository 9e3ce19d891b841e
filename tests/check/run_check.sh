#!/bin/bash
# run_check.sh — tests of `snnc check` (cli/cmd_check.c, docs/CHECK.md) on
# the examples: fan-in within/over the limit, the one-core estimate of the
# paper's shape, unsupported layers, --strict, weight levels, bad arguments.
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
jcheck "r['totals'] == {'cores': 1, 'axons': 256, 'neurons': 234, 'mappable': True}"
jcheck "r['layers'][0]['copies'] == {'min': 4, 'max': 4} and r['layers'][1]['copies']['max'] == 1"
jcheck "all(set(v) == {'layer','kind','value','limit','detail'} for v in r['violations'])"
jcheck "r['constraints']['calibrated'] and 0 <= r['layers'][0]['output_rel_error'] < 1"
jcheck "0.01 < r['layers'][0]['weight_rel_error'] < 0.3 and r['layers'][0]['levels_for_1pct'] > 16"

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

# Usage errors (1) and invalid files (2).
expect 0 --help
expect 1 "$tn"
expect 1 "$tn" --target loihi
grep -q "truenorth" "$tmp/err" || fail "unknown target: accepted targets not named"
expect 1 "$tn" --target truenorth --weight-levels 1
expect 1 "$tn" --target truenorth --fan-in 65
expect 1 "$tn" --target truenorth --activity-levels x
expect 1 "$tn" --target truenorth --bogus
expect 1 --target truenorth
expect 1 "$tn" --target truenorth --calib nosuch=input.npy
expect 2 "$tmp/missing.onnx" --target truenorth
expect 2 "$tn" --target truenorth --calib "$tmp/missing.npy"
echo garbage >"$tmp/bad.onnx"
expect 2 "$tmp/bad.onnx" --target truenorth

[ "$fails" = 0 ] && echo "check: all passed" || echo "check: $fails failed"
[ "$fails" = 0 ]
