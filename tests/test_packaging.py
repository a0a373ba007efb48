"""Packaging: `python -m build` makes an sdist (with csrc/) and a wheel (with CODAT_WHEEL_DIR: those
scripts/wheel.sh made); both install into a fresh venv and pass tests there, from outside the source tree; a
missing C library gives a clear build error. On every other CPython 3.10-3.13 of the machine: the sdist builds
from source, and (with CODAT_WHEEL_DIR, as scripts/test.sh sets it after scripts/wheel.sh) the binary wheel
installs with --only-binary :all:; both pass tests/wheel_smoke.py, the wheel with its libraries from inside
itself."""
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("build")


def run(*cmd, cwd=None, env=None, timeout=600):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    wheel_dir = os.environ.get("CODAT_WHEEL_DIR")
    if wheel_dir:
        # scripts/wheel.sh (which scripts/test.sh runs just before) made the sdist with `python -m build` from
        # this checkout, with build isolation, and this CPython's wheel from that sdist, as `python -m build`
        # does: test those (the wheel as users get it, libraries bundled) rather than build both again.
        tag = "cp%d%d" % sys.version_info[:2]
        sdists = glob.glob(str(Path(wheel_dir) / "codat_platform_c-*.tar.gz"))
        wheels = glob.glob(str(Path(wheel_dir) / f"codat_platform_c-*-{tag}-{tag}-manylinux_*.whl"))
        assert len(sdists) == 1 and len(wheels) == 1, os.listdir(wheel_dir)
        return Path(sdists[0]), Path(wheels[0])
    out = tmp_path_factory.mktemp("dist")
    # Build isolation on: setuptools comes from PyPI into a throwaway environment, as for any user.
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    sdist = next(out.glob("*.tar.gz"))
    wheel = next(out.glob("*.whl"))
    return sdist, wheel


def test_sdist_has_the_c_sources(dists):
    sdist, _ = dists
    names = tarfile.open(sdist).getnames()
    for want in ["csrc/core/codat.h", "csrc/core/client.c", "csrc/binding/binding.h", "csrc/binding/compat.h", "setup.py",
                 "pyproject.toml", "codat_platform_c/_core.pyi", "codat_platform_c/py.typed"]:
        assert any(n.endswith(want) for n in names), want


def test_wheel_contents(dists):
    _, wheel = dists
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("codat_platform_c/_core.") and n.endswith(".so") for n in names)
    # Every module of the stand-in package (a subpackage the wheel must list explicitly in pyproject.toml).
    standin = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "codat_platform_c" / "testing").glob("*.py"))
    assert "codat_platform_c/testing/__init__.py" in standin and "codat_platform_c/testing/__main__.py" in standin
    for want in ["codat_platform_c/py.typed", "codat_platform_c/__init__.pyi", "codat_platform_c/sdk/__init__.py",
                 *standin]:
        assert want in names


