#!/usr/bin/env bash
# tests/c/run.sh: builds and runs the C unit tests of the pure core helpers and of the scheduler.
#
#   tests/c/run.sh [--no-valgrind] [--no-sanitize] [--quiet]
#
# Three passes over every test binary:
#   1. plain      CC (default cc) with -Wall -Wextra -Werror -g, run directly
#   2. valgrind   the plain binaries under valgrind --error-exitcode=1 --leak-check=full
#                 --errors-for-leak-kinds=definite,indirect (skipped, with a notice, when valgrind is
#                 missing, or with --no-valgrind / VALGRIND=0)
#   3. sanitize   SAN_CC (default clang, else gcc) with -fsanitize=address,undefined, run directly
#                 (skipped with --no-sanitize / SANITIZE=0)
# Each run prints per-test lines and "N passed, M failed"; the script ends with the combined
# "N passed, M failed" over all passes and exits nonzero if anything failed. A build failure, a crash, a
# valgrind error or a sanitizer report counts as one failure of that run (on top of failed tests).
# Artefacts go only to tests/c/build/. CC, SAN_CC, VALGRIND=0, SANITIZE=0 and CODAT_CORE_DIR (another
# directory holding url.c, classify.c, backoff.c, slots.c, redact*.c, judge.c and the headers) are read from the environment.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CORE="${CODAT_CORE_DIR:-$ROOT/csrc/core}" # override to test a patched copy
BUILD="$HERE/build"

use_valgrind=${VALGRIND:-1}
use_sanitize=${SANITIZE:-1}
quiet=0
for arg in "$@"; do
    case "$arg" in
    --no-valgrind) use_valgrind=0 ;;
    --no-sanitize) use_sanitize=0 ;;
    --quiet) quiet=1 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

# test name -> the core sources it needs
TESTS="test_url test_classify test_backoff test_slots test_redact test_judge"
sources_for() {
    case "$1" in
    test_url) echo "$CORE/url.c" ;;
    test_classify) echo "$CORE/classify.c" ;;
    test_backoff) echo "$CORE/backoff.c" ;;
    test_slots) echo "$CORE/slots.c" ;;
    test_redact) echo "$CORE/redact.c $CORE/redact_secrets.c" ;;
    test_judge) echo "$CORE/judge.c $CORE/classify.c $CORE/backoff.c" ;;
    *) extra_sources_for "$1" ;;
    esac
}

