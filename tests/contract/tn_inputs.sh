#!/bin/sh
# tn_inputs.sh — CLI contract for what `snnc inspect MODEL.json` and
# `snnc simulate MODEL.json --spikes IN.csv` are given (issue 8):
#  - models with one parameter or field just outside its range: inspect and
#    simulate both refuse (exit 2) naming the file, the neuron type or core
#    (and neuron) and the field; just inside: both accept (one range table,
#    truenorth/tn_ranges.c).  Negative magnitudes s_k / lambda simulate as
#    the product sigma * s (derived below from the model's diagonal crossbar).
#  - model files with a NUL byte or text after the object: refused.
#  - spike files: malformed lines, NUL bytes, negative values, unknown cores,
#    axons out of range refused naming file:line and the field, no output
#    left; spikes at ticks >= --ticks, repeated lines and empty files
#    accepted with a warning saying what was not used; CRLF, blanks,
#    comments and any order accepted silently.
#  - unknown keys in a model: accepted with a warning naming the first.
# Fixtures are derived at test time from tests/unit/data/truenorth/
# BootCampExample11.json: one core (id 0), one neuron type N00000001 (s0 1,
# alpha 1, no leak, linear reset), crossbar row k = neuron k (axon k -> neuron
# k, type S0), every neuron used, destinations leaving the model.  So an
# input spike (t, 0, k) makes neuron k fire in tick t: output line "t,0,k".
. "$(dirname "$0")/lib.sh"
contract_init tn_inputs "$@"
BASE=$(cd "$(dirname "$0")/../unit/data/truenorth" && pwd)/BootCampExample11.json
[ -f "$BASE" ] || { echo "tn_inputs: missing fixture $BASE" >&2; exit 1; }

# expect_quiet CASE: stderr is empty (nothing to warn about)
expect_quiet() {
    CHECKS=$((CHECKS + 1))
    [ -s "$T/err" ] && contract_fail "$1: unexpected message: $(head -2 "$T/err")"
    return 0
}
# expect_file CASE FILE TEXT: FILE holds exactly TEXT (printf format)
expect_file() {
    CHECKS=$((CHECKS + 1))
    printf "$3" >"$T/want"
    cmp -s "$2" "$T/want" || contract_fail "$1: $2 holds '$(tr '\n' ' ' <"$2" 2>/dev/null)', expected '$(tr '\n' ' ' <"$T/want")'"
}

# mk NAME KEY VALUE: the base model with the neuron-type parameter KEY set to
# VALUE (the type library is one line: "KEY":value). mkraw NAME OLD NEW:
# the base model with the first text OLD replaced by NEW.
mk() { "$PY" - "$BASE" "$T/$1.json" "$2" "$3" <<'EOF'
import re, sys
src, dst, key, val = sys.argv[1:]
t = open(src).read()
t2, n = re.subn('"%s":[-a-z0-9]+' % re.escape(key), '"%s":%s' % (key, val), t, count=1)
assert n == 1, key
open(dst, "w").write(t2)
EOF
}
mkraw() { "$PY" - "$BASE" "$T/$1.json" "$2" "$3" <<'EOF'
import sys
src, dst, old, new = sys.argv[1:]
t = open(src).read()
assert old in t, old
open(dst, "w").write(t.replace(old, new, 1))
EOF
}

# both CASE MODEL TEXT...: inspect and simulate refuse MODEL (exit 2), both
# messages naming the file and every TEXT; no output spikes left behind.
both() {
    c=$1 model=$2
    shift 2
    run_snnc inspect "$model"
    expect_exit 2 "$c (inspect)" && expect_said "$c (inspect)" "$(basename "$model")" "$@"
    rm -f "$T/o.csv"
    run_snnc simulate "$model" --ticks 3 --output-spikes "$T/o.csv"
    expect_exit 2 "$c (simulate)" && expect_said "$c (simulate)" "$(basename "$model")" "$@"
    expect_absent "$c (simulate)" "$T/o.csv"
}
# accept CASE MODEL: inspect and simulate both accept it.
accept() {
    run_snnc inspect "$2"
    expect_exit 0 "$1 (inspect)"
    run_snnc simulate "$2" --ticks 3
    expect_exit 0 "$1 (simulate)"
}

