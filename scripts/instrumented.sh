# scripts/instrumented.sh: sourced by scripts/sanitize.sh (ASan+UBSan) and scripts/tsan.sh (TSan).
#
# An instrumented build of the extension lives in a tree of its own, OUT/lib, next to a copy of the
# package's Python files (stubs and py.typed too, never its in-place .so), so that the in-place build that
# .venv imports is left alone. Tests then run with OUT/lib first on sys.path (PYTHONPATH, and
# PYTHONSAFEPATH so that the working directory's codat_platform_c/ cannot shadow it, in subprocesses too)
# and the sanitizer's runtime preloaded (python itself is not instrumented).

# sanitizer_runtime WHO NAME: prints the path of gcc's NAME (e.g. libasan.so), or exits 2.
sanitizer_runtime() {
  local path
  path=$(gcc -print-file-name="$2")
  if [ ! -e "$path" ] || [ "$path" = "$2" ]; then
    echo "$1: gcc's $2 not found (apt-get install gcc)" >&2
    exit 2
  fi
  echo "$path"
}

# build_instrumented WHO SANITIZE OUT RUNTIME: builds with CODAT_SANITIZE=SANITIZE into OUT/lib (log in
# OUT/build.log), checks that the module links RUNTIME, and exports PYTHONPATH and PYTHONSAFEPATH. Exits 1
# on failure.
build_instrumented() {
  local who=$1 sanitize=$2 out=$3 runtime=$4 lib=$3/lib so
  rm -rf "$lib"
  mkdir -p "$lib/codat_platform_c"
  (cd codat_platform_c && find . -type f ! -name '*.so' ! -path '*__pycache__*' | while read -r f; do
    mkdir -p "$lib/codat_platform_c/$(dirname "$f")" && cp "$f" "$lib/codat_platform_c/$f"; done)
  if ! CODAT_SANITIZE=$sanitize CODAT_WERROR=1 "$PY" setup.py -q build_ext -b "$lib" -t "$out/tmp" \
      >"$out/build.log" 2>&1; then
    cat "$out/build.log"
    echo "$who: build failed" >&2
    exit 1
  fi
  so=$(ls "$lib"/codat_platform_c/_core*.so)
  if ! ldd "$so" | grep -q "$(basename "$runtime" .so)"; then
    echo "$who: $so is not linked against $(basename "$runtime")" >&2
    exit 1
  fi
  export PYTHONPATH="$lib${PYTHONPATH:+:$PYTHONPATH}"
  export PYTHONSAFEPATH=1
}

# check_instrumented_import WHO RUNTIME LIB: the module python imports (runtime preloaded) is LIB's.
check_instrumented_import() {
  local where
  where=$(LD_PRELOAD="$2" "$PY" -c 'import codat_platform_c._core as m; print(m.__file__)' 2>&1)
  case "$where" in
    "$3"/*) echo "== $1: importing $where" ;;
    *) echo "$1: the instrumented build is not the one imported: $where" >&2; exit 1 ;;
  esac
}
