#!/usr/bin/env bash
# One command for the whole benchmark: installs what is missing (Debian packages, then the
# Python contenders into the project venv), then runs bench/bench.py, which starts nginx on
# loopback, builds bench/floor.c, measures every contender interleaved and writes
# bench/results.md, bench/results.png and bench/results.json.
#
#   bash bench/run.sh            full run (~10 min on 2 cores)
#   bash bench/run.sh --quick    smoke run (< ~60 s)
#   bash bench/run.sh --help     bench.py's options (--rounds, --figures, --contenders, --out)
#   bash bench/run.sh batch [...]   batch_bench.py instead: batches of 1,000 and 10,000 tokens vs wrk
#                                   and the SDK (~1.5 min; its --help lists --sizes, --rounds, --json)
#   bash bench/run.sh async [...]    async_bench.py: what an await costs (sequential, vs a blocking call) and
#                                   1,000 concurrent awaits vs wrk, the loop driver beside the I/O thread (~3 min)
#   bash bench/run.sh latency [...]  latency_bench.py: TLS (HTTP/2 and HTTP/1.1) with the server holding each
#                                   answer 20/50/200 ms; batch, awaits, httpx, the SDK and h2load (~35 min;
#                                   --quick for a ~1.5 min smoke run; its --help lists the rest)
#   bash bench/run.sh instructions [...]  instructions.py: callgrind instructions per call of the facade and
#                                   of an await against a blocking call (~4 min; the noise-free ratios)
#
# Environment: VENV (default: <repo>/.venv), BENCH_UPGRADE=1 to upgrade the contenders from
# PyPI (codat-platform, httpx, requests, pycurl), BENCH_BUILD_EXT=1 to `pip install -e .` the
# extension first (by default the bench measures whatever is installed and skips it if absent).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
VENV="${VENV:-$ROOT/.venv}"

say() { echo "[bench] $*" >&2; }

# ---- Debian packages (only when something is missing)
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -e /usr/lib/nginx/modules/ngx_http_echo_module.so ] || need+=(libnginx-mod-http-echo)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)  # instructions.py
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)  # the latency bench's C reference client
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists libcurl 2>/dev/null || need+=(libcurl4-openssl-dev)
pkg-config --exists libcjson 2>/dev/null || need+=(libcjson-dev)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)  # pycurl builds against it
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv python3-dev)
if [ ${#need[@]} -gt 0 ]; then
    bash "$ROOT/scripts/apt.sh" "[bench]" "${need[@]}" >&2
fi

# ---- the venv and the Python contenders
if [ ! -x "$VENV/bin/python" ]; then
    say "creating venv $VENV"
    python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install -q --disable-pip-version-check)

if [ "${BENCH_UPGRADE:-0}" = 1 ]; then
    say "upgrading contenders from PyPI"
    "${PIP[@]}" -U codat-platform httpx h2 sniffio requests matplotlib
    "${PIP[@]}" -U --force-reinstall --no-deps --no-binary pycurl pycurl
fi
missing=()
# h2: httpx's HTTP/2 (the latency bench); sniffio: without it httpcore retries a failing import on every
# lock it takes (thousands per second in the latency bench), which would not be httpx's fair best.
for mod_pkg in codat_platform:codat-platform httpx:httpx h2:h2 sniffio:sniffio requests:requests \
               matplotlib:matplotlib; do
    "$PY" -c "import ${mod_pkg%%:*}" >/dev/null 2>&1 || missing+=("${mod_pkg##*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "pip installing: ${missing[*]}"
    "${PIP[@]}" "${missing[@]}"
fi
# pycurl from source, linked to the system libcurl: the same libcurl the floor and the
# extension use (PyPI's wheel bundles its own, newer libcurl, which would compare apples to pears).
syscurl="$(curl-config --version 2>/dev/null | awk '{print $2}')"
if ! "$PY" -c "import pycurl, sys; sys.exit(0 if 'libcurl/$syscurl ' in pycurl.version + ' ' else 1)" >/dev/null 2>&1; then
    say "building pycurl against the system libcurl $syscurl"
    "${PIP[@]}" --force-reinstall --no-deps --no-binary pycurl pycurl
fi

if [ "${BENCH_BUILD_EXT:-0}" = 1 ]; then
    say "building the extension (pip install -e $ROOT)"
    "${PIP[@]}" -e "$ROOT"
fi
if ! (cd /tmp && "$PY" -c "import codat_platform_c; codat_platform_c.Client") >/dev/null 2>&1; then
    say "codat_platform_c: not built — it will be skipped (pip install -e . or BENCH_BUILD_EXT=1)"
fi

if [ "${1:-}" = batch ]; then
    shift
    exec "$PY" "$HERE/batch_bench.py" "$@"
fi
if [ "${1:-}" = async ]; then
    shift
    exec "$PY" "$HERE/async_bench.py" "$@"
fi
if [ "${1:-}" = latency ]; then
    shift
    exec "$PY" "$HERE/latency_bench.py" "$@"
fi
if [ "${1:-}" = instructions ]; then
    shift
    exec "$PY" "$HERE/instructions.py" "$@"
fi
exec "$PY" "$HERE/bench.py" "$@"
