#!/usr/bin/env bash
# Sets up a fresh Debian machine for codat_platform_c, idempotently: the C libraries (apt), a virtual
# environment in .venv with the package built in place and the test tools (pip).
#   CODAT_WERROR=1 (the default here) builds with -Wall -Wextra -Werror.
#   bash scripts/setup.sh --apt-only: the Debian packages alone (what the C unit tests need), then exit.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libcurl4-openssl-dev libcjson-dev pkg-config gcc clang libclang-rt-14-dev valgrind nginx-light openssl)
bash scripts/apt.sh setup "${APT_PACKAGES[@]}"
[ "${1:-}" = --apt-only ] && exit 0

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  $PYTHON -m venv .venv
fi
# pip's own chatter goes to a log, shown only when a step fails.
log=$(mktemp)
quiet() { "$@" >"$log" 2>&1 || { cat "$log"; echo "setup: failed: $*"; exit 1; }; }
quiet .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
# Test-only dependencies: pytest, the official SDK (the conformance oracle), mypy, hypothesis, build.
quiet .venv/bin/python -m pip install -q -r requirements-test.txt
echo "setup: building the extension (-Werror)"
# editable_mode=compat: a plain path entry in a .pth rather than setuptools' import hook, which mypy and
# pyright cannot follow (a user's `mypy app.py` outside the checkout would find no codat_platform_c).
CODAT_WERROR=${CODAT_WERROR:-1} quiet .venv/bin/python -m pip install -q --no-build-isolation -e . \
    --config-settings editable_mode=compat
rm -f "$log"
.venv/bin/python -c "import codat_platform_c as c; print('setup: ok,', c.USER_AGENT)"