# --- neuron-type parameters just outside their ranges (docs/TRUENORTH_FORMAT.md)
for kv in sigma0=0 sigma0=2 sigma3=-2 s0=256 s0=-256 s2=256 b0=2 b3=-1 sigma_lambda=0 \
    lambda=256 lambda=-256 c_lambda=2 epsilon=2 alpha=262144 alpha=-1 beta=262144 beta=-1 \
    TM=19 TM=-1 gamma=3 gamma=-1 kappa=2 sigma_VR=0 VR=19 VR=-1 V=524288 V=-524289; do
    k=${kv%%=*} v=${kv#*=}
    mk "p_$k$v" "$k" "$v"
    both "type $kv" "$T/p_$k$v.json" "neuron type 'N00000001'" "parameter \"$k\" = $v is out of range"
done
# ... and just inside: both accept (the reader and the simulator used to
# disagree on negative s_k and lambda)
for kv in s0=-255 s0=255 s1=-1 lambda=-255 lambda=255 alpha=262143 beta=262143 TM=18 VR=18 \
    V=524287 V=-524288 sigma_VR=-1 gamma=2; do
    mk "in_$kv" "${kv%%=*}" "${kv#*=}"
    accept "type $kv in range" "$T/in_$kv.json"
done
mkraw kappa_true '"kappa":false' '"kappa":true'
accept "type kappa true" "$T/kappa_true.json"
mkraw alpha_str '"alpha":1' '"alpha":"1"'
both "type alpha a string" "$T/alpha_str.json" "neuron type 'N00000001'" '"alpha" must be an integer'
mkraw no_tm '"TM":0,' ''
both "type TM missing" "$T/no_tm.json" "neuron type 'N00000001'" 'missing parameter "TM"'

# --- core and per-neuron fields just outside their ranges
both "destAxons 256" "$(mkraw da1 '"destAxons":["0:255"]' '"destAxons":["0:254",256]'; echo "$T/da1.json")" \
    "core 0" "neuron 255: destination axon 256 is out of range 0..255 (neurons.destAxons)"
both "destAxons -1" "$(mkraw da2 '"destAxons":["0:255"]' '"destAxons":[-1,"1:255"]'; echo "$T/da2.json")" \
    "core 0" "neuron 0: destination axon -1 is out of range 0..255 (neurons.destAxons)"
both "destDelays 0" "$(mkraw dd1 '"destDelays":["1x256"]' '"destDelays":[0,"1x255"]'; echo "$T/dd1.json")" \
    "core 0" "neuron 0: destination delay 0 is out of range 1..15 (neurons.destDelays)"
both "destDelays 16" "$(mkraw dd2 '"destDelays":["1x256"]' '"destDelays":["1x255",16]'; echo "$T/dd2.json")" \
    "core 0" "neuron 255: destination delay 16 is out of range 1..15 (neurons.destDelays)"
both "dendrites 256" "$(mkraw de1 '"dendrites":["0:255"]' '"dendrites":["0:254",256]'; echo "$T/de1.json")" \
    "core 0" "neuron 255: dendrite 256 is out of range 0..255 (neurons.dendrites)"
both "types -1" "$(mkraw ty1 '"types":["1x256"]' '"types":[-1,"1x255"]'; echo "$T/ty1.json")" \
    "core 0" "neuron 0: type number -1 is out of range 0..4294967295 (neurons.types)"
both "types 2^32" "$(mkraw ty2 '"types":["1x256"]' '"types":["1x255",4294967296]'; echo "$T/ty2.json")" \
    "core 0" "neuron 255: type number 4294967296 is out of range"
both "types undefined" "$(mkraw ty3 '"types":["1x256"]' '"types":["1x255",2]'; echo "$T/ty3.json")" \
    "core 0" "neuron 255: undefined neuron type 2"
both "id -1" "$(mkraw id1 '"id":0,' '"id":-1,'; echo "$T/id1.json")" '"id" = -1 is out of range'
both "rngSeed 2^32" "$(mkraw rs1 '"rngSeed":4294967295' '"rngSeed":4294967296'; echo "$T/rs1.json")" \
    "core 0" '"rngSeed" = 4294967296 is out of range 0..4294967295'
both "timeScaleExponent 2^31" "$(mkraw ts1 '"timeScaleExponent":0' '"timeScaleExponent":2147483648'; echo "$T/ts1.json")" \
    "core 0" '"timeScaleExponent" = 2147483648 is out of range'
both "axon type 4" "$(mkraw at1 '{"type":"S0"' '{"type":4'; echo "$T/at1.json")" \
    "crossbar prototype 'coreProt0000001'" 'row 0: axon "type" = 4 is out of range 0..3'
both "axon type S4" "$(mkraw at2 '{"type":"S0"' '{"type":"S4"'; echo "$T/at2.json")" \
    "crossbar prototype 'coreProt0000001'" 'row 0: axon "type" "S4" is not one of'
# an unused neuron (type 0) keeps any 32-bit value, as real files write -1
accept "unused neuron, delay 0" "$(mkraw un1 '"types":["1x256"],' '"types":[0,"1x255"],' &&
    "$PY" -c "import sys; p='$T/un1.json'; t=open(p).read(); open(p,'w').write(t.replace('\"destDelays\":[\"1x256\"]','\"destDelays\":[0,\"1x255\"]'))"
    echo "$T/un1.json")"

