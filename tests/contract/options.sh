#!/bin/sh
# options.sh — CLI contract: every numeric option is refused outside the
# range the pipeline can do, up front (usage error, exit 1, the option and
# the accepted range named, within a couple of seconds, no OUTDIR); values
# at the bounds are accepted; --help states the defaults convert records;
# and `snnc check` refuses what `snnc convert` refuses, the same way.
. "$(dirname "$0")/lib.sh"
contract_init options "$@"
E=$EX/elman_tn64
M=$E/model.onnx

# refused CASE_ARGS... : convert with these options is a usage error naming
# the option ($1 of the case), before the matching step, and leaves no OUTDIR.
refused() {
    what=$1 range=$2
    shift 2
    run_snnc convert "$M" --target truenorth -o "$T/o" "$@"
    expect_exit 1 "convert $*" && expect_said "convert $*" "$what" "$range"
    expect_before_work "convert $*"
    expect_absent "convert $*" "$T/o"
}

# Constraint options: just outside each bound, non-numbers, NaN/inf
# spellings, overflow, white space, hexadecimal, trailing junk.
for v in 1 17 0 -2 x "" " 4" 4x 0x10 2.5 nan inf 99999999999999999999; do
    refused --weight-levels 2..16 --weight-levels "$v"
    refused --activity-levels 2..16 --activity-levels "$v"
done
for v in 0 65 -1 x "" 1e1 NaN 9223372036854775808; do
    refused --fan-in 1..64 --fan-in "$v"
done
for v in -1 4611686018427387905 18446744073709551616 x 1.5 " 1" +x; do
    refused --seed 0..4611686018427387904 --seed "$v"
done
# --percentile: 50..100 (below the median ranges degenerate: the issue's
# 1e-300 ended in an internal "mult 222" error after matching).
for v in 49.99 1e-300 0 -0 100.0001 1e999 nan NAN inf -inf infinity 0x1p6 "" " 60" 60x .; do
    refused --percentile 50..100 --percentile "$v"
done
for o in --fan-in-strategy --rounding --scale; do
    refused "$o" "one of" "$o" bogus
    refused "$o" "needs a value" "$o"
done
refused "--fan-in given twice" "" --fan-in 8 --fan-in 16
refused "--seed given twice" "" --seed 3 --seed 3
refused "--rounding given twice" "" --rounding nearest --rounding stochastic
refused "-o given twice" "" -o "$T/o2"
refused "unknown option '--fan_in'" "" --fan_in 8

# The bounds themselves are accepted (no calibration data: fast).
run_snnc convert "$M" --target truenorth -o "$T/lo" --weight-levels 2 --activity-levels 3 \
    --percentile 50 --seed 4611686018427387904 --rounding stochastic
expect_exit 0 "lower bounds"
run_snnc convert "$M" --target truenorth -o "$T/hi" --weight-levels 16 --activity-levels 16 \
    --percentile 100 --seed 0 --fan-in 64 --fan-in-strategy prune --fan-in 64
expect_exit 1 "--fan-in twice, same value"
run_snnc convert "$M" --target truenorth -o "$T/hi" --weight-levels 16 --activity-levels 16 \
    --percentile 100 --seed 0 --fan-in 64 --fan-in-strategy prune
expect_exit 0 "upper bounds"
# --fan-in 1 with prune: one input per neuron fits a core when the input
# is nonnegative (the calibration data, 0..1); ranges from the weights alone
# are signed, two spike channels, which fan-in 1 cannot hold.
run_snnc convert "$M" --target truenorth -o "$T/p1" --fan-in 1 --fan-in-strategy prune
expect_exit 1 "--fan-in 1 prune, signed" && expect_said "--fan-in 1 prune, signed" "fan-in 1" "at least 2"
run_snnc convert "$M" --target truenorth -o "$T/p1" --fan-in 1 --fan-in-strategy prune --calib "$E/calib.npy"
expect_exit 0 "--fan-in 1 prune"

