"""Bad input gets a clear Python exception and leaves the client usable; secrets never leak."""
import logging

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer
from conftest import AUTH


@pytest.mark.parametrize("bad", [None, 123, b"bytes", ["x"], object()])
def test_company_id_wrong_type(client, bad):
    with pytest.raises(TypeError, match="company_id must be str"):
        client.get_access_token(bad)
    assert client.get_access_token("ok")["accessToken"]


@pytest.mark.parametrize("bad,match", [("", "empty"), ("a\0b", "NUL"), ("x" * 1025, "too long")])
def test_company_id_bad_value(client, server, bad, match):
    with pytest.raises(ValueError, match=match):
        client.get_access_token(bad)
    with pytest.raises(ValueError, match=match):
        client.get_company_access_token(bad)
    assert server.request_count() == 0
    assert client.get_access_token("ok")["accessToken"]


def test_lone_surrogate_company_id(client):
    with pytest.raises(UnicodeEncodeError):  # a ValueError
        client.get_access_token("\udc80")
    assert client.get_access_token("ok")["accessToken"]


def test_wrong_call_shapes(client):
    with pytest.raises(TypeError):
        client.get_access_token()
    with pytest.raises(TypeError):
        client.get_access_token("a", "b")
    with pytest.raises(TypeError, match="unexpected keyword"):
        client.get_access_token("a", bogus=1)
    with pytest.raises(TypeError):
        client.get_access_token("a", timeout_ms="5")
    with pytest.raises(TypeError):
        client.get_access_token("a", timeout_ms=True)
    with pytest.raises(ValueError):
        client.get_access_token("a", timeout_ms=-1)
    with pytest.raises(ValueError):
        client.get_access_token("a", timeout_ms=0)
    with pytest.raises(TypeError):
        client.get_access_token("a", http_headers=[("a", "b")])
    with pytest.raises(TypeError):
        client.get_access_token("a", http_headers={"a": 1})
    with pytest.raises(ValueError):
        client.get_access_token("a", server_url="ftp://x")
    assert client.get_access_token("ok")["accessToken"]


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b"])
def test_crlf_in_http_headers_refused(client, server, value):
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        client.get_access_token("a", http_headers={"X-Trace": value})
    with pytest.raises(ValueError, match="token characters"):
        client.get_access_token("a", http_headers={"X-Bad\r\nName": "v"})
    with pytest.raises(ValueError):
        client.get_access_token("a", http_headers={"": "v"})
    assert server.request_count() == 0


@pytest.mark.parametrize("bad", ["Basic abc\r\nX-Evil: 1", "Basic\nabc", "Basic abc\0"])
def test_crlf_in_auth_header_refused_without_echo(bad):
    with pytest.raises(ValueError) as info:
        codat.Client(auth_header=bad)
    assert "auth_header" in str(info.value)
    assert "abc" not in str(info.value) and "Evil" not in str(info.value)


def test_constructor_checks():
    with pytest.raises(TypeError):
        codat.Client(auth_header=b"Basic x")
    with pytest.raises(ValueError):
        codat.Client(auth_header="")
    with pytest.raises(ValueError, match="not both"):
        codat.Client(auth_header="Basic x", api_key="k")
    with pytest.raises(ValueError):
        codat.Client(api_key="k\n")
    for url in ["ftp://x", "file:///etc/passwd", "api.codat.io", "http://", "https://user:pw@h",
                "https://h/ x", "https://h/?q=1", "https://h/#f", "javascript:alert(1)"]:
        with pytest.raises(ValueError):
            codat.Client(server_url=url)
    with pytest.raises(TypeError):
        codat.Client(server_url=5)
    with pytest.raises(TypeError):
        codat.Client(verify=1)
    with pytest.raises(FileNotFoundError):
        codat.Client(verify="/no/such/ca.pem")
    with pytest.raises(TypeError):
        codat.Client(retries="fast")
    with pytest.raises(ValueError):
        codat.Client(retries=codat.RetryConfig(status_codes=("6XX",)))
    with pytest.raises(ValueError):
        codat.Client(retries=codat.RetryConfig(exponent=0.5))
    with pytest.raises(ValueError):
        codat.Client(retries=codat.RetryConfig(initial_interval_ms=-1))
    with pytest.raises(ValueError):
        codat.Client(max_body_bytes=10)