# --- unknown keys are skipped with a warning (a misspelt optional field)
mkraw typo '"rngSeed":4294967295' '"rngseed":4294967295'
run_snnc inspect "$T/typo.json"
expect_exit 0 "unknown key (inspect)" && expect_said "unknown key (inspect)" "warning: $T/typo.json: 1 key unknown to snnc skipped" 'core 0 (line ' 'key "rngseed"'
run_snnc simulate "$T/typo.json" --ticks 2
expect_exit 0 "unknown key (simulate)" && expect_said "unknown key (simulate)" "warning: $T/typo.json: 1 key unknown to snnc skipped"
mkraw typo2 '"class":"NeuronGeneral",' '"class":"NeuronGeneral","lamda":2,"tm":1,'
run_snnc inspect "$T/typo2.json"
expect_exit 0 "unknown keys in a type" && expect_said "unknown keys in a type" "2 keys unknown to snnc skipped" "neuron type 'N00000001' (line " 'key "lamda"'
run_snnc inspect "$BASE"
expect_exit 0 "the real file: no warning" && expect_quiet "the real file: no warning"

# --- the model file itself
{ cat "$BASE"; printf '\0more'; } >"$T/nul_end.json"
both "model: NUL after the object" "$T/nul_end.json" "a NUL byte"
{ printf '/* header \0 */\n'; cat "$BASE"; } >"$T/nul_comment.json"
both "model: NUL in a comment" "$T/nul_comment.json" "line 1, column 11: a NUL byte"
"$PY" -c "import sys; t=open('$BASE','rb').read(); open('$T/nul_mid.json','wb').write(t.replace(b'BootCampCoreletI', b'Boot\0CampCoreletI', 1))"
both "model: NUL in a string" "$T/nul_mid.json" "a NUL byte"
{ cat "$BASE"; printf '}\n'; } >"$T/trail1.json"
both "model: a second '}'" "$T/trail1.json" "unexpected text after the model object"
{ cat "$BASE"; printf '{"core": {}}\n'; } >"$T/trail2.json"
both "model: a second object" "$T/trail2.json" "unexpected text after the model object"
{ cat "$BASE"; printf 'garbage'; } >"$T/trail3.json"
both "model: trailing text" "$T/trail3.json" "line 310, column 1: unexpected text after the model object"
head -c 20000 "$BASE" >"$T/trunc.json"
both "model: truncated" "$T/trunc.json" "truncated"
: >"$T/empty.json"
both "model: empty" "$T/empty.json" "empty file"
{ cat "$BASE"; printf '\n/* trailing comment */\n\n'; } >"$T/trail_ok.json"
accept "model: comment and blanks after the object" "$T/trail_ok.json"

