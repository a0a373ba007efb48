"""Build of the codat_platform_c._core extension.

libcurl and cJSON are found with pkg-config. Switches (environment variables):
  CODAT_WERROR=1     -Werror on top of -Wall -Wextra (CI sets it)
  CODAT_SANITIZE=1   -fsanitize=address,undefined (run with LD_PRELOAD of libasan; see scripts/sanitize.sh)
  CODAT_SANITIZE=thread  -fsanitize=thread (run with LD_PRELOAD of libtsan; see scripts/tsan.sh)
  CODAT_DEBUG=1      -O0 -g and assertions on
"""
import os
import shutil
import subprocess
import re
import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
# The version lives in pyproject.toml only. Read with a regular expression rather than tomllib, which
# Python 3.10 lacks: the line is ours and simple.
VERSION = re.search(r'(?m)^version\s*=\s*"([^"]+)"', (HERE / "pyproject.toml").read_text()).group(1)

DEBIAN_PACKAGES = {"libcurl": "libcurl4-openssl-dev", "libcjson": "libcjson-dev"}


def pkg_config(*args):
    if not shutil.which("pkg-config"):
        sys.exit("codat_platform_c: pkg-config is missing: apt-get install pkg-config "
                 + " ".join(DEBIAN_PACKAGES.values()))
    out = subprocess.run(["pkg-config", *args], capture_output=True, text=True)
    if out.returncode != 0:
        missing = [f"{lib} (Debian: {deb})" for lib, deb in DEBIAN_PACKAGES.items()
                   if subprocess.run(["pkg-config", "--exists", lib]).returncode != 0]
        sys.exit("codat_platform_c: cannot find " + ", ".join(missing or list(DEBIAN_PACKAGES))
                 + ". Install: apt-get install " + " ".join(DEBIAN_PACKAGES.values()))
    return out.stdout.split()


def flag(name):
    return os.environ.get(name, "") not in ("", "0")


cflags = pkg_config("--cflags", *DEBIAN_PACKAGES)
libs = pkg_config("--libs", *DEBIAN_PACKAGES)
extra_compile = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-fvisibility=hidden",
                 # A C API missing from the Python at hand must stop the build, not make an .so that
                 # fails at import with an undefined symbol (3.11 names built for 3.10, say).
                 "-Werror=implicit-function-declaration", *cflags]
# --exclude-libs: when libcurl is a static archive (the wheel's trimmed build, scripts/wheel.sh), its
# symbols stay private to _core.so, so another libcurl in the process (pycurl's, say) cannot clash.
extra_link = [*libs, "-lpthread", "-lm", "-Wl,--exclude-libs,ALL"]
if flag("CODAT_WERROR"):
    extra_compile.append("-Werror")
if flag("CODAT_DEBUG") or flag("CODAT_SANITIZE"):
    extra_compile += ["-O0", "-g3", "-UNDEBUG"]
else:
    extra_compile += ["-O2"]
if os.environ.get("CODAT_SANITIZE") == "thread":
    san = ["-fsanitize=thread", "-fno-omit-frame-pointer"]
    extra_compile += san
    extra_link += san
elif flag("CODAT_SANITIZE"):
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
    extra_compile += san
    extra_link += san

core = sorted(str(p.relative_to(HERE)) for p in (HERE / "csrc" / "core").glob("*.c"))
binding = sorted(str(p.relative_to(HERE)) for p in (HERE / "csrc" / "binding").glob("*.c"))

setup(
    ext_modules=[
        Extension(
            "codat_platform_c._core",
            sources=core + binding,
            define_macros=[("CODAT_VERSION", f'"{VERSION}"')],
            extra_compile_args=extra_compile,
            extra_link_args=extra_link,
            depends=[str(p.relative_to(HERE)) for p in (HERE / "csrc").rglob("*.h")],
        )
    ],
)
