"""Codat retired GET /companies/{companyId}/connectionManagement/accessToken on 2026-10-12 (it answers 404 since).

get_access_token keeps calling it (its token is scoped to connection management; moving callers to the
broader company token is theirs to decide) but warns, and a 404 from it says what happened. The stand-in can
answer as Codat does today. Also here: the server's own reason phrase and float timeouts, which the drop-in
facade needs from the core.
"""
import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request
import warnings

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer
from conftest import AUTH

RETIRED_BODY_KEYS = {"statusCode", "service", "error", "correlationId", "canBeRetried", "detailedErrorCode"}


@pytest.fixture(scope="module")
def today():
    with StandInServer(auth_header=AUTH, retired_connection_management=True) as srv:
        yield srv


def test_get_access_token_warns_with_date_and_replacement(client, server):
    with pytest.warns(DeprecationWarning) as record:
        client.get_access_token("c1")
    (w,) = record
    text = str(w.message)
    assert "2026-10-12" in text and "get_company_access_token" in text and "retired" in text
    assert w.filename == __file__  # points at the caller


def test_async_get_access_token_warns_too(client, server):
    async def main():
        return await client.get_access_token_async("c1")
    with pytest.warns(DeprecationWarning, match="2026-10-12"):
        assert asyncio.run(main())["accessToken"]


def test_company_token_does_not_warn(client, server):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.get_company_access_token("c1")
        asyncio.run(client.get_company_access_token_async("c1"))


def test_warning_as_error_raises_before_any_request(client, server):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with pytest.raises(DeprecationWarning):
            client.get_access_token("c1")
    assert server.request_count() == 0
    assert client.get_company_access_token("c1")["accessToken"]  # still usable


def test_stand_in_answers_like_codat_today(today):
    today.reset()
    with codat.Client(AUTH, server_url=today.url, retries=None) as c:
        with pytest.warns(DeprecationWarning), pytest.raises(codat.ErrorMessage) as info:
            c.get_access_token("c1")
        e = info.value
        assert e.status_code == 404 and e.error == "NotFound" and e.service == "PublicApi"
        assert set(json.loads(e.body)) == RETIRED_BODY_KEYS and e.detailed_error_code == 0
        assert e.can_be_retried == "Unknown" and len(e.correlation_id) == 32
        # the message says the endpoint was retired and what to call instead
        assert "retired" in str(e) and "2026-10-12" in str(e) and "get_company_access_token()" in str(e)
        # scripts do not bring the old endpoint back; the live one still answers
        today.script("c2", Reply(json={"accessToken": "t"}))
        with pytest.warns(DeprecationWarning), pytest.raises(codat.ErrorMessage):
            c.get_access_token("c2")
        assert c.get_company_access_token("c3")["expiresIn"] == 86400
    assert today.request_count() == 3


def test_retired_note_only_for_the_old_endpoint(client, server):
    server.script("c1", Reply(status=404))
    with pytest.raises(codat.ErrorMessage) as info:
        client.get_company_access_token("c1")
    assert "retired" not in str(info.value)
    server.script("c1", Reply(status=403))
    with pytest.warns(DeprecationWarning), pytest.raises(codat.ErrorMessage) as info:
        client.get_access_token("c1")
    assert "retired" not in str(info.value)


def test_batch_results_carry_the_note(client, today):
    today.reset()
    with codat.Client(AUTH, server_url=today.url, retries=None) as c:
        out = c.get_access_tokens(["a", "b"], endpoint="connection_management")
        assert all(isinstance(v, codat.ErrorMessage) and "retired" in str(v) for v in out.values())
        out = c.get_access_tokens(["a", "b"], endpoint="company")
        assert all(isinstance(v, dict) for v in out.values())


def test_stand_in_command_line_flag():
    p = subprocess.Popen([sys.executable, "-m", "codat_platform_c.testing", "--port", "0",
                          "--retired-connection-management"], stdout=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().split()[-1]
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{url}/companies/c1/connectionManagement/accessToken", timeout=5)
        assert info.value.code == 404 and json.load(info.value)["error"] == "NotFound"
        with urllib.request.urlopen(f"{url}/companies/c1/accessToken", timeout=5) as resp:
            assert json.load(resp)["tokenType"] == "Bearer"
    finally:
        p.terminate()
        p.wait(timeout=10)


# ---------------------------------------------------------------- the server's reason phrase

def test_reason_phrase_is_the_servers(client, server):
    server.script("c1", Reply(status=400, body="nope", reason="Invalid company"))
    with pytest.raises(codat.SDKError) as info:
        client.get_company_access_token("c1")
    assert info.value.reason == "Invalid company"
    assert "status 400 Invalid company" in str(info.value)
    server.script("c1", Reply(status=404, reason="No Such Company"))
    with pytest.raises(codat.ErrorMessage) as info:
        client.get_company_access_token("c1")
    assert info.value.reason == "No Such Company"


def test_reason_phrase_absent_or_odd(client, server):
    server.script("c1", Reply(status=400, body="x", reason=""), Reply(status=400, body="x", reason="caf\u00e9\tbar"))
    with pytest.raises(codat.SDKError) as info:
        client.get_company_access_token("c1")
    assert info.value.reason == ""
    with pytest.raises(codat.SDKError) as info:
        client.get_company_access_token("c1")
    assert info.value.reason == "caf??bar"  # printable ASCII only, never a control character


# ---------------------------------------------------------------- float timeouts

def test_float_timeout_accepted(server):
    with codat.Client(AUTH, server_url=server.url, timeout_ms=1500.0) as c:
        assert c.get_company_access_token("c1", timeout_ms=2.5 * 1000)["accessToken"]
        server.script("slow", Reply(delay_s=1.0))
        with pytest.raises(codat.Timeout):
            c.get_company_access_token("slow", timeout_ms=200.4, retries=None)  # rounds up to 201 ms
    for bad in (float("nan"), float("inf"), 0.0, -1.5, 1e30, 2.0**63):
        with pytest.raises(ValueError):
            codat.Client(AUTH, server_url=server.url, timeout_ms=bad)
        with codat.Client(AUTH, server_url=server.url) as c, pytest.raises(ValueError, match="timeout_ms"):
            c.get_company_access_token("c1", timeout_ms=bad)
    with codat.Client(AUTH, server_url=server.url, timeout_ms=2.0**62) as c:  # huge but a long: no limit in effect
        assert c.get_company_access_token("c1")["accessToken"]
    with pytest.raises(TypeError):
        codat.Client(AUTH, server_url=server.url, timeout_ms="1500")