# --- negative magnitudes simulate as the product (derivation in the header):
# sigma0 -1, s0 -1 is weight +1 (neuron k fires with its input spike);
# sigma0 1, s0 -1 is weight -1 (nothing fires).
printf '2,0,5\n4,0,200\n' >"$T/two.csv"
mkraw negneg '"sigma0":1,"sigma1":1,"sigma2":1,"sigma3":1,"s0":1' '"sigma0":-1,"sigma1":1,"sigma2":1,"sigma3":1,"s0":-1'
run_snnc simulate "$T/negneg.json" --ticks 6 --spikes "$T/two.csv" --output-spikes "$T/o.csv"
expect_exit 0 "sigma0 -1, s0 -1" && expect_file "sigma0 -1, s0 -1" "$T/o.csv" '2,0,5\n4,0,200\n'
mk posneg s0 -1
run_snnc simulate "$T/posneg.json" --ticks 6 --spikes "$T/two.csv" --output-spikes "$T/o.csv"
expect_exit 0 "sigma0 1, s0 -1" && expect_file "sigma0 1, s0 -1" "$T/o.csv" ''

# --- spike files: refused, naming file:line and the field, nothing written
# spike_bad CASE CONTENT(printf format) TEXT...
spike_bad() {
    c=$1
    printf "$2" >"$T/bad.csv"
    shift 2
    rm -f "$T/o.csv"
    run_snnc simulate "$BASE" --ticks 10 --spikes "$T/bad.csv" --output-spikes "$T/o.csv"
    expect_exit 2 "spikes: $c" && expect_said "spikes: $c" "bad.csv:" "$@"
    expect_absent "spikes: $c" "$T/o.csv"
}
spike_bad "NUL after a spike" '1,0,1\0junk\n' "bad.csv: line 1, column 6: a NUL byte"
spike_bad "NUL on line 3" '1,0,1\n2,0,2\n\0\n' "bad.csv: line 3, column 1: a NUL byte"
spike_bad "NUL in a comment" '# note \0 x\n1,0,1\n' "bad.csv: line 1, column 8: a NUL byte"
spike_bad "two fields" '1,0\n' "bad.csv:1:" "field 3 (axon)"
spike_bad "four fields" '1,0,1,2\n' "bad.csv:1: after field 3 (axon): unexpected ',2'"
spike_bad "tick not a number" 'a,0,1\n' "bad.csv:1: field 1 (tick): expected an integer"
spike_bad "core not a number" '1,b,1\n' "bad.csv:1: field 2 (core): expected an integer"
spike_bad "axon not a number" '1,0,c\n' "bad.csv:1: field 3 (axon): expected an integer"
spike_bad "empty field" '1,,1\n' "bad.csv:1: field 2 (core): expected an integer"
spike_bad "semicolons" '1;0;1\n' "bad.csv:1: expected ','" "field 2 (core)"
spike_bad "decimal tick" '1.5,0,1\n' "bad.csv:1: expected ','" "after field 1 (tick)"
spike_bad "hex tick" '0x10,0,1\n' "bad.csv:1:" "after field 1 (tick)"
spike_bad "text after the axon" '1,0,1 x\n' "bad.csv:1: after field 3 (axon): unexpected 'x'"
spike_bad "header line" 'tick,core,axon\n1,0,1\n' "bad.csv:1: field 1 (tick): expected an integer"
spike_bad "lone CR inside a line" '1,0,1\r2,0,2\n' "bad.csv:1: after field 3 (axon)" '\x0d'
spike_bad "tick too large" '99999999999999999999,0,1\n' "bad.csv:1: field 1 (tick):" "too large"
spike_bad "negative tick" '0,0,1\n-1,0,1\n' "bad.csv:2: field 1 (tick): negative tick -1"
spike_bad "negative core" '0,-32,1\n' "bad.csv:1: field 2 (core): no core with id -32"
spike_bad "core not in the model" '0,0,1\n\n0,1,1\n' "bad.csv:3: field 2 (core): no core with id 1"
spike_bad "negative axon" '0,0,-1\n' "bad.csv:1: field 3 (axon): axon -1 is out of range 0..255"
spike_bad "axon 256" '0,0,256\n' "bad.csv:1: field 3 (axon): axon 256 is out of range 0..255"
# fuzz finding: a message quoting 24 non-printable bytes overflowed its buffer
spike_bad "a line of 0xff bytes" '\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\377\n' \
    "bad.csv:1: field 1 (tick): expected an integer, found '\\xff\\xff" "\\xff...'"
