#!/usr/bin/env bash
# Sets up (scripts/setup.sh), starts the embedded stand-in Codat server on 127.0.0.1 and fetches tokens
# from it through the C client.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m codat_platform_c demo
