"""README.md's Python examples, run as a new user would paste them, against the stand-in server.

The only edits made to a block before running it point it at the stand-in instead of api.codat.io (a
`server_url=` added to the constructor calls) and give its free names (`company_id`, `key`, `ids`) values.
A block that stops running, or a new Python block that no test here runs, fails the suite."""
import ast
import re
import sys
import types
from pathlib import Path

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import StandInServer

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
AUTH = "Basic QVBJX0tFWQ=="
COMPANY = "8a210b68-6988-11ed-a1eb-0242ac120002"


def python_blocks():
    return re.findall(r"^( *)```python\n(.*?)^\1```", README, flags=re.S | re.M)


def block_containing(marker):
    found = [textwrap_dedent(body, indent) for indent, body in python_blocks() if marker in body]
    assert len(found) == 1, f"expected one README python block with {marker!r}, found {len(found)}"
    return found[0]


def textwrap_dedent(body, indent):
    return "".join(line[len(indent):] if line.startswith(indent) else line for line in body.splitlines(True))


MARKERS = {
    "quick start": 'client = codat.Client(api_key="YOUR_API_KEY")',
    "api signatures": "codat.Client(auth_header=None, *, api_key=None",
    "tqdm": "from tqdm import tqdm",
    "migration": "from codat_platform_c.sdk import CodatPlatform",
    "stand-in": "from codat_platform_c.testing import StandInServer, Reply",
}


def test_every_python_block_is_covered():
    for indent, body in python_blocks():
        assert any(marker in body for marker in MARKERS.values()), f"README block not run by a test:\n{body}"


@pytest.fixture
def open_server(monkeypatch):
    """A stand-in that takes any credentials (the quick start uses two different ones), and the
    environment the module-level helpers read."""
    with StandInServer() as srv:
        monkeypatch.setenv("CODAT_SERVER_URL", srv.url)
        monkeypatch.setenv("CODAT_AUTH_HEADER", AUTH)
        monkeypatch.delenv("CODAT_API_KEY", raising=False)
        old_default, codat._default = codat._default, None
        try:
            yield srv
        finally:
            if codat._default is not None:
                codat._default.close()
            codat._default = old_default


def pointed_at(code, url):
    code = code.replace("codat.Client(api_key=", f"codat.Client(server_url={url!r}, api_key=")
    code = code.replace("codat.Client(auth_header=", f"codat.Client(server_url={url!r}, auth_header=")
    return code.replace("CodatPlatform(security=", f"CodatPlatform(server_url={url!r}, security=")


def test_quick_start(open_server):
    code = pointed_at(block_containing(MARKERS["quick start"]), open_server.url)
    namespace = {"company_id": COMPANY, "key": "API_KEY"}
    exec(compile(code, "README quick start", "exec"), namespace)
    client = namespace["client"]
    assert client.closed is False and client.server_url == open_server.url
    assert client.get_company_access_token(COMPANY).keys() == {"accessToken", "expiresIn", "tokenType"}
    assert namespace["c"].closed is True  # the with block closed it
    with pytest.raises(ValueError):
        namespace["c"].get_access_token(COMPANY)
    assert open_server.request_count(COMPANY) == 4  # two by the block, one by default_client, one here


def test_api_signatures_are_the_real_defaults(open_server):
    """The API block's calls, made with exactly the arguments and defaults it shows."""
    block = block_containing(MARKERS["api signatures"])
    constructor = re.search(r"^codat\.Client\((.*?)\)\n(?=client)", block, flags=re.S | re.M).group(1)
    retry_config = re.search(r"^codat\.RetryConfig\((.*?)\)\n", block, flags=re.S | re.M).group(1)
    made = eval(f"codat.RetryConfig({retry_config})", {"codat": codat})
    assert repr(made) == repr(codat.RetryConfig())
    call = ast.parse(f"f({constructor.replace('*,', '')})", mode="eval").body
    kwargs = {k.arg: eval(ast.unparse(k.value), {"codat": codat}) for k in call.keywords}
    assert kwargs.pop("auth_header") is None
    assert {"api_key", "server_url", "timeout_ms", "retries", "verify", "cache"} <= set(kwargs)
    kwargs["server_url"] = open_server.url
    client = codat.Client(AUTH, **kwargs)
    assert client.get_access_token(COMPANY).keys() == {"accessToken"}
    assert client.get_company_access_token(COMPANY, timeout_ms=5000, retries=None, server_url=None,
                                           http_headers=None)["tokenType"] == "Bearer"
    batch = client.get_access_tokens([COMPANY, "status-404"], concurrency=codat.DEFAULT_CONCURRENCY,
                                     endpoint="company",
                                     progress=None, threads=None)
    assert batch[COMPANY]["expiresIn"] > 0 and isinstance(batch["status-404"], codat.ErrorMessage)
    assert set(client.rate_limit) == {"limit", "remaining", "reset"}
    client.invalidate(COMPANY)
    client.invalidate()
    client.close()
    assert client.closed


def test_tqdm_progress(monkeypatch):
    try:
        import tqdm  # noqa: F401
    except ImportError:  # the README's callback needs only update() and n: a bar of that shape
        class Bar:
            def __init__(self, total):
                self.total, self.n = total, 0

            def update(self, count):
                self.n += count

        monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=Bar))
    ids = [f"company-{i}" for i in range(50)]
    # as Codat answers since 2026-10-12: the example must ask the live endpoint to get tokens
    with StandInServer(retired_connection_management=True) as srv:
        client = codat.Client(auth_header=AUTH, server_url=srv.url)
        namespace = {"client": client, "ids": ids}
        exec(compile(block_containing(MARKERS["tqdm"]), "README tqdm", "exec"), namespace)
    assert namespace["bar"].n == len(ids)
    assert all(isinstance(v, dict) and v["expiresIn"] > 0 for v in namespace["tokens"].values())


def test_migration_from_the_official_sdk(open_server):
    code = pointed_at(block_containing(MARKERS["migration"]), open_server.url)
    namespace = {"company_id": COMPANY}
    exec(compile(code, "README migration", "exec"), namespace)
    assert namespace["res"].access_token.startswith("tok-") and namespace["res"].expires_in > 0
    assert open_server.request_count(COMPANY) == 1


def test_stand_in_example():
    namespace = {"codat": codat}
    exec(compile(block_containing(MARKERS["stand-in"]), "README stand-in", "exec"), namespace)
    assert namespace["client"].get_access_token is not None
    assert namespace["srv"].request_count("acme") == 2


def test_client_without_credentials_sends_none_unless_a_call_does():
    """README: with neither auth_header nor api_key, a call's own Authorization in http_headers is used,
    and without one Codat (here the stand-in) answers 401."""
    with StandInServer(auth_header=AUTH) as srv, codat.Client(server_url=srv.url) as client:
        assert client.get_access_token("a", http_headers={"Authorization": AUTH})["accessToken"]
        with pytest.raises(codat.ErrorMessage) as caught:
            client.get_access_token("a", retries=None)
        assert caught.value.status_code == 401
        with pytest.raises(ValueError, match="not both"):
            codat.Client(auth_header=AUTH, api_key="API_KEY")