spike_bad "error after good lines" '0,0,1\n1,0,2\n2,0,3\n3,0,4\n4,0,x\n' "bad.csv:5: field 3 (axon)"
run_snnc simulate "$BASE" --ticks 10 --spikes "$T/missing.csv"
expect_exit 2 "spikes: missing file" && expect_said "spikes: missing file" "missing.csv"

# --- spike files: accepted, saying what is not used
# spike_ok CASE CONTENT TICKS EXPECTED_OUTPUT WARNING...
spike_ok() {
    c=$1 ticks=$3 want=$4
    printf "$2" >"$T/ok.csv"
    shift 4
    run_snnc simulate "$BASE" --ticks "$ticks" --spikes "$T/ok.csv" --output-spikes "$T/o.csv"
    expect_exit 0 "spikes: $c" || return
    expect_file "spikes: $c" "$T/o.csv" "$want"
    if [ $# -eq 0 ]; then expect_quiet "spikes: $c"; else expect_said "spikes: $c" "$@"; fi
}
spike_ok "plain" '0,0,1\n3,0,7\n' 10 '0,0,1\n3,0,7\n'
spike_ok "CRLF" '0,0,1\r\n3,0,7\r\n' 10 '0,0,1\n3,0,7\n'
spike_ok "no final newline" '0,0,1\n3,0,7' 10 '0,0,1\n3,0,7\n'
spike_ok "blanks, comments, signs" '# tick,core,axon\n\n  3 , 0 , 7  \n\t+0,+0,+1\n' 10 '0,0,1\n3,0,7\n'
spike_ok "any order" '5,0,9\n0,0,4\n5,0,2\n' 10 '0,0,4\n5,0,2\n5,0,9\n'
spike_ok "tick = --ticks" '0,0,1\n10,0,3\n' 10 '0,0,1\n' \
    "ok.csv: 1 spike at ticks >= 10 (--ticks) not used, the first at line 2 (tick 10)"
spike_ok "ticks beyond, several" '12,0,3\n0,0,1\n1000,0,4\n9,0,2\n' 10 '0,0,1\n9,0,2\n' \
    "ok.csv: 2 spikes at ticks >= 10 (--ticks) not used, the first at line 1 (tick 12)"
spike_ok "repeated line" '0,0,1\n0,0,1\n2,0,3\n' 10 '0,0,1\n2,0,3\n' \
    "ok.csv: 1 line repeats an earlier spike" "the first at line 2 (as line 1)"
spike_ok "repeats apart" '4,0,9\n0,0,1\n4,0,9\n4,0,9\n' 10 '0,0,1\n4,0,9\n' \
    "ok.csv: 2 lines repeat an earlier spike" "the first at line 3 (as line 1)"
spike_ok "same axon, other tick" '0,0,1\n1,0,1\n' 10 '0,0,1\n1,0,1\n'
spike_ok "empty file" '' 10 '' "ok.csv holds no spikes"
spike_ok "comments only" '# nothing\n\n' 10 '' "ok.csv holds no spikes"
# the report counts the spikes used: 2 of 4 lines (one repeat, one late)
printf '0,0,1\n0,0,1\n1,0,2\n50,0,3\n' >"$T/count.csv"
run_snnc simulate "$BASE" --ticks 10 --spikes "$T/count.csv" --json
expect_exit 0 "spikes: counted in --json" && {
    CHECKS=$((CHECKS + 1))
    grep -q '"input_spikes": 2,' "$T/out" || contract_fail "spikes: counted in --json: $(grep input_spikes "$T/out")"
}

contract_done
