"""The binding's contract with the Python layers (issue 13): the stubs name exactly what exists, one
definition of the default server URL and one reader of the environment, the token cache's batch refuses
bad arguments with the C batch's own checks, keyword names however they are built, and the loopback
rule for the plain-http warning."""
import ast
import re
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import codat_platform_c as codat
from conftest import AUTH

PACKAGE = Path(codat.__file__).parent  # the package imported (a copy of it under scripts/sanitize.sh)
ROOT = Path(__file__).resolve().parents[1]  # the checkout, for its C sources
# Names the stubs define for typing only (a Protocol, a TypedDict, aliases): they must not exist at run
# time either, so that nobody imports them expecting an object.
STUB_ONLY = {"_RetryLike", "_RateLimit", "_Endpoint", "_Unset"}


def stub_names(path):
    """Top-level names a stub gives its importers: definitions, annotated names, and `import x as x`
    re-exports (a plain import in a stub is not re-exported, PEP 484)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.asname for a in node.names if a.asname and a.asname == a.name.split(".")[-1])
    return names


def runtime_names(module):
    # submodules (sdk, testing, _client, ...) are attributes once imported; they have their own stubs
    return {name for name in dir(module)
            if (not name.startswith("__") or name in ("__version__", "__all__"))
            and not isinstance(getattr(module, name), types.ModuleType)}


@pytest.mark.parametrize("stub, module", [("__init__.pyi", codat), ("_core.pyi", codat._core)],
                         ids=["codat_platform_c", "_core"])
def test_every_stub_name_exists_at_run_time_and_back(stub, module):
    stubbed = stub_names(PACKAGE / stub) - STUB_ONLY
    at_run_time = runtime_names(module)
    if module is codat:
        # private helpers of __init__.py are not stubbed
        at_run_time = {n for n in at_run_time if not n.startswith("_") or n in ("__version__", "__all__")}
    assert stubbed - at_run_time == set(), "in the stub, missing at run time"
    assert at_run_time - stubbed == set(), "at run time, missing from the stub"
    if module is codat:
        assert set(codat.__all__) == stubbed - {"__all__"}
    for name in STUB_ONLY:
        assert not hasattr(module, name), name


def test_rate_limit_is_not_promised():
    # regression: __init__.pyi re-exported RateLimit from _core.pyi, which exists in neither module
    assert "RateLimit" not in stub_names(PACKAGE / "__init__.pyi")
    assert "RateLimit" not in stub_names(PACKAGE / "_core.pyi")
    with pytest.raises(AttributeError):
        codat.RateLimit  # noqa: B018


def test_client_methods_in_the_stub_exist_and_back():
    tree = ast.parse((PACKAGE / "_core.pyi").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Client"]
    stubbed = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    at_run_time = {n for n in vars(codat._core.Client) if not n.startswith("__")}
    assert at_run_time - stubbed == set()
    assert {n for n in stubbed if not n.startswith("__")} - at_run_time == set()


# ---- one definition of the default server URL ----

def test_default_server_url_comes_from_the_core():
    assert codat.DEFAULT_SERVER_URL == codat._core.DEFAULT_SERVER_URL == "https://api.codat.io"
    with codat.Client() as client:
        assert client.server_url == codat.DEFAULT_SERVER_URL
    assert f"server_url='{codat.DEFAULT_SERVER_URL}'" in codat._core.Client.__text_signature__
    assert "codat.io" not in (PACKAGE / "__init__.py").read_text().split("def default_client")[0]


def test_default_server_url_is_written_once():
    # regression: it was written in client_type.c (code and docstring) and __init__.py besides codat.h
    written = []
    for path in [*ROOT.glob("csrc/**/*.[ch]"), *ROOT.glob("codat_platform_c/**/*.py")]:
        for no, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"[\"']https://api\.codat\.io/?[\"']", line):
                written.append(f"{path.relative_to(ROOT)}:{no}")
    assert written == ["csrc/core/codat.h:" + str(next(
        no for no, line in enumerate((ROOT / "csrc/core/codat.h").read_text().splitlines(), 1)
        if "#define CODAT_DEFAULT_SERVER_URL" in line))], written


def test_the_cli_help_shows_the_core_default():
    r = subprocess.run([sys.executable, "-m", "codat_platform_c", "token", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and codat.DEFAULT_SERVER_URL in " ".join(r.stdout.split()), r.stdout


# ---- one reader of the environment ----

@pytest.mark.parametrize("env, expected", [
    ({}, {"auth_header": None, "api_key": None, "server_url": "https://api.codat.io"}),
    ({"CODAT_API_KEY": "k", "CODAT_SERVER_URL": "http://127.0.0.1:9"},
     {"auth_header": None, "api_key": "k", "server_url": "http://127.0.0.1:9"}),
    ({"CODAT_AUTH_HEADER": "Basic x", "CODAT_API_KEY": "k", "CODAT_SERVER_URL": ""},
     {"auth_header": "Basic x", "api_key": None, "server_url": "https://api.codat.io"}),
])
def test_settings_from_env(monkeypatch, env, expected):
    for name in ("CODAT_AUTH_HEADER", "CODAT_API_KEY", "CODAT_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert codat._settings_from_env() == expected


def test_default_client_and_cli_read_the_environment_the_same_way(server, monkeypatch):
    monkeypatch.setattr(codat, "_default", None)
    monkeypatch.delenv("CODAT_AUTH_HEADER", raising=False)
    monkeypatch.setenv("CODAT_API_KEY", "API_KEY")  # AUTH is "Basic " + base64("API_KEY")
    monkeypatch.setenv("CODAT_SERVER_URL", server.url)
    try:
        assert codat.get_company_access_token("env-1")["accessToken"]
    finally:
        codat.default_client().close()
    r = subprocess.run([sys.executable, "-m", "codat_platform_c", "token", "env-2"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
    # --server-url still wins over the environment
    r = subprocess.run([sys.executable, "-m", "codat_platform_c", "token", "env-3", "--server-url",
                        "http://127.0.0.1:9", "--no-retries"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr


# ---- the token cache's batch: the C checks, the C messages ----

BAD_BATCHES = [
    (["ok", ["x"]], {}),                   # unhashable: was "unhashable type: 'list'"
    (5, {}),                               # not iterable: was "'int' object is not iterable"
    ("abc", {}),
    (["ok", 7], {}),
    (["ok", ""], {}),
    (["ok", "a\0b"], {}),
    (["ok"], {"concurrency": 0}),
    (["ok"], {"concurrency": True}),
    (["ok"], {"threads": 65}),
    (["ok"], {"endpoint": "nope"}),
    (["ok"], {"progress": 3}),
    (["ok"], {"timeout_ms": -1}),
    (["ok"], {"http_headers": {"Host": "x"}}),
    (["ok"], {"server_url": "ftp://x"}),
    (["ok"], {"retries": "no"}),
    (["ok"], {"bogus": 1}),
]


def raised(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises((TypeError, ValueError)) as info:
            call()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("ids, options", BAD_BATCHES)
def test_cached_batch_refuses_as_the_c_batch_does(server, ids, options):
    with codat.Client(auth_header=AUTH, server_url=server.url) as plain, \
            codat.Client(auth_header=AUTH, server_url=server.url, cache=True) as cached:
        cached.get_access_tokens(["ok"], endpoint="company")  # "ok" cached: nothing would be sent for it
        options = {"endpoint": "company", **options}
        expected = raised(lambda: plain.get_access_tokens(ids, **options))
        assert raised(lambda: cached.get_access_tokens(ids, **options)) == expected
        assert raised(lambda: codat._core.Client._check_batch_args(plain, ids, **options)) == expected
        assert cached.get_access_tokens(["ok"], endpoint="company")["ok"]["accessToken"]  # still usable


def test_check_batch_args_sends_nothing_and_keeps_first_seen_order(server):
    with codat.Client(auth_header=AUTH, server_url=server.url) as client, warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning from a check, even for the default endpoint
        ids = client._check_batch_args(iter(["b", "a", "b", "c", "a"]))
        assert ids == ["b", "a", "c"]
    assert server.request_count("b") == 0
    client.close()
    with pytest.raises(ValueError, match="Client is closed"):
        client._check_batch_args(["a"])


def test_fully_cached_batch_still_warns_about_the_retired_endpoint(server):
    with codat.Client(auth_header=AUTH, server_url=server.url, cache=True) as cached:
        with pytest.warns(DeprecationWarning, match="retired"):
            cached.get_access_tokens(["w"])
        with pytest.warns(DeprecationWarning, match="retired") as record:
            assert cached.get_access_tokens(["w"])["w"]["accessToken"]
        assert record[0].filename == __file__  # pointed at the caller
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cached.get_access_tokens(["w"], endpoint="company")


# ---- keyword names (interned once in module state) ----

class Name(str):
    pass


def test_keywords_match_by_value_however_built(client):
    built = "".join(["timeout", "_ms"])  # a str made at run time: not the interned constant
    assert built is not "timeout_ms"  # noqa: F632
    assert client.get_company_access_token("kw-1", **{built: 5000})["accessToken"]
    assert client.get_company_access_token("kw-2", **{Name("http_headers"): {"X-A": "1"}})["accessToken"]
    with pytest.raises(ValueError, match="timeout_ms must be a positive"):
        client.get_company_access_token("kw-3", **{built: 0})
    with pytest.raises(TypeError, match="unexpected keyword argument 'concurrency'"):
        client.get_company_access_token("kw-4", concurrency=3)  # a batch's name, not a single call's
    out = client.get_access_tokens(["kw-5"], **{"".join(["end", "point"]): "company", Name("threads"): 1})
    assert out["kw-5"]["accessToken"]


# ---- the plain-http warning and the loopback rule (netaddr.c) ----

@pytest.mark.parametrize("url, warns", [
    ("http://api.example.com", True),
    ("HTTP://API.EXAMPLE.COM", True),
    ("http://127.0.0.1.example.com", True),
    ("http://127.0.0.1:9", False),
    ("http://[0:0:0:0:0:0:0:1]:9", False),
    ("https://127.0.0.1:9", False),
    ("https://api.example.com", False),
    ("HTTPS://api.example.com", False),
])
def test_plain_http_warning(url, warns):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        codat.Client(auth_header="Basic x", server_url=url).close()
        codat.Client(server_url=url).close()  # no auth header: nothing to leak, no warning
    assert [str(w.message) for w in record if "unencrypted" in str(w.message)] == (
        ["server_url uses plain http:// to a non-loopback host: the auth header would travel unencrypted"]
        if warns else [])