# --tanh-coding takes auto, offset or pair (docs/CONVERSION.md §3).
run_snnc convert "$M" --target truenorth -o "$T/tc" --tanh-coding both
expect_exit 1 "--tanh-coding both" && expect_said "--tanh-coding both" "--tanh-coding"

# --help states the defaults convert records in report.json.
run_snnc convert "$M" --target truenorth -o "$T/d"
expect_exit 0 "defaults"
run_snnc convert --help
expect_exit 0 "convert --help"
CASES=$((CASES + 1)) CHECKS=$((CHECKS + 1))
$PY - "$T/out" "$T/d/report.json" <<'EOF' || contract_fail "--help defaults differ from report.json"
import json, re, sys
help = open(sys.argv[1]).read()
c = json.load(open(sys.argv[2]))["constraints"]
for flag, key in [("--seed", "seed"), ("--weight-levels", "weight_levels"),
                  ("--activity-levels", "activity_levels"), ("--fan-in", "fan_in"),
                  ("--percentile", "percentile")]:
    m = re.search(r"^\s*" + flag + r" \S+\s.*?\(default ([0-9.]+)", help, re.M | re.S)
    assert m, flag
    assert float(m.group(1)) == float(c[key]), (flag, m.group(1), c[key])
EOF

# A fan-in the split network cannot realise: elman_tn64's hidden layer
# reads 8 inputs + 56 hidden = 64 one-channel (ReLU) columns; fan-in F
# makes ceil(64 / F) groups, and a final neuron reads a pair of partial
# sums per group, at most 64 inputs on a core: 2 ceil(64 / F) <= 64, so
# F >= 2.  Refused before matching (which took 26 s before failing), and
# check refuses it in the same words.
for cmd in convert check; do
    case $cmd in convert) out="-o $T/f1" ;; check) out="" ;; esac
    run_snnc $cmd "$M" --target truenorth $out --calib "$E/calib.npy" --fan-in 1
    expect_exit 1 "$cmd --fan-in 1" && expect_said "$cmd --fan-in 1" "--fan-in 1 cannot be realised" \
        "accepted for it: 2..64" "has 128 inputs"
    expect_before_work "$cmd --fan-in 1"
    grep -o 'error: .*' "$T/err" >"$T/$cmd.msg"
done
expect_absent "convert --fan-in 1" "$T/f1"
CHECKS=$((CHECKS + 1))
cmp -s "$T/convert.msg" "$T/check.msg" || contract_fail "check and convert word --fan-in 1 differently"
# elman_h128: 8 + 128 = 136 hidden columns, 2 ceil(136 / F) <= 64 needs
# F >= 5 (F = 4: 34 groups, 68 inputs); its readout's 128 columns need F >= 4.
H=$EX/elman_h128
run_snnc check "$H/model.onnx" --target truenorth --calib "$H/calib.npy" --fan-in 4
expect_exit 1 "h128 check --fan-in 4" &&
    expect_said "h128 check --fan-in 4" "accepted for it: 5..64" "has 68 inputs"
# With --fan-in-strategy prune every neuron keeps at most F channels and no
# partial sums are needed: --fan-in 1 is realisable for elman_tn64
# calibrated (one-channel inputs and hidden units), and both commands
# accept it; check's cores are those convert reports.  Uncalibrated, the
# inputs are signed (two channels each): F = 1 cannot hold one, and both
# refuse it the same way.
for cmd in convert check; do
    case $cmd in convert) out="-o $T/prune1" ;; check) out="--json" ;; esac
    run_snnc $cmd "$M" --target truenorth $out --calib "$E/calib.npy" --fan-in 1 --fan-in-strategy prune
    expect_exit 0 "$cmd --fan-in 1 --fan-in-strategy prune" && cp "$T/out" "$T/prune1.$cmd"
