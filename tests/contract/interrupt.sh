#!/bin/sh
# interrupt.sh — CLI contract: SIGINT, SIGTERM or SIGHUP ends every command
# that writes output, whatever it is doing, with the signal's exit status
# (128 + N) and leaves neither the output nor a temporary (cli/cli_cleanup.c);
# a convert --force interrupted leaves the old OUTDIR as it was; a later
# convert removes a stale OUTDIR.tmp-PID only when it holds snnc's marker
# naming this host and PID, and that process has ended.
# "During writing" is made sure of: convert is signalled once its temporary
# directory holds files; simulate --output-spikes once its temporary file
# exists; run --output is stopped (SIGSTOP) as soon as its temporary file
# appears, then signalled.  simulate OUTDIR --output writes a few bytes at
# the very end (too brief to hit): it is signalled while working.
. "$(dirname "$0")/lib.sh"
contract_init interrupt "$@"
M=$EX/elman_h128/model.onnx

# 32 calibration samples: matching takes about a second, and the power
# simulation (while OUTDIR.tmp-PID holds files) about as long.
$PY -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])[:32])" \
    "$EX/elman_h128/calib.npy" "$T/c32.npy" || exit 1
C="--target truenorth --calib $T/c32.npy"

# start_snnc ARGS...: snnc in the background ($PID), SIGINT not ignored
# (a script's background jobs ignore it, and snnc leaves ignored signals so).
start_snnc() {
    env --default-signal=INT "$SNNC" "$@" >"$T/out" 2>"$T/err" </dev/null &
    PID=$!
}

# wait_until CASE CONDITION...: poll (busy, builtins only) until CONDITION
# holds; 0, or 1 if snnc ended or TIMEOUT passed first.
wait_until() {
    c=$1
    shift
    end=$(($(date +%s) + TIMEOUT))
    until "$@"; do
        if ! kill -0 "$PID" 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
            contract_fail "$c: snnc ended or timed out before the moment to signal: $(tail -2 "$T/err")"
            kill -KILL "$PID" 2>/dev/null
            wait "$PID"
            return 1
        fi
    done
}
said() { grep -qF -- "$1" "$T/err"; }
exists_glob() { for f in $1; do [ -e "$f" ] && return 0; done; return 1; }

# signal_and_check CASE SIG N: send SIG, expect death by it (status 128+N);
# died_by CASE SIG N: the same for a signal already sent.
signal_and_check() {
    kill -"$2" "$PID"
    died_by "$@"
}
died_by() {
    { wait "$PID"; } 2>/dev/null
    RC=$?
    CASES=$((CASES + 1)) CHECKS=$((CHECKS + 1))
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/err"; then
        contract_fail "$1: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$T/err")"
    elif [ "$RC" -ne $((128 + $3)) ]; then
        contract_fail "$1: exit $RC, expected $((128 + $3)) (SIG$2): $(tail -2 "$T/err")"
    fi
}

# caught CASE COND ARGS...: start snnc ARGS, poll until the function COND
# holds and stop snnc there (SIGSTOP), so that the signal sent next lands
# in that moment whatever the machine's load.  A moment that lasts a tenth of
# a second may be missed (snnc done first): `reset` (a function, if the case
# defines one) puts the scratch files back and it is tried again, up to 3
# times.  The caller sends the signal, then SIGCONT.
reset() { :; }
caught() {
    c=$1 cond=$2
    shift 2
    for try in 1 2 3; do
        reset
        start_snnc "$@"
        until $cond; do
            kill -0 "$PID" 2>/dev/null || break
        done
        kill -STOP "$PID" 2>/dev/null && $cond && return 0
        kill -CONT "$PID" 2>/dev/null
        { wait "$PID"; } 2>/dev/null
    done
    contract_fail "$c: could not catch snnc in that moment in 3 tries"
    return 1
}
# stopped_and_check CASE SIG N: send SIG to the stopped snnc, continue it,
# expect death by SIG.
stopped_and_check() {
    kill -"$2" "$PID"
    kill -CONT "$PID"
    died_by "$@"
}

# A finished conversion: the model simulate and run use below.
run_snnc convert "$M" $C -o "$T/done"
expect_exit 0 "convert (reference)"

# ---- convert: early, during matching, while writing OUTDIR.tmp-PID
start_snnc convert "$M" $C -o "$T/o"
sleep 0.1
signal_and_check "convert SIGINT at once" INT 2
expect_absent "convert SIGINT at once" "$T/o"

start_snnc convert "$M" $C -o "$T/o"
wait_until "convert SIGTERM matching" said "matching" &&
    sleep 0.3 && signal_and_check "convert SIGTERM matching" TERM 15
expect_absent "convert SIGTERM matching" "$T/o"

# While writing: OUTDIR.tmp-PID holds network.json (the report and the
# manifest are still to come).
writing_o() { [ -f "$T/o.tmp-$PID/network.json" ]; }
reset() { rm -rf "$T/o"; }
# SIGHUP only when this test was not started with it ignored (nohup): snnc
# then keeps it ignored, as documented, and the case cannot apply.
sigs="INT:2 TERM:15 HUP:1"
if ! $PY -c "import signal, sys; sys.exit(signal.getsignal(signal.SIGHUP) == signal.SIG_IGN)"; then
    echo "note: SIGHUP is ignored in this environment (nohup?): its case is left out"
    sigs="INT:2 TERM:15"
