#!/usr/bin/env bash
# scripts/sanitize.sh: the whole Python suite once against an ASan+UBSan build of the extension, then a
# short libFuzzer run of the C targets.
#
#   bash scripts/sanitize.sh [FUZZ_SECONDS]     (default 20 seconds per fuzz target; 0 skips fuzzing)
#
# SANITIZE_TESTS (default: tests) and SANITIZE_PYTEST_ARGS pass test paths and options to pytest.
#
# 1. Builds codat_platform_c._core with CODAT_SANITIZE=1 (-fsanitize=address,undefined, -O0 -g) into a
#    SEPARATE tree, build/asan/lib, next to a copy of the package's Python files; the in-place build in
#    codat_platform_c/ (what .venv imports) is left alone.
# 2. Runs pytest on tests/ with that tree first on sys.path (PYTHONPATH, and PYTHONSAFEPATH so that the
#    working directory's codat_platform_c/ cannot shadow it, in subprocesses too), the ASan runtime
#    preloaded (LD_PRELOAD: python itself is not instrumented; the UBSan runtime comes in as the
#    extension's own dependency) and PYTHONMALLOC=malloc so that every Python allocation is visible to
#    ASan and LeakSanitizer.
#    Leaks: LeakSanitizer runs at exit of every process, writing to build/asan/logs/ rather than failing
#    the process (CPython does not free everything at exit, by design). A leak counts only when its
#    allocation stack passes through our code (csrc/ or the _core module); CPython's, libcurl's global
#    state, OpenSSL's (the openssl CLI the stand-in runs), etc. are reported in the summary but ignored.
#    Any AddressSanitizer error or UBSan "runtime error" anywhere fails the run.
#    Left out, because they cannot work under ASan (listed in DESELECT below):
#      - tests that assert on RSS (test_memory's RSS tests): ASan's shadow memory and quarantine (freed
#        memory held back to catch use-after-free) grow RSS by design. test_load.py runs, with its RSS
#        check and its fork mid-load off (CODAT_SANITIZED=1: GCC 12's ASan allocator is not fork-safe) and
#        2,000 calls per thread (CODAT_LOAD_CALLS) instead of 20,000.
#      - tests/test_packaging.py: it builds sdist and wheel and installs them, uninstrumented, into a fresh
#        venv (gcc and pip running under the preloaded ASan runtime): nothing of the ASan build is tested
#        there, and it costs over a minute.
#      - sys.getallocatedblocks()/mallinfo leak checks still run but prove nothing here (with
#        PYTHONMALLOC=malloc and ASan's allocator both read 0); LeakSanitizer covers leaks instead.
# 3. fuzz/run.sh FUZZ_SECONDS (libFuzzer + ASan + UBSan on classify.c, url.c, backoff.c, redact.c, judge.c).
#
# Exits nonzero on any test failure, sanitizer report, leak through our code, or fuzz finding.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FUZZ_SECONDS=${1:-20}
PY=${PYTHON:-$ROOT/.venv/bin/python}
OUT=$ROOT/build/asan
LIB=$OUT/lib
LOGS=$OUT/logs

DESELECT=(
  "tests/test_memory.py::test_20000_calls_without_rss_growth"        # RSS under ASan: shadow + quarantine
  "tests/test_memory.py::test_clients_created_and_dropped_do_not_leak" # RSS under ASan: shadow + quarantine
  "tests/test_packaging.py"  # builds and tests its own uninstrumented copy in a fresh venv: ASan adds only time
)

# shellcheck source=scripts/instrumented.sh
. scripts/instrumented.sh
libasan=$(sanitizer_runtime sanitize.sh libasan.so) || exit 2

echo "== sanitize: building the extension with CODAT_SANITIZE=1 into build/asan"
rm -rf "$LOGS"
mkdir -p "$LOGS"
build_instrumented sanitize.sh 1 "$OUT" "$libasan"
export PYTHONMALLOC=malloc
export CODAT_SANITIZED=1
export CODAT_LOAD_CALLS=${CODAT_LOAD_CALLS:-2000}
# exitcode=0: a leak report alone never fails a process (CPython's own would fail every one); the logs
# are judged below. ASan errors still abort (halt_on_error is ASan's default).
export ASAN_OPTIONS="detect_leaks=1:log_path=$LOGS/asan:exitcode=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1"
export LSAN_OPTIONS="exitcode=0:max_leaks=0:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan"

check_instrumented_import sanitize "$libasan" "$LIB"
rm -f "$LOGS"/*

deselect_args=()
for t in "${DESELECT[@]}"; do deselect_args+=(--deselect "$t"); done
echo "== sanitize: pytest under ASan+UBSan (left out: ${DESELECT[*]})"
start=$(date +%s)
# shellcheck disable=SC2086
LD_PRELOAD="$libasan" "$PY" -m pytest -q -p no:cacheprovider "${deselect_args[@]}" ${SANITIZE_PYTEST_ARGS:-} \
  ${SANITIZE_TESTS:-tests}
rc=$?
echo "== sanitize: pytest exit $rc in $(( $(date +%s) - start )) s"

# ---- judge the sanitizer logs
failed=0
[ "$rc" -eq 0 ] || failed=1
shopt -s nullglob
errors=0; ours=0; theirs=0
for log in "$LOGS"/*; do
  if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer: detected memory leaks" "$log"; then :; else continue; fi
  if grep -qE "ERROR: AddressSanitizer|runtime error:" "$log"; then
    echo "---- sanitizer error in $log"
    head -n 80 "$log"
    errors=$((errors + 1))
  fi
  # Split the leak report into blocks ("Direct/Indirect leak of ..." up to the blank line) and keep
  # those whose stack passes through our code.
  n_ours=$(awk -v out="$log.ours" '
    /^(Direct|Indirect) leak of/ { blk = $0 "\n"; inblk = 1; next }
    inblk && /^$/ { if (blk ~ /csrc\/|codat_platform_c\/_core\.cpython| in codat_/) { printf "%s\n", blk >> out; n++ } inblk = 0; next }
    inblk { blk = blk $0 "\n" }
    END { print n + 0 }' "$log")
  n_all=$(grep -cE "^(Direct|Indirect) leak of" "$log")
  ours=$((ours + n_ours)); theirs=$((theirs + n_all - n_ours))
  if [ "$n_ours" -gt 0 ]; then
    echo "---- leaks through our code in $log:"
    head -n 60 "$log.ours"
  fi
done
echo "== sanitize: $errors sanitizer error report(s); leaks through our code: $ours; other leaks ignored" \
     "(CPython, libcurl, OpenSSL): $theirs (logs: build/asan/logs)"
[ "$errors" -eq 0 ] && [ "$ours" -eq 0 ] || failed=1

if [ "$FUZZ_SECONDS" -gt 0 ]; then
  echo "== sanitize: fuzz/run.sh $FUZZ_SECONDS"
  unset LD_PRELOAD PYTHONPATH PYTHONSAFEPATH PYTHONMALLOC ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
  bash fuzz/run.sh "$FUZZ_SECONDS" || failed=1
fi

if [ "$failed" -eq 0 ]; then echo "== sanitize: OK"; else echo "== sanitize: FAILED"; fi
exit "$failed"
