#!/usr/bin/env bash
# fuzz/run.sh: builds the libFuzzer targets and runs each for a while.
#
#   fuzz/run.sh [seconds] [target ...]     (default: 60 seconds each, all targets)
#
# Builds with clang -fsanitize=fuzzer,address,undefined into fuzz/build/, then runs every target with
# -max_total_time=<seconds> on a working corpus fuzz/build/corpus/<target>/ seeded from
# fuzz/corpus/<target>/ (the checked-in seeds are only read, never written). Crashing inputs land in
# fuzz/build/artifacts/<target>/. Prints the executions each target ran, and exits nonzero if any target
# failed to build or found a crash, leak, timeout or invariant violation. Reproduce one with
#   fuzz/build/<target> fuzz/build/artifacts/<target>/crash-...
# and minimise it with
#   fuzz/build/<target> -minimize_crash=1 -runs=100000 -exact_artifact_path=min.bin <crash file>
# CLANG (default clang) and CODAT_CORE_DIR (a patched copy of csrc/core) are read from the environment.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CORE="${CODAT_CORE_DIR:-$ROOT/csrc/core}"
BUILD="$HERE/build"
CLANG=${CLANG:-clang}

seconds=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
TARGETS=${*:-fuzz_classify fuzz_url fuzz_retry_after fuzz_redact fuzz_judge}

sources_for() {
    case "$1" in
    fuzz_classify) echo "$CORE/classify.c" ;;
    fuzz_url) echo "$CORE/url.c" ;;
    fuzz_retry_after) echo "$CORE/backoff.c" ;;
    fuzz_redact) echo "$CORE/redact.c $CORE/redact_secrets.c" ;;
    fuzz_judge) echo "$CORE/judge.c $CORE/classify.c $CORE/backoff.c" ;;
    *) return 1 ;;
    esac
}

if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "fuzz/run.sh: $CLANG not found (libFuzzer needs clang)" >&2
    exit 2
fi
if pkg-config --exists libcurl libcjson 2>/dev/null; then
    DEP_CFLAGS=$(pkg-config --cflags libcurl libcjson)
    DEP_LIBS=$(pkg-config --libs libcurl libcjson)
else
    DEP_CFLAGS=""
    DEP_LIBS="-lcurl -lcjson"
fi
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer \
-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -iquote $CORE $DEP_CFLAGS"

mkdir -p "$BUILD"
failed=0
RESULTS=""

for t in $TARGETS; do
    if ! srcs=$(sources_for "$t"); then
        echo "fuzz/run.sh: unknown target $t" >&2
        exit 2
    fi
    echo "== build $t"
    # shellcheck disable=SC2086
    if ! $CLANG $CFLAGS -o "$BUILD/$t" "$HERE/$t.c" $srcs $DEP_LIBS -lm 2>"$BUILD/$t.build.log"; then
        cat "$BUILD/$t.build.log"
        RESULTS="$RESULTS$(printf '%-18s BUILD FAILED' "$t")"$'\n'
        failed=1
        continue
    fi
done

for t in $TARGETS; do
    [ -x "$BUILD/$t" ] || continue
    work="$BUILD/corpus/$t"
    art="$BUILD/artifacts/$t"
    mkdir -p "$work" "$art"
    log="$BUILD/$t.log"
    echo "== run $t for ${seconds}s"
    "$BUILD/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$art/" "$work" "$HERE/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    if [ -z "$execs" ]; then
        execs=$(grep -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' | tail -n 1)
    fi
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1)
    crashes=$(find "$art" -type f | sort)
    if [ "$rc" -ne 0 ] || [ -n "$crashes" ]; then
        failed=1
        status="CRASH (exit $rc)"
        grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written|^==[0-9]+==' "$log" | head -n 20
        [ -n "$crashes" ] && echo "artifacts:" && echo "$crashes"
    else
        status="no crash"
    fi
    RESULTS="$RESULTS$(printf '%-18s %12s execs in %ss  %-44s %s' "$t" "${execs:-?}" "$seconds" "${cov:-}" "$status")"$'\n'
done

echo
echo "== fuzz summary (log: fuzz/build/<target>.log) =="
printf '%s' "$RESULTS"
exit "$failed"