fi
for s in $sigs; do
    c="convert SIG${s%:*} writing"
    caught "$c" writing_o convert "$M" $C -o "$T/o" || continue
    stopped_and_check "$c" "${s%:*}" "${s#*:}"
    expect_absent "$c" "$T/o"
done

# --force: the OUTDIR replaced stays as it was.
writing_keep() { [ -f "$T/keep.tmp-$PID/network.json" ]; }
reset() { rm -rf "$T/keep" && mkdir "$T/keep" && echo kept >"$T/keep/mine"; }
c="convert --force SIGINT writing"
if caught "$c" writing_keep convert "$M" $C --force -o "$T/keep"; then
    stopped_and_check "$c" INT 2
    CHECKS=$((CHECKS + 2))
    [ "$(cat "$T/keep/mine" 2>/dev/null)" = kept ] || contract_fail "$c: the old OUTDIR was not kept"
    ls -d "$T"/keep.tmp-* "$T"/keep.old-* >/dev/null 2>&1 &&
        contract_fail "$c: left $(ls -d "$T"/keep.*-* | head -1)"
fi
reset() { :; }

# ---- simulate MODEL.json --output-spikes: its temporary file exists from the start;
# with --threads 4 the signal may land on a simulator thread.
for s in INT:2:1 TERM:15:4; do
    c="simulate --output-spikes --threads ${s##*:} SIG${s%%:*}"
    start_snnc simulate "$T/done/truenorth/model.json" --ticks 1000000000 --threads "${s##*:}" \
        --output-spikes "$T/s.csv"
    wait_until "$c" exists_glob "$T/s.csv.tmp-*" || continue
    sleep 0.3
    s=${s%:*}
    signal_and_check "$c" "${s%:*}" "${s#*:}"
    expect_absent "$c" "$T/s.csv"
done

# ---- run --output: stopped while its temporary file is being written.
$PY -c "import numpy as np, sys; np.save(sys.argv[2], np.tile(np.load(sys.argv[1]), (100, 1, 1)))" \
    "$EX/elman_h128/input.npy" "$T/big.npy" || exit 1
writing_h() { exists_glob "$T/h.npy.tmp-*"; }
reset() { rm -f "$T/h.npy"; }
for s in INT:2 TERM:15; do
    c="run --output SIG${s%:*} writing"
    caught "$c" writing_h run "$M" --input "$T/big.npy" --output /rnn/RNN_output_0="$T/h.npy" ||
        continue
    stopped_and_check "$c" "${s%:*}" "${s#*:}"
    expect_absent "$c" "$T/h.npy"
done
reset() { :; }

# ---- simulate OUTDIR --output: signalled while matching.
start_snnc simulate "$T/done" --input "$EX/elman_h128/input.npy" --output "$T/scores.npy"
wait_until "simulate OUTDIR --output SIGTERM" said "matching" &&
    sleep 0.3 && signal_and_check "simulate OUTDIR --output SIGTERM" TERM 15
expect_absent "simulate OUTDIR --output SIGTERM" "$T/scores.npy"

# ---- stale temporaries beside OUTDIR: only a marked one of an ended process
# on this host goes.  Ended PIDs: of processes just waited for.
dead() { sh -c 'echo $$' >"$T/pid"; cat "$T/pid"; }
marked() { # marked DIR PID HOST
    mkdir -p "$1/truenorth" && echo '{}' >"$1/truenorth/model.json" &&
        printf 'snnc temporary of process %s on host %s\n' "$2" "$3" >"$1/.snnc-temporary"
}
H=$(uname -n)
p1=$(dead) p2=$(dead) p3=$(dead) p4=$(dead)
marked "$T/st.tmp-$p1" "$p1" "$H"           # stale: removed
mkdir "$T/st.tmp-$p2"                          # no marker
marked "$T/st.tmp-$$" "$$" "$H"             # the process lives (this shell)
marked "$T/st.tmp-$p3" "$p3" "other-$H"     # another host's
marked "$T/elsewhere" "$p4" "$H" && ln -s elsewhere "$T/st.tmp-$p4" # a link
marked "$T/st.tmp-$p2-x" "$p2" "$H"         # not a PID suffix
start_snnc convert "$M" $C -o "$T/st"
wait_until "stale temporaries" said "matching" && signal_and_check "stale temporaries" TERM 15
expect_said "stale temporaries" "removing '$T/st.tmp-$p1'"
CHECKS=$((CHECKS + 1))
[ -e "$T/st.tmp-$p1" ] && contract_fail "stale temporaries: $T/st.tmp-$p1 (marked, ended) not removed"
for k in "st.tmp-$p2/." "st.tmp-$$/.snnc-temporary" "st.tmp-$p3/truenorth/model.json" \
    "st.tmp-$p4/.snnc-temporary" "elsewhere/truenorth/model.json" "st.tmp-$p2-x/.snnc-temporary"; do
    CHECKS=$((CHECKS + 1))
    [ -e "$T/$k" ] || contract_fail "stale temporaries: $T/$k removed (not provably stale)"
done

contract_done