def test_plain_http_to_remote_host_warns():
    with pytest.warns(UserWarning, match="unencrypted"):
        codat.Client(auth_header="Basic x", server_url="http://api.example.com").close()
    for url in ["http://127.evil.example", "http://127.0.0.1.evil.example/", "http://localhost.evil.example",
                "http://127.0.0.1000", "http://128.0.0.1"]:
        with pytest.warns(UserWarning, match="unencrypted"):
            codat.Client(auth_header="Basic x", server_url=url).close()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for url in ["http://127.0.0.1:1", "http://127.1.2.3/base", "http://localhost:8080", "http://LOCALHOST",
                    "http://[::1]:80", "https://api.example.com"]:
            codat.Client(auth_header="Basic x", server_url=url).close()


def test_out_of_range_numbers_are_value_errors(client):
    huge = 10 ** 30
    with pytest.raises(ValueError, match="timeout_ms is out of range"):
        client.get_access_token("x", timeout_ms=huge)
    with pytest.raises(ValueError, match="out of range"):
        codat.Client(max_body_bytes=huge)
    with pytest.raises(ValueError, match="RetryConfig.max_elapsed_ms is out of range"):
        codat.Client(retries=codat.RetryConfig(max_elapsed_ms=huge))
    with pytest.raises(ValueError, match="exponent"):
        codat.Client(retries=codat.RetryConfig(exponent=10 ** 400))
    with pytest.raises(ValueError, match="concurrency"):
        client.get_access_tokens(["a"], concurrency=huge)
    assert client.get_access_token("ok")["accessToken"]


def test_repr_never_shows_the_secret():
    secret = "Basic U0VDUkVUX0tFWV9WQUxVRQ=="
    c = codat.Client(auth_header=secret, server_url="http://127.0.0.1:1")
    r = repr(c)
    assert "U0VDUkVU" not in r and "redacted" in r and "127.0.0.1:1" in r
    c2 = codat.Client(api_key="SECRET_KEY_VALUE", server_url="http://127.0.0.1:1")
    assert "SECRET" not in repr(c2) and "U0VDUkVU" not in repr(c2)
    assert "SECRET" not in str(vars(c2))


def test_secret_never_in_exceptions_even_when_echoed():
    secret_key = "SUPER_SECRET_KEY_123"
    import base64
    header = "Basic " + base64.b64encode(secret_key.encode()).decode()
    cred = header.split(" ", 1)[1]
    with StandInServer() as server, codat.Client(api_key=secret_key, server_url=server.url, retries=None) as c:
        # A misbehaving proxy echoing the request headers back in its error body and headers.
        server.script("c1", Reply(status=502, body=f"you sent Authorization: {header}",
                                  headers={"X-Echo": header}))
        with pytest.raises(codat.SDKError) as info:
            c.get_access_token("c1")
        e = info.value
        for text in (str(e), repr(e), e.body, repr(e.headers)):
            assert cred not in text and secret_key not in text
        assert "[REDACTED]" in e.body
        server.script("c2", Reply(status=401, json={"statusCode": 401, "error": f"bad key {cred}"}))
        with pytest.raises(codat.ErrorMessage) as info:
            c.get_access_token("c2")
        e = info.value
        for text in (str(e), repr(e), e.body, repr(e.data), str(e.error)):
            assert cred not in text
        assert e.error == "bad key [REDACTED]"


def test_secret_not_in_transport_errors():
    secret = "Basic U0VDUkVUX0tFWV9WQUxVRQ=="
    with codat.Client(auth_header=secret, server_url="http://127.0.0.1:9", retries=None) as c:
        with pytest.raises(codat.TransportError) as info:
            c.get_access_token("x")
    assert "U0VDUkVU" not in str(info.value) and "U0VDUkVU" not in repr(info.value)


def test_nothing_logged_contains_secret(server):
    secret = "Basic " + "Q0FQTE9HX1NFQ1JFVA=="
    got = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append(self.format(record))

    logger = logging.getLogger("codat_platform_c")
    handler, old_level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with codat.Client(auth_header=secret, server_url=server.url, retries=None) as c:
            with pytest.raises(codat.ErrorMessage):
                c.get_access_token("x")  # 401: the stand-in expects another header
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert got, "the failed call should have been logged"
    assert not any("Q0FQTE9H" in line for line in got)
