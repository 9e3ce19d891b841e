#!/bin/sh
# outdir.sh — CLI contract: `snnc simulate OUTDIR` and `snnc report`
# trust nothing in an OUTDIR.  Every part is checked against
# OUTDIR/manifest.json (SHA-256, recomputed here with Python's hashlib): a
# changed, truncated, missing or swapped-in part (truenorth/model.json from
# another conversion) is refused, exit 2, naming the part; report.json is
# checked field by field (edited and the manifest re-signed, so that the
# field check itself is reached): non-numeric, huge, negative, missing,
# wrong-type fields are refused naming the file and the field.  The happy
# path still works, and convert's outputs stay byte-identical.
. "$(dirname "$0")/lib.sh"
contract_init outdir "$@"
E=$EX/elman_tn64
M=$E/model.onnx
export OTHER=$EX/elman_relu/model.onnx

run_snnc convert "$M" --target truenorth -o "$T/a" --calib "$E/calib.npy"
expect_exit 0 "convert a"
run_snnc convert "$M" --target truenorth -o "$T/a2" --calib "$E/calib.npy"
expect_exit 0 "convert a again"
CHECKS=$((CHECKS + 1))
diff -r "$T/a" "$T/a2" >/dev/null || contract_fail "two conversions differ"
# Another conversion of the same network (no calibration data), and one of
# more cores (fan-in 32: the hidden layer's 64 columns split in 2 groups).
run_snnc convert "$M" --target truenorth -o "$T/b"
expect_exit 0 "convert b"
run_snnc convert "$M" --target truenorth -o "$T/c" --fan-in 32
expect_exit 0 "convert c"

# The manifest lists every file with its SHA-256 (checked independently).
CASES=$((CASES + 1)) CHECKS=$((CHECKS + 1))
$PY - "$T/a" <<'EOF' || contract_fail "manifest.json does not hold the parts' SHA-256"
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
files = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
files.remove("manifest.json")
assert m["digest"] == "sha256" and sorted(m["parts"]) == files, (sorted(m["parts"]), files)
for f in files:
    assert m["parts"][f] == hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest(), f
EOF

# edit.py DIR SIGN PYTHON: runs PYTHON with r (report.json), m
# (manifest.json) and d (DIR) bound; writes r back when it was loaded and
# changed; re-signs every listed part when SIGN is 1.
cat >"$T/edit.py" <<'EOF'
import hashlib, json, os, sys
d, sign, code = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
r = json.load(open(d + "/report.json"))
m = json.load(open(d + "/manifest.json"))
before = json.dumps(r)
exec(code)
if r is not None and json.dumps(r) != before:
    open(d + "/report.json", "w").write(json.dumps(r, indent=2))
if sign:
    for p in m["parts"]:
        if os.path.isfile(os.path.join(d, p)):
            m["parts"][p] = hashlib.sha256(open(os.path.join(d, p), "rb").read()).hexdigest()
if m is not None:
    open(d + "/manifest.json", "w").write(json.dumps(m, indent=2))
EOF

# refused CASE SIGN PYTHON TEXT...: on a copy of a, edited, both readers
# exit 2 saying every TEXT.
refused() {
    name=$1 sign=$2 code=$3
    shift 3
    rm -rf "$T/x"
    cp -r "$T/a" "$T/x"
    $PY "$T/edit.py" "$T/x" "$sign" "$code" || { contract_fail "$name: edit failed"; return; }
    run_snnc simulate "$T/x" --input "$E/input.npy" --output "$T/scores.npy"
    expect_exit 2 "simulate: $name" && expect_said "simulate: $name" "$@"
    expect_absent "simulate: $name" "$T/scores.npy"
    expect_before_work "simulate: $name"
    run_snnc report "$T/x"
    expect_exit 2 "report: $name" && expect_said "report: $name" "$@"
}
F="$T/x/report.json: field"

# --- parts: changed, swapped, truncated, missing (manifest not re-signed)
refused "report.json edited" 0 'r["constraints"]["seed"] = 2' \
    "$T/x/report.json: SHA-256 differs" "another conversion"
refused "model.json of another conversion" 0 'import shutil; shutil.copy(d + "/../b/truenorth/model.json", d + "/truenorth/model.json")' \
    "$T/x/truenorth/model.json: SHA-256 differs"
refused "model.json of another core count" 0 'import shutil; shutil.copy(d + "/../c/truenorth/model.json", d + "/truenorth/model.json")' \
    "$T/x/truenorth/model.json: SHA-256 differs"
refused "model.onnx of another network" 0 'import shutil; shutil.copy(os.environ["OTHER"], d + "/model.onnx")' \
    "$T/x/model.onnx: SHA-256 differs"