done
CHECKS=$((CHECKS + 1))
/usr/bin/python3 -c "import json; c=json.load(open('$T/prune1.check')); m=json.load(open('$T/prune1/report.json'))
assert c['totals']['cores'] == m['cores'] and c['totals']['mappable'], (c['totals'], m['cores'])
assert not [v for v in c['violations'] if v['kind'] == 'unmappable']" ||
    contract_fail "check --fan-in 1 --fan-in-strategy prune: predicted cores differ from convert's"
for cmd in convert check; do
    case $cmd in convert) out="-o $T/prune2" ;; check) out="" ;; esac
    run_snnc $cmd "$M" --target truenorth $out --fan-in 1 --fan-in-strategy prune
    expect_exit 1 "$cmd --fan-in 1 prune, signed inputs" &&
        expect_said "$cmd --fan-in 1 prune" "fan-in 1 cannot hold a signed input"
    expect_before_work "$cmd --fan-in 1 --fan-in-strategy prune"
    grep -o 'error: .*' "$T/err" >"$T/$cmd.msg"
done
expect_absent "convert --fan-in 1 prune" "$T/prune2"
CHECKS=$((CHECKS + 1))
cmp -s "$T/convert.msg" "$T/check.msg" || contract_fail "check and convert word --fan-in 1 prune differently"
# fan-in 2 fits: check predicts success (no unmappable violation).
run_snnc check "$M" --target truenorth --calib "$E/calib.npy" --fan-in 2 --strict
expect_exit 3 "check --fan-in 2"
CHECKS=$((CHECKS + 1))
grep -q unmappable "$T/out" && contract_fail "check --fan-in 2: predicted unmappable"
# A split recurrence needs a window of 2 ticks: activity levels 2 give a
# window of 1 (nonnegative input: W = levels - 1), so 3..16 with fan-in 8.
for cmd in convert check; do
    case $cmd in convert) out="-o $T/a2" ;; check) out="" ;; esac
    run_snnc $cmd "$M" --target truenorth $out --activity-levels 2 --fan-in 8
    expect_exit 1 "$cmd --activity-levels 2 --fan-in 8" &&
        expect_said "$cmd --activity-levels 2" "--activity-levels 2 cannot be realised" \
            "accepted for it: 3..16" "split recurrence"
    expect_before_work "$cmd --activity-levels 2 --fan-in 8"
done
expect_absent "convert --activity-levels 2" "$T/a2"
# Levels beyond TrueNorth's: convert refuses them up front; check (an
# inspector that accepts up to 256 / 65536) says convert would refuse.
run_snnc check "$M" --target truenorth --weight-levels 32 --strict
expect_exit 3 "check --weight-levels 32" && CHECKS=$((CHECKS + 1)) &&
    { grep -q "unmappable.*weight code" "$T/out" || contract_fail "check --weight-levels 32: no unmappable"; }
run_snnc check "$M" --target truenorth --activity-levels 17 --strict
expect_exit 3 "check --activity-levels 17" && CHECKS=$((CHECKS + 1)) &&
    { grep -q "unmappable.*window of 16" "$T/out" || contract_fail "check --activity-levels 17: no unmappable"; }

# check's own options.
checkrefused() {
    what=$1 range=$2
    shift 2
    run_snnc check "$M" --target truenorth "$@"
    expect_exit 1 "check $*" && expect_said "check $*" "$what" "$range"
}
for v in 1 257 x nan; do checkrefused --weight-levels 2..256 --weight-levels "$v"; done
for v in 1 65537 " 3"; do checkrefused --activity-levels 2..65536 --activity-levels "$v"; done
for v in 0 65 ""; do checkrefused --fan-in 1..64 --fan-in "$v"; done
for v in 0 -0.5 100.5 nan inf 1e400 x; do checkrefused --weight-error "(0, 100]" --weight-error "$v"; done
checkrefused "--fan-in given twice" "" --fan-in 8 --fan-in 8
checkrefused "--target given twice" "" --target truenorth
run_snnc check "$M" --target truenorth --weight-error 100 --json --json
expect_exit 0 "check --weight-error 100, --json twice"

contract_done