# The binding's pure helpers that moved to the core (base64, the loopback check), and the scheduler, which
# runs real transfers with the whole core (libcurl) against a server in the test (tiny_server.h).
TESTS="$TESTS test_base64 test_netaddr test_sched"
extra_sources_for() {
    case "$1" in
    test_base64) echo "$CORE/base64.c" ;;
    test_netaddr) echo "$CORE/netaddr.c" ;;
    test_sched) echo "$CORE"/*.c ;;
    esac
}

if pkg-config --exists libcurl libcjson 2>/dev/null; then
    DEP_CFLAGS=$(pkg-config --cflags libcurl libcjson)
    DEP_LIBS=$(pkg-config --libs libcurl libcjson)
else
    DEP_CFLAGS=""
    DEP_LIBS="-lcurl -lcjson"
fi
CC=${CC:-cc}
if [ -z "${SAN_CC:-}" ]; then
    if command -v clang >/dev/null 2>&1; then SAN_CC=clang; else SAN_CC=gcc; fi
fi
# the same language flags as setup.py
# -iquote, not -I: csrc/core/sched.h must not stand in for the system <sched.h> that <pthread.h> includes
BASE_CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -iquote $CORE -iquote $HERE $DEP_CFLAGS"
LIBS="$DEP_LIBS -lm -lpthread"
# UBSan keeps going after a report so that every test still prints its result; any "runtime error:"
# in the output fails the run all the same. ASan errors stop the binary.
SAN_FLAGS="-O1 -fsanitize=address,undefined -fsanitize-recover=undefined -fno-omit-frame-pointer"

total_pass=0
total_fail=0
SUMMARY=""

note() { SUMMARY="$SUMMARY$(printf '  %-10s %-14s %s' "$1" "$2" "$3")"$'\n'; }

# record PASS_NAME RUN_NAME RC LOGFILE [NOTE [TOOL_FAILED]]
# TOOL_FAILED=1: valgrind or a sanitizer reported an error: one more failure on top of failed tests.
record() {
    local pass=$1 name=$2 rc=$3 log=$4 extra=${5:-} tool_failed=${6:-0}
    local line p=0 f=0
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        p=${line%% passed*}
        f=${line#*, }
        f=${f%% failed}
    fi
    if [ "$tool_failed" -ne 0 ]; then
        f=$((f + 1))
        extra="${extra:+$extra; }counted as 1 more failure"
    elif [ "$rc" -ne 0 ] && { [ "$f" -eq 0 ] || [ "$rc" -gt 128 ] || [ -z "$line" ]; }; then
        f=$((f + 1)) # crashed or died on a signal, or failed without saying so
        extra="${extra:+$extra; }exit code $rc"
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    [ -n "$line" ] || extra="no summary line${extra:+; $extra}"
    note "$pass" "$name" "$p passed, $f failed${extra:+ ($extra)}"
}

build() { # build OUT CC FLAGS TEST LOG
    local out=$1 cc=$2 flags=$3 t=$4 log=$5
    # shellcheck disable=SC2086
    $cc $flags -o "$out" "$HERE/$t.c" $(sources_for "$t") $LIBS >"$log" 2>&1
}

# build_or_count PASS CC FLAGS TEST: builds $BUILD/PASS/TEST; a failure shows its log and counts as one
# failure of that pass (nonzero return).
build_or_count() {
    local bin="$BUILD/$1/$4" log="$BUILD/$1/$4.build.log"
    build "$bin" "$2" "$3" "$4" "$log" && return 0
    cat "$log"
    rm -f "$bin"
    total_fail=$((total_fail + 1))
    note "$1" "$4" "BUILD FAILED"
    return 1
}

show() { if [ "$quiet" -eq 0 ] || [ "$2" -ne 0 ]; then cat "$1"; fi; }

mkdir -p "$BUILD/plain" "$BUILD/sanitize" "$BUILD/valgrind"

# ---- 1. plain ----
echo "== plain build ($CC) =="
for t in $TESTS; do
    bin="$BUILD/plain/$t"
    build_or_count plain "$CC" "$BASE_CFLAGS -O0" "$t" || continue
    echo "-- $t"
    "$bin" >"$BUILD/plain/$t.log" 2>&1
    rc=$?
    show "$BUILD/plain/$t.log" "$rc"
    record plain "$t" "$rc" "$BUILD/plain/$t.log"
done

# ---- 2. valgrind ----
if [ "$use_valgrind" != 0 ] && ! command -v valgrind >/dev/null 2>&1; then
    echo "== valgrind: not installed, skipped =="
    note valgrind "-" "SKIPPED (valgrind not found)"
    use_valgrind=0
fi
if [ "$use_valgrind" != 0 ]; then
    echo "== valgrind =="
    for t in $TESTS; do
        bin="$BUILD/plain/$t"
        [ -x "$bin" ] || continue
        vlog="$BUILD/valgrind/$t.valgrind.log"
        valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --log-file="$vlog" "$bin" >"$BUILD/valgrind/$t.log" 2>&1
        rc=$?
        echo "-- $t under valgrind"
        show "$BUILD/valgrind/$t.log" "$rc"
        errs=$(grep -o 'ERROR SUMMARY: [0-9]* errors' "$vlog" | tail -n 1)
        lost=$(grep -E 'definitely lost:|indirectly lost:|All heap blocks were freed' "$vlog" |
            sed -e 's/^==[0-9]*== *//' | tr '\n' ';' | sed -e 's/;$//' -e 's/;/; /g')
        echo "   valgrind: ${errs:-no ERROR SUMMARY}; ${lost}"
        nerr=$(printf '%s' "$errs" | grep -o '[0-9][0-9]*')
        [ "${nerr:-1}" != 0 ] && cat "$vlog"
        record valgrind "$t" "$rc" "$BUILD/valgrind/$t.log" "valgrind ${errs:-gave no ERROR SUMMARY}" \
            "$([ "${nerr:-1}" -ne 0 ] && echo 1 || echo 0)"
    done
else
    [ -n "$(printf '%s' "$SUMMARY" | grep valgrind)" ] || note valgrind "-" "SKIPPED"
fi

# ---- 3. sanitize ----
if [ "$use_sanitize" != 0 ]; then
    echo "== sanitize build ($SAN_CC -fsanitize=address,undefined) =="
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=0}"
    for t in $TESTS; do
        bin="$BUILD/sanitize/$t"
        build_or_count sanitize "$SAN_CC" "$BASE_CFLAGS $SAN_FLAGS" "$t" || continue
        echo "-- $t (asan+ubsan)"
        "$bin" >"$BUILD/sanitize/$t.log" 2>&1
        rc=$?
        # UBSan findings that do not stop the run still count
        reports=$(grep -cE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$BUILD/sanitize/$t.log")
        [ "$reports" -gt 0 ] && [ "$rc" -eq 0 ] && rc=1
        show "$BUILD/sanitize/$t.log" "$rc"
        if [ "$reports" -gt 0 ]; then
            record sanitize "$t" "$rc" "$BUILD/sanitize/$t.log" "$reports sanitizer report(s)" 1
        else
            record sanitize "$t" "$rc" "$BUILD/sanitize/$t.log"
        fi
    done
else
    note sanitize "-" "SKIPPED"
fi

echo
echo "== summary =="
printf '%s' "$SUMMARY"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