refused "model.json truncated" 0 'b = open(d + "/truenorth/model.json", "rb").read(); open(d + "/truenorth/model.json", "wb").write(b[:len(b) // 2])' \
    "$T/x/truenorth/model.json: SHA-256 differs"
refused "calib.npy truncated" 0 'b = open(d + "/calib.npy", "rb").read(); open(d + "/calib.npy", "wb").write(b[:-4])' \
    "$T/x/calib.npy: SHA-256 differs"
refused "plot changed" 0 'open(d + "/plots/_rnn_RNN.svg", "a").write(" ")' "$T/x/plots/_rnn_RNN.svg: SHA-256 differs"
refused "model.json missing" 0 'os.remove(d + "/truenorth/model.json")' \
    "truenorth/model.json" "No such file"
refused "model.json a directory" 0 'os.remove(d + "/truenorth/model.json"); os.mkdir(d + "/truenorth/model.json")' \
    "$T/x/truenorth/model.json: not a regular file"
refused "manifest missing" 0 'os.remove(d + "/manifest.json"); m = None' "$T/x/manifest.json" "convert again"
refused "manifest truncated" 0 'm = None; open(d + "/manifest.json", "w").write("{\"digest\": \"sha2")' "$T/x/manifest.json"
refused "manifest digest kind" 0 'm["digest"] = "md5"' "$T/x/manifest.json: field digest"
refused "manifest parts not an object" 0 'm["parts"] = []' "$T/x/manifest.json: field parts"
refused "manifest part not hex" 0 'm["parts"]["network.json"] = "XYZ"' \
    "$T/x/manifest.json: part 'network.json': expected 64 hexadecimal digits"
refused "manifest part number" 0 'm["parts"]["network.json"] = 5' "part 'network.json': expected 64"
refused "manifest part outside" 0 'm["parts"]["../a/report.json"] = m["parts"]["report.json"]' \
    "part '../a/report.json': not a path inside OUTDIR"
refused "manifest part absolute" 0 'm["parts"]["/etc/passwd"] = m["parts"]["report.json"]' \
    "part '/etc/passwd': not a path inside OUTDIR"
refused "manifest without model.json" 0 'del m["parts"]["truenorth/model.json"]' \
    "$T/x/manifest.json: part 'truenorth/model.json' not listed"
refused "manifest without calib.npy" 0 'del m["parts"]["calib.npy"]' "part 'calib.npy' not listed"

# --- report.json fields (edited, manifest re-signed)
refused "fan_in non-numeric" 1 'r["constraints"]["fan_in"] = "abc"' \
    "$F constraints.fan_in: expected an integer in 1..64" '"abc"'
refused "fan_in real" 1 'r["constraints"]["fan_in"] = 8.5' "$F constraints.fan_in: expected an integer"
refused "fan_in huge" 1 'r["constraints"]["fan_in"] = 10**12' "$F constraints.fan_in" "1000000000000"
refused "fan_in 0" 1 'r["constraints"]["fan_in"] = 0' "$F constraints.fan_in: expected an integer in 1..64"
refused "weight_levels negative" 1 'r["constraints"]["weight_levels"] = -3' "$F constraints.weight_levels: expected an integer in 2..16"
refused "weight_levels 17" 1 'r["constraints"]["weight_levels"] = 17' "$F constraints.weight_levels"
refused "activity_levels missing" 1 'del r["constraints"]["activity_levels"]' \
    "$F constraints.activity_levels: missing"
refused "seed negative" 1 'r["constraints"]["seed"] = -1' "$F constraints.seed: expected an integer in 0..4611686018427387904"
refused "seed huge" 1 'r["constraints"]["seed"] = 2**63 - 1' "$F constraints.seed"
refused "percentile low" 1 'r["constraints"]["percentile"] = 1e-300' "$F constraints.percentile: expected a number in 50..100"
refused "percentile string" 1 'r["constraints"]["percentile"] = "99.9"' "$F constraints.percentile"
refused "rounding unknown" 1 'r["constraints"]["rounding"] = "banana"' \
    "$F constraints.rounding: expected one of nearest|stochastic" '"banana"'
