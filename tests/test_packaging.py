"""Packaging: `python -m build` makes an sdist (with csrc/) and a wheel; both install into a fresh venv and
pass tests there, from outside the source tree; a missing C library gives a clear build error."""
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
    out = tmp_path_factory.mktemp("dist")
    # Build isolation on: setuptools comes from PyPI into a throwaway environment, as for any user.
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    sdist = next(out.glob("*.tar.gz"))
    wheel = next(out.glob("*.whl"))
    return sdist, wheel


def test_sdist_has_the_c_sources(dists):
    sdist, _ = dists
    names = tarfile.open(sdist).getnames()
    for want in ["csrc/core/codat.h", "csrc/core/client.c", "csrc/binding/binding.h", "setup.py",
                 "pyproject.toml", "codat_platform_c/_core.pyi", "codat_platform_c/py.typed"]:
        assert any(n.endswith(want) for n in names), want


def test_wheel_contents(dists):
    _, wheel = dists
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("codat_platform_c/_core.") and n.endswith(".so") for n in names)
    for want in ["codat_platform_c/py.typed", "codat_platform_c/__init__.pyi", "codat_platform_c/testing.py",
                 "codat_platform_c/sdk/__init__.py"]:
        assert want in names


@pytest.mark.parametrize("which", ["wheel", "sdist"])
def test_installs_and_passes_tests_in_a_fresh_venv(dists, tmp_path, which):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    py = venv / "bin" / "python"
    run(py, "-m", "pip", "install", "-q", dists[0] if which == "sdist" else dists[1], "pytest")
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


def test_missing_library_names_the_debian_package(tmp_path):
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path), PKG_CONFIG_PATH=str(tmp_path))
    r = subprocess.run([sys.executable, str(ROOT / "setup.py"), "build_ext", "-b", str(tmp_path / "b")],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode != 0
    assert "libcurl4-openssl-dev" in r.stderr and "libcjson-dev" in r.stderr
    assert "apt-get install" in r.stderr


def test_version_in_one_place():
    import tomllib
    import codat_platform_c as codat
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert codat.__version__ == version
    assert f"codat-platform-c/{version} " in codat.USER_AGENT
