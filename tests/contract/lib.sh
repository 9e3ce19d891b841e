# lib.sh — what the CLI contract tests (tests/contract/*.sh) share: a
# scratch directory removed on exit, running snnc with a time limit, and
# the checks every case makes: the exit status, no signal, no hang, no
# sanitizer report, the message naming what it must, no output left.
#
#   . "$(dirname "$0")/lib.sh"; contract_init NAME "$@"   (args: SNNC EXAMPLES_DIR)
#   run_snnc ARGS...          runs snnc; status in $RC, stderr in $T/err, stdout in $T/out
#   run_snnc_stdin FILE ARGS...  the same with FILE piped to its stdin and stdout a pipe
#   expect_exit N CASE        $RC is N (and was not a signal, hang or sanitizer report)
#   expect_said CASE TEXT...  every TEXT appears in stderr (a fixed string)
#   expect_absent CASE PATH...  no PATH, and no PATH.tmp-* beside it
#   expect_before_work CASE   the last run_snnc stopped before the long step (no
#                             "matching ... neurons" progress line): refused up front
#   contract_done             prints "contract NAME: K cases, A checks" and exits 0
# A failed check prints "FAIL: CASE: ..." and the test exits 1 at the end.
set -u

contract_init() {
    CONTRACT=$1
    SNNC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    EX=${3:-}
    T=$(mktemp -d "${TMPDIR:-/tmp}/snnc-contract.XXXXXX")
    trap 'rm -rf "$T"' EXIT
    CASES=0 CHECKS=0 FAILED=0
    TIMEOUT=${SNNC_CONTRACT_TIMEOUT:-120}
    export OPENBLAS_NUM_THREADS=1
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:exitcode=86"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1}:exitcode=87"
    PY=python3
    [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
}

contract_fail() { echo "FAIL: $*" >&2; FAILED=$((FAILED + 1)); }

run_snnc() {
    timeout -k 5 "$TIMEOUT" "$SNNC" "$@" >"$T/out" 2>"$T/err" </dev/null
    RC=$?
}

expect_before_work() {
    CHECKS=$((CHECKS + 1))
    ! grep -q "matching .* neurons" "$T/err" ||
        contract_fail "$1: refused only after the matching step began"
}

run_snnc_stdin() {
    f=$1
    shift
    cat "$f" | { timeout -k 5 "$TIMEOUT" "$SNNC" "$@" 2>"$T/err"; echo $? >"$T/rc"; } | cat >"$T/out"
    RC=$(cat "$T/rc")
}

expect_exit() {
    CASES=$((CASES + 1)) CHECKS=$((CHECKS + 1))
    case $RC in
    124 | 137) contract_fail "$2: hung (no exit within ${TIMEOUT}s)"; return 1 ;;
    86 | 87) contract_fail "$2: sanitizer report: $(head -5 "$T/err")"; return 1 ;;
    esac
    [ "$RC" -ge 128 ] && { contract_fail "$2: killed by signal $((RC - 128))"; return 1; }
    grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/err" &&
        { contract_fail "$2: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$T/err")"; return 1; }
    [ "$RC" -eq "$1" ] || { contract_fail "$2: exit $RC, expected $1: $(tail -2 "$T/err")"; return 1; }
    return 0
}

expect_said() {
    c=$1
    shift
    for s in "$@"; do
        CHECKS=$((CHECKS + 1))
        grep -qF -- "$s" "$T/err" || contract_fail "$c: message does not say '$s': $(tail -2 "$T/err")"
    done
}

expect_absent() {
    c=$1
    shift
    for p in "$@"; do
        CHECKS=$((CHECKS + 1))
        p=${p%/}
        [ -e "$p" ] || [ -L "$p" ] && contract_fail "$c: '$p' left behind"
        ls -d "$p".tmp-* >/dev/null 2>&1 && contract_fail "$c: temporary '$(ls -d "$p".tmp-* | head -1)' left behind"
    done
    return 0
}

contract_done() {
    echo "contract $CONTRACT: $CASES cases, $CHECKS checks, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit $?
}
