"""The stubs: mypy --strict accepts an example using every public name, rejects typical mistakes, and the
example really runs against the stand-in (so the stubs describe what exists)."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "typing"
pytest.importorskip("mypy")


def mypy(path):
    # --follow-imports=silent: report errors in the checked file only, as for an installed package.
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                           "--no-incremental", "--cache-dir=/dev/null", str(path)],
                          capture_output=True, text=True)


def test_strict_example_passes():
    r = mypy(HERE / "example_strict.py")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mistakes_are_caught():
    r = mypy(HERE / "example_wrong.py")
    assert r.returncode == 1
    found = {(int(m.group(1)), m.group(2)) for m in re.finditer(r"example_wrong\.py:(\d+): error: .*\[([\w-]+)\]", r.stdout)}
    expected = set()
    for no, line in enumerate((HERE / "example_wrong.py").read_text().splitlines(), 1):
        m = re.search(r"# E: ([\w-]+)", line)
        if m:
            expected.add((no, m.group(1)))
    assert found == expected, r.stdout


def test_strict_example_runs():
    spec = importlib.util.spec_from_file_location("example_strict", HERE / "example_strict.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.with_stand_in()


def test_stub_names_match_the_module():
    import codat_platform_c as codat
    stub = (Path(codat.__file__).parent / "__init__.pyi").read_text()
    for name in codat.__all__:
        assert re.search(rf"\b{re.escape(name)}\b", stub), f"{name} missing from __init__.pyi"
    core_stub = (Path(codat.__file__).parent / "_core.pyi").read_text()
    for name in dir(codat._core):
        if not name.startswith("__") or name == "__version__":
            assert name in core_stub, f"_core.{name} missing from _core.pyi"
    assert (Path(codat.__file__).parent / "py.typed").exists()


USER_APP = '''\
import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer

with StandInServer() as srv:
    srv.script("acme", Reply(status=503))
    with codat.Client(api_key="k", server_url=srv.url) as client:
        token: str = client.get_access_token("acme")["accessToken"]
        count: int = srv.request_count("acme")
'''


@pytest.mark.parametrize("where", ["outside the checkout", "in the checkout"])
def test_plain_mypy_on_a_user_app(tmp_path, where):
    """`mypy app.py` as a user types it (no flags): it finds the package from anywhere (setup.sh's editable
    install is a path entry mypy can follow), and from inside the checkout, where mypy reads the package's
    own sources, the stand-in's code type-checks too."""
    app = tmp_path / "app.py"
    app.write_text(USER_APP)
    cwd = tmp_path if where == "outside the checkout" else Path(__file__).resolve().parent.parent
    # in the checkout, --no-site-packages makes mypy read the package from the working directory, as it does
    # in a plain checkout (no editable install), and so report what it finds in the package itself
    flags = [] if where == "outside the checkout" else ["--no-site-packages"]
    r = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir=/dev/null", *flags,
                        str(app)], capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0, r.stdout + r.stderr


def test_c_methods_have_signatures_matching_the_stub():
    # help(), IDEs and inspect.signature read __text_signature__ (the docstring's first line, ended by "--")
    import ast
    import inspect
    import pathlib

    import codat_platform_c as codat

    stub = ast.parse((pathlib.Path(codat.__file__).parent / "_core.pyi").read_text())
    (cls,) = [n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "Client"]
    stubbed = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    for name in ("get_access_token", "get_company_access_token", "get_access_tokens", "close", "__init__"):
        target = codat._core.Client if name == "__init__" else getattr(codat._core.Client, name)
        params = list(inspect.signature(target).parameters)
        args = stubbed[name].args
        expected = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        if name != "__init__":
            assert params[0] == "self"
        assert [p for p in params if p != "self"] == [a for a in expected if a != "self"], name
