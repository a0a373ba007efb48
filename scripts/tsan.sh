#!/usr/bin/env bash
# scripts/tsan.sh: the tests that run threads against a ThreadSanitizer build of the extension.
#
#   bash scripts/tsan.sh [pytest paths...]
#     (default: batches on several threads, 429 storms, per-company slots, async calls, shared clients,
#      HTTP/2, the cache under threads, life cycle races: close, drop and Ctrl-C against calls in flight,
#      company slots granted across threads, to a blocking call or to an await through its eventfd)
#
# Builds codat_platform_c._core with CODAT_SANITIZE=thread into build/tsan (the in-place build that .venv
# imports is left alone), runs pytest with that tree first on sys.path and libtsan preloaded (python is
# not instrumented, the extension is), and fails on any test failure or any ThreadSanitizer report
# (reports go to build/tsan/logs). scripts/tsan.supp lists the only suppressions: uninstrumented
# OpenSSL's atomic reference counts.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
OUT=$ROOT/build/tsan
LIB=$OUT/lib
LOGS=$OUT/logs
TESTS=("$@")
if [ ${#TESTS[@]} -eq 0 ]; then
  TESTS=(tests/test_batch.py tests/test_batch_storm.py tests/test_concurrency.py tests/test_async.py
         tests/test_http2.py tests/test_cache.py tests/test_lifecycle.py tests/test_company_wait.py)
fi

# shellcheck source=scripts/instrumented.sh
. scripts/instrumented.sh
libtsan=$(sanitizer_runtime tsan.sh libtsan.so) || exit 2

echo "== tsan: building the extension with CODAT_SANITIZE=thread into build/tsan"
rm -rf "$LOGS"
mkdir -p "$LOGS"
build_instrumented tsan.sh thread "$OUT" "$libtsan"
export CODAT_SANITIZED=1
export TSAN_OPTIONS="log_path=$LOGS/tsan:suppressions=$ROOT/scripts/tsan.supp:report_signal_unsafe=0:halt_on_error=0"
check_instrumented_import tsan "$libtsan" "$LIB"

echo "== tsan: pytest ${TESTS[*]}"
start=$(date +%s)
LD_PRELOAD="$libtsan" "$PY" -m pytest -q -p no:cacheprovider "${TESTS[@]}"
rc=$?
echo "== tsan: pytest exit $rc in $(( $(date +%s) - start )) s"

failed=0
[ "$rc" -eq 0 ] || failed=1
shopt -s nullglob
reports=0
for log in "$LOGS"/tsan*; do
  n=$(grep -c "WARNING: ThreadSanitizer" "$log")
  if [ "$n" -gt 0 ]; then
    echo "---- $n ThreadSanitizer report(s) in $log:"
    head -n 60 "$log"
    reports=$((reports + n))
  fi
done
echo "== tsan: $reports ThreadSanitizer report(s)"
[ "$reports" -eq 0 ] || failed=1
if [ "$failed" -eq 0 ]; then echo "== tsan: OK"; else echo "== tsan: FAILED"; fi
exit "$failed"
