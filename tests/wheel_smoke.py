"""Smoke suite for an installed codat_platform_c, run by tests/test_packaging.py inside a fresh venv of each
CPython (3.10-3.13) from the binary wheel or the sdist; not collected by the main run (no test_ prefix).

CODAT_SMOKE_LIBS=wheel also checks, from /proc/self/maps, that libcurl and cJSON come from inside the
installed wheel, not from the system."""
import asyncio
import os
import sys
from pathlib import Path

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer

AUTH = "Basic QVBJX0tFWQ=="


@pytest.fixture(scope="module")
def server():
    with StandInServer(auth_header=AUTH) as srv:
        yield srv


@pytest.fixture(scope="module")
def tls_server():
    with StandInServer(tls=True, auth_header=AUTH) as srv:
        yield srv


def test_installed_package_is_imported():
    site = Path(codat.__file__).resolve().parent.parent
    assert site.name == "site-packages" and Path(sys.prefix).resolve() in site.parents
    assert codat.__version__ in codat.USER_AGENT
    assert f"python/{sys.version_info[0]}.{sys.version_info[1]}." in codat.USER_AGENT


def test_tokens_over_http(server):
    with codat.Client(auth_header=AUTH, server_url=server.url) as client:
        assert client.get_access_token("c1") == {"accessToken": server.tokens_issued[-1]}
        token = client.get_company_access_token("c1")
        assert token["tokenType"] == "Bearer" and token["expiresIn"] > 0


def test_tokens_over_https_with_verify_path(tls_server):
    with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=tls_server.ca_path) as client:
        assert client.get_access_token("c1") == {"accessToken": tls_server.tokens_issued[-1]}


def test_https_finds_the_ca_from_ssl_cert_file(tls_server, monkeypatch):
    # The bundled OpenSSL knows only Debian's CA path; SSL_CERT_FILE must still be honoured, as by ssl.
    monkeypatch.setenv("SSL_CERT_FILE", tls_server.ca_path)
    with codat.Client(auth_header=AUTH, server_url=tls_server.url) as client:
        assert client.get_company_access_token("c1")["accessToken"]
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with codat.Client(auth_header=AUTH, server_url=tls_server.url) as client:
        with pytest.raises(codat.TransportError):
            client.get_company_access_token("c1")


def test_error_message(server):
    server.script("c401", Reply(status=401))
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as client:
        with pytest.raises(codat.ErrorMessage) as info:
            client.get_access_token("c401")
    assert info.value.status_code == 401 and info.value.service == "PublicApi"


def test_await(server):
    async def main():
        with codat.Client(auth_header=AUTH, server_url=server.url) as client:
            return await asyncio.gather(client.get_access_token_async("a1"),
                                        client.get_company_access_token_async("a2"))
    plain, company = asyncio.run(main())
    assert plain["accessToken"] and company["tokenType"] == "Bearer"


def test_batch(server):
    ids = [f"b{i}" for i in range(20)]
    with codat.Client(auth_header=AUTH, server_url=server.url) as client:
        tokens = client.get_access_tokens(ids, concurrency=8)
    assert sorted(tokens) == sorted(ids)
    assert all(t["accessToken"] for t in tokens.values())


def _mapped_files():
    with open("/proc/self/maps") as maps:
        return {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}


@pytest.mark.skipif(os.environ.get("CODAT_SMOKE_LIBS") != "wheel", reason="only for the binary wheel")
def test_libcurl_and_cjson_come_from_the_wheel():
    from codat_platform_c import _core
    package = Path(_core.__file__).resolve().parent
    mapped = _mapped_files()
    assert str(Path(_core.__file__).resolve()) in mapped
    # cJSON: a copy in codat_platform_c.libs (auditwheel's private name), none from the system.
    cjson = {m for m in mapped if "libcjson" in Path(m).name}
    assert cjson and all(Path(m).parent == package.parent / "codat_platform_c.libs" for m in cjson), cjson
    # libcurl: linked statically into _core.so, so no libcurl file is mapped at all...
    assert not {m for m in mapped if "libcurl" in Path(m).name}
    # ...and none of what Debian's libcurl4 would drag in (the trimmed build has no LDAP, RTMP, SSH, GSSAPI).
    assert not any(Path(m).name.startswith(("libldap", "librtmp", "libssh2", "libgssapi")) for m in mapped)
    # OpenSSL for libcurl: the wheel's copy (Python's own ssl module may map the system's beside it).
    assert any(Path(m).name.startswith("libssl-") and Path(m).parent.name == "codat_platform_c.libs"
               for m in mapped)