@pytest.mark.parametrize("which", ["wheel", "sdist"])
def test_installs_and_passes_tests_in_a_fresh_venv(dists, tmp_path, which):
    venv = tmp_path / "venv"
    # Without pip of its own (ensurepip costs ~6 s of CPU per venv): this pip installs into it, as run_smoke's.
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    py = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", py, "install", "-q", dists[0] if which == "sdist" else dists[1],
        "pytest")
    # Tests copied away from the source tree, so that the installed package is the one imported.
    tests = tmp_path / "tests"
    tests.mkdir()
    for name in ["conftest.py", "test_basic.py", "test_errors.py"]:
        shutil.copy(ROOT / "tests" / name, tests / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    where = run(py, "-c", "import codat_platform_c, sys; print(codat_platform_c.__file__)", cwd=tmp_path, env=env)
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout
    r = run(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests, cwd=tmp_path, env=env)
    assert " passed" in r.stdout and "failed" not in r.stdout
    demo = run(py, "-m", "codat_platform_c", "demo", cwd=tmp_path, env=env)
    assert "accessToken" in demo.stdout


def pyenv_python(minor):
    """The newest pyenv CPython 3.<minor> (where these machines keep them), or None."""
    found = sorted(glob.glob(f"/root/.pyenv/versions/3.{minor}.*/bin/python"),
                   key=lambda p: [int(x) for x in Path(p).parent.parent.name.split(".") if x.isdigit()])
    return found[-1] if found else None


def run_smoke(python, tmp_path, install, libs):
    """A fresh venv of python, install (pip arguments) into it, then tests/wheel_smoke.py from outside the
    source tree."""
    venv = tmp_path / "venv"
    # Without pip of its own (ensurepip is the slowest part of a venv): this pip installs into it.
    run(python, "-m", "venv", "--without-pip", venv)
    py = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", py, "install", "-q", *install, "pytest")
    shutil.copy(ROOT / "tests" / "wheel_smoke.py", tmp_path / "wheel_smoke.py")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SSL_CERT_FILE", "SSL_CERT_DIR")}
    env["CODAT_SMOKE_LIBS"] = libs
    # A source build links the system's libraries: the check that they come from the wheel is not for it.
    select = [] if libs == "wheel" else ["-k", "not come_from_the_wheel"]
    r = run(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *select, tmp_path / "wheel_smoke.py",
            cwd=tmp_path, env=env, timeout=300)
    assert " passed" in r.stdout and "failed" not in r.stdout and "skipped" not in r.stdout, r.stdout


@pytest.mark.parametrize("minor", [10, 11, 12, 13])
def test_binary_wheel_installs_anywhere(tmp_path, minor):
    wheel_dir = os.environ.get("CODAT_WHEEL_DIR")
    if not wheel_dir:
        pytest.skip("no CODAT_WHEEL_DIR: run scripts/wheel.sh, then CODAT_WHEEL_DIR=dist")
    python = pyenv_python(minor)
    if python is None:
        pytest.skip(f"no CPython 3.{minor} under /root/.pyenv")
    # scripts/wheel.sh builds one wheel for every CPython it finds: a missing one is a failure here.
    wheels = glob.glob(str(Path(wheel_dir) / f"codat_platform_c-*-cp3{minor}-cp3{minor}-manylinux_*.whl"))
    assert len(wheels) == 1, (minor, os.listdir(wheel_dir))
    # --only-binary: a compiler is never asked for, for the wheel nor its (pure Python) dependencies.
    run_smoke(python, tmp_path, ["--only-binary", ":all:", wheels[0]], libs="wheel")


def test_binary_wheels_ship_the_bundled_licences():
    wheel_dir = os.environ.get("CODAT_WHEEL_DIR")
    if not wheel_dir:
        pytest.skip("no CODAT_WHEEL_DIR: run scripts/wheel.sh, then CODAT_WHEEL_DIR=dist")
    wheels = glob.glob(str(Path(wheel_dir) / "codat_platform_c-*-manylinux_*.whl"))
    assert wheels
    # Each bundled library, by the prefix of its file name in codat_platform_c.libs, and its notice.
    notices = {"libcjson": "cJSON.txt", "libssl": "OpenSSL.txt", "libcrypto": "OpenSSL.txt",
               "libnghttp2": "nghttp2.txt"}
    for wheel in wheels:
        names = zipfile.ZipFile(wheel).namelist()
        licences = {Path(n).name for n in names if "/licenses/bundled/" in n}
        assert "curl.txt" in licences, wheel  # libcurl is linked into _core.so itself
        for lib in (Path(n).name for n in names if n.startswith("codat_platform_c.libs/")):
            prefix = lib.split("-")[0]
            assert prefix in notices, f"{lib} is bundled without a known licence"
            assert notices[prefix] in licences, (wheel, lib)
        text = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("bundled/OpenSSL.txt")))
        assert b"Apache License" in text and b"Version 2.0" in text


# The sdist against the system's libcurl and cJSON on the oldest supported Python (the main suite covers 3.11).
# scripts/wheel.sh builds every version's wheel from the sdist too, with -Werror.
@pytest.mark.parametrize("minor", [10])
def test_sdist_builds_from_source_on_other_pythons(dists, tmp_path, minor):
    python = pyenv_python(minor)
    if python is None:
        pytest.skip(f"no CPython 3.{minor} under /root/.pyenv")
    run_smoke(python, tmp_path, [dists[0]], libs="system")


def test_missing_library_names_the_debian_package(tmp_path):
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path), PKG_CONFIG_PATH=str(tmp_path))
    r = subprocess.run([sys.executable, str(ROOT / "setup.py"), "build_ext", "-b", str(tmp_path / "b")],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode != 0
    assert "libcurl4-openssl-dev" in r.stderr and "libcjson-dev" in r.stderr
    assert "apt-get install" in r.stderr


def test_every_subpackage_is_listed_in_pyproject():
    """A package directory missing from [tool.setuptools] packages still lands in the wheel, as data files,
    with only a warning in the build log ("absent from the `packages` configuration"), until setuptools drops
    it: each one must be listed."""
    import tomllib
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {init.parent.relative_to(ROOT).as_posix().replace("/", ".")
             for init in (ROOT / "codat_platform_c").rglob("__init__.py")}
    assert found - listed == set(), f"packages missing from pyproject.toml: {sorted(found - listed)}"
    assert "codat_platform_c.testing" in listed


def test_version_in_one_place():
    import tomllib
    import codat_platform_c as codat
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert codat.__version__ == version
    assert f"codat-platform-c/{version} " in codat.USER_AGENT