refused "compensate a number" 1 'r["constraints"]["compensate"] = 1' "$F constraints.compensate: expected true or false"
refused "constraints an array" 1 'r["constraints"] = [16, 16, 64]' "$F constraints: expected an object"
refused "constraints missing" 1 'del r["constraints"]' "$F constraints: missing"
refused "cores huge real" 1 'r["cores"] = 1e300' "$F cores: expected an integer in 0..2147483647"
refused "cores string" 1 'r["cores"] = "12"' "$F cores"
refused "cores negative" 1 'r["cores"] = -1' "$F cores"
refused "window 0" 1 'r["window"] = 0' "$F window: expected an integer in 1..15"
refused "steps null" 1 'r["steps"] = None' "$F steps" "got null"
refused "power_w negative" 1 'r["power_w"] = -1.5' "$F power_w"
refused "power constant value string" 1 'r["power"]["constants"][1]["value"] = "x"' "$F power.constants[1].value"
refused "layer fan_in huge" 1 'r["layers"][0]["fan_in"] = 3 * 10**9' "$F layers[0].fan_in"
refused "layer name number" 1 'r["layers"][1]["layer"] = 7' "$F layers[1].layer: expected a string"
refused "layer not an object" 1 'r["layers"][1] = 7' "$F layers[1]: expected an object"
refused "per-core synapses negative" 1 'r["mapping"]["per_core"][0]["synapses"] = -5' \
    "$F mapping.per_core[0].synapses"
refused "matching sign 2" 1 'r["matching"][1]["sign"] = 2' "$F matching[1].sign: expected an integer in -1..1"
refused "violations an object" 1 'r["violations"] = {}' "$F violations: expected an array"
refused "violation value huge" 1 'r["violations"] = [{"layer": "x", "kind": "k", "value": 1e300, "limit": 0, "detail": ""}]' \
    "$F violations[0].value"
refused "calib a path" 1 'r["calib"] = "../../../etc/passwd"' "$F calib: expected one of calib.npy or null"
refused "target loihi" 1 'r["target"] = "loihi"' "$F target: expected one of truenorth"
refused "report not an object" 1 'r = None; open(d + "/report.json", "w").write("[1, 2]")' "$T/x/report.json: not a JSON object"
refused "report truncated" 1 'b = open(d + "/report.json").read(); r = None; open(d + "/report.json", "w").write(b[:100])' \
    "$T/x/report.json:"
refused "report duplicate key" 1 'r = None; b = open(d + "/report.json").read(); open(d + "/report.json", "w").write(b.replace("{", "{\"cores\": 1,", 1))' \
    "$T/x/report.json:" "duplicate"
# A model.json of another conversion whose manifest was re-signed: simulate
# (report does not read it) refuses it by its core count (fan-in 32: more
# than the one core of a).
rm -rf "$T/x"
cp -r "$T/a" "$T/x"
cp "$T/c/truenorth/model.json" "$T/x/truenorth/model.json"
$PY "$T/edit.py" "$T/x" 1 pass
run_snnc simulate "$T/x" --input "$E/input.npy"
expect_exit 2 "model.json of another network, re-signed" &&
    expect_said "model.json of another network, re-signed" "$T/x/truenorth/model.json" "belongs to another conversion"

# Constraints in range that this network cannot realise (fan-in 1: see
# options.sh), re-signed: simulate refuses them as the report's (exit 2),
# fast, not as a usage error.
rm -rf "$T/x"
cp -r "$T/a" "$T/x"
$PY "$T/edit.py" "$T/x" 1 'r["constraints"]["fan_in"] = 1'
run_snnc simulate "$T/x" --input "$E/input.npy"
expect_exit 2 "fan_in 1, re-signed" &&
    expect_said "fan_in 1, re-signed" "$T/x/report.json: constraints" "fan-in 1 cannot be realised"
expect_before_work "fan_in 1, re-signed"

# Not an OUTDIR: a missing directory, a file.
run_snnc simulate "$T/none" --input "$E/input.npy"
expect_exit 2 "missing OUTDIR" && expect_said "missing OUTDIR" "$T/none/report.json"
run_snnc report "$E/model.onnx"
expect_exit 2 "OUTDIR a file" && expect_said "OUTDIR a file" "not a directory"

# Happy path: unchanged, re-signed unchanged, and a valid edit (a null
# residual, as convert writes without calibration data) re-signed.
for c in "pass" 'r["matching"][0]["residual"] = None'; do
    rm -rf "$T/x"
    cp -r "$T/a" "$T/x"
    $PY "$T/edit.py" "$T/x" 1 "$c"
    run_snnc report "$T/x" --json
    expect_exit 0 "report ($c)"
done
run_snnc simulate "$T/a" --input "$E/input.npy" --labels "$E/labels.npy" --json
expect_exit 0 "simulate a"
CHECKS=$((CHECKS + 1))
grep -q '"truenorth": 0\.9' "$T/out" || contract_fail "simulate a: accuracy not above 0.9"
run_snnc report "$T/a"
expect_exit 0 "report a" && CHECKS=$((CHECKS + 1)) &&
    { grep -q "^cores *1$" "$T/out" || contract_fail "report a: cores not 1"; }

contract_done
