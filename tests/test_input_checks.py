"""Inputs refused before anything is sent, each with a clear exception that names what is wrong (issue 11,
item 9): a blank auth_header, a verify= path with a NUL (and os.PathLike paths accepted), framing headers
in http_headers, broken RetryConfig fields at construction."""
import asyncio
import os
import pathlib

import pytest

import codat_platform_c as codat
from conftest import AUTH


@pytest.mark.parametrize("blank", [" ", "   ", "\t", " \t \v\f"])
def test_blank_auth_header_and_api_key_are_refused(blank):
    with pytest.raises(ValueError, match="auth_header must not be only whitespace"):
        codat.Client(auth_header=blank, server_url="http://127.0.0.1:1")
    with pytest.raises(ValueError, match="api_key must not be only whitespace"):
        codat.Client(api_key=blank, server_url="http://127.0.0.1:1")


def test_verify_path_like_is_accepted(tls_server):
    for verify in (pathlib.Path(tls_server.ca_path), os.fsencode(tls_server.ca_path)):
        with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=verify) as c:
            assert c.get_access_token("p") == {"accessToken": tls_server.tokens_issued[-1]}
    with pytest.raises(FileNotFoundError, match="verify"):
        codat.Client(verify=pathlib.Path("/no/such/ca.pem"))


@pytest.mark.parametrize("verify", ["/etc/hosts\x00.pem", b"/etc/hosts\x00.pem", pathlib.Path("/etc/hosts\x00x")])
def test_verify_with_a_nul_is_refused(verify):
    # Truncated at the NUL, the path would name another file (here /etc/hosts, which exists).
    with pytest.raises(ValueError, match="verify: a CA bundle path must not contain NUL"):
        codat.Client(verify=verify)


FRAMING = ["Content-Length", "transfer-encoding", "HOST", "Connection", "Keep-Alive", "upgrade", "Proxy-Connection"]


@pytest.mark.parametrize("name", FRAMING)
def test_framing_headers_are_refused_before_sending(client, server, name):
    with pytest.raises(ValueError, match=f"http_headers: {name} is set by the transfer itself"):
        client.get_access_token("h", http_headers={"X-Fine": "1", name: "0"})
    with pytest.raises(ValueError, match="is set by the transfer itself"):
        client.get_access_tokens(["h"], http_headers={name: "chunked"})

    async def go():
        return await client.get_access_token_async("h", http_headers={name: "close"})
    with pytest.raises(ValueError, match="is set by the transfer itself"):
        asyncio.run(go())
    assert server.request_count() == 0
    assert client.get_access_token("h", http_headers={"X-Fine": "1"})["accessToken"]


@pytest.mark.parametrize("field, value, error, match", [
    ("exponent", "x", TypeError, "RetryConfig.exponent must be a number"),
    ("exponent", None, TypeError, "RetryConfig.exponent must be a number"),
    ("exponent", 0.5, ValueError, "RetryConfig.exponent must be a finite number >= 1"),
    ("exponent", float("nan"), ValueError, "RetryConfig.exponent must be a finite number >= 1"),
    ("exponent", float("inf"), ValueError, "RetryConfig.exponent must be a finite number >= 1"),
    ("exponent", 10 ** 400, ValueError, "RetryConfig.exponent is out of range"),
    ("initial_interval_ms", "5", TypeError, "RetryConfig.initial_interval_ms must be an int"),
    ("max_interval_ms", 1.5, TypeError, "RetryConfig.max_interval_ms must be an int"),
    ("max_elapsed_ms", True, TypeError, "RetryConfig.max_elapsed_ms must be an int"),
    ("max_elapsed_ms", -1, ValueError, "RetryConfig.max_elapsed_ms must be >= 0"),
    ("initial_interval_ms", 2 ** 63, ValueError, "RetryConfig.initial_interval_ms is out of range"),
    ("retry_connection_errors", "no", TypeError, "RetryConfig.retry_connection_errors must be a bool"),
    ("status_codes", "5XX", TypeError, "RetryConfig.status_codes must be a sequence"),
    ("status_codes", 503, TypeError, "RetryConfig.status_codes must be a sequence"),
    ("status_codes", ["6XX"], ValueError, "RetryConfig.status_codes: '6XX'"),
    ("status_codes", ["\u0665\u0660\u0663"], ValueError, "RetryConfig.status_codes"),
    ("status_codes", [None], ValueError, "RetryConfig.status_codes: None"),
])
def test_retry_config_refuses_bad_fields_at_construction(field, value, error, match):
    with pytest.raises(error, match=match):
        codat.RetryConfig(**{field: value})


def test_retry_config_accepts_what_a_call_accepts(client):
    r = codat.RetryConfig(initial_interval_ms=0, max_interval_ms=0, exponent=2, max_elapsed_ms=0,
                          retry_connection_errors=False, status_codes=[503, "5xx", "429"])
    assert r.status_codes == ("503", "5xx", "429")
    assert client.get_access_token("r", retries=r)["accessToken"]


BAD_TARGETS = [
    (("nope", "c"), ValueError, 'endpoint must be "connection_management" or "company"'),
    ((None, "c"), ValueError, "endpoint must be"),
    (("company", 5), TypeError, "company_id must be str, not int"),
    (("company", ""), ValueError, "company_id must not be empty"),
    (("company", "a\x00b"), ValueError, "company_id must not contain NUL characters"),
    (("company", "x" * 1025), ValueError, r"company_id is too long \(1025 bytes; at most 1024\)"),
]


def test_async_call_targets_are_checked_alike(client, server):
    # Client._submit_async (the I/O thread's calls) and _LoopDriver.submit (the awaits) share one check of
    # their (endpoint, company_id, <third>) arguments: the same refusals, the same messages, nothing sent.
    loop = asyncio.new_event_loop()
    try:
        driver = codat._core._LoopDriver(client, loop)
        future = loop.create_future()
        submits = {"_submit_async": (client._submit_async, lambda value, is_error: None),
                   "submit": (driver.submit, future)}
        for name, (submit, third) in submits.items():
            with pytest.raises(TypeError, match=rf"^{name}\(endpoint, company_id, "):
                submit("company", "c")
            with pytest.raises(TypeError, match=rf"^{name}\(endpoint, company_id, "):
                submit("company", "c", third, None)
            for (endpoint, company_id), error, match in BAD_TARGETS:
                with pytest.raises(error, match=match):
                    submit(endpoint, company_id, third)
        assert driver.calls == 0
        driver.close()
    finally:
        loop.close()
    assert server.request_count() == 0
    assert client.get_access_token("after")["accessToken"]  # still usable
