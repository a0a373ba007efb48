#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: the C unit tests (plain, under valgrind, and with
# ASan/UBSan), then the Python suite against the stand-in server on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== C unit tests"
bash tests/c/run.sh --quiet
echo "== Python tests"
.venv/bin/python -m pytest -q -p no:cacheprovider tests
