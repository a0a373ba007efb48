#!/usr/bin/env bash
# Installs the Debian packages named that are not installed yet, and nothing when all are:
#
#   bash scripts/apt.sh WHO PACKAGE...     (WHO names the caller in the one line it prints)
#
# The one apt block of scripts/setup.sh, scripts/wheel.sh and bench/run.sh. apt-get runs as root, or through
# sudo, and under flock /tmp/apt.lock where flock exists, so that two setups on one machine wait for each
# other instead of failing on dpkg's lock.
set -euo pipefail
who=$1
shift
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -gt 0 ] || exit 0
echo "$who: installing Debian packages: ${missing[*]}"
run=()
[ "$(id -u)" -ne 0 ] && run+=(sudo)
command -v flock >/dev/null 2>&1 && run+=(flock /tmp/apt.lock)
"${run[@]}" apt-get update -qq
"${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
