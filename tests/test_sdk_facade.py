"""codat_platform_c.sdk: the official SDK's call shapes on the C client, against the stand-in server.

(tests/test_conformance.py compares the facade with the official SDK itself; this module checks the
facade alone and needs only codat_platform_c.)
"""
from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import time
import warnings

import pytest

import codat_platform_c as codat
from codat_platform_c.sdk import CodatPlatform, utils
from codat_platform_c.sdk.models import errors, operations, shared
from codat_platform_c.sdk.types import UNSET
from codat_platform_c.testing import Reply, StandInServer
from sdk_fixtures import AUTH, NONE, cp, server, srv  # noqa: F401  (shared fixtures)

FAST = utils.RetryConfig("backoff", utils.BackoffStrategy(1, 5, 1.5, 10_000), True)
ERROR_MESSAGE_STATUSES = (401, 402, 403, 404, 429, 500, 503)

CM_MODEL = operations.GetConnectionManagementAccessTokenRequest
CO_MODEL = operations.GetCompanyAccessTokenRequest


def quiet(fn, *args, **kwargs):
    """Call fn with the DeprecationWarning of the connection-management endpoint silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*args, **kwargs)


# ---------------------------------------------------------------- import

def test_import_is_light():
    # pydantic belongs to the facade (its models are pydantic models, as the SDK's); the core never loads it,
    # and the facade loads nothing of the SDK's transport.
    code = ("import sys\n"
            "import codat_platform_c as codat\n"
            "codat.Client(server_url='http://127.0.0.1:9')\n"
            "assert 'pydantic' not in sys.modules\n"
            "from codat_platform_c.sdk import CodatPlatform, utils\n"
            "from codat_platform_c.sdk.models import shared, errors, operations\n"
            "heavy = [m for m in ('httpx', 'urllib3', 'codat_platform') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "assert 'pydantic' in sys.modules\n"
            "CodatPlatform(security=shared.Security(auth_header='Basic x'), server_url='http://127.0.0.1:9')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_core_import_stays_light():
    # `import codat_platform_c` loads neither the facade's pydantic, nor the C extension (and with it libcurl),
    # nor the official SDK: they come on first use. (Its time, under 5 ms, is a row of the bench, not a timed
    # test: bench/import_cost.py.)
    code = ("import sys, codat_platform_c\n"
            "heavy = sorted(m for m in ('pydantic', 'pydantic_core', 'codat_platform', 'codat_platform_c._core',\n"
            "                           'codat_platform_c.sdk', 'httpx', 'asyncio') if m in sys.modules)\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_sdk_without_pydantic_says_how_to_install_it():
    code = ("import sys\n"
            "sys.modules['pydantic'] = None  # as if not installed\n"
            "import codat_platform_c as codat\n"
            "assert codat.Client(server_url='http://127.0.0.1:9')\n"
            "try:\n"
            "    import codat_platform_c.sdk\n"
            "except ImportError as e:\n"
            "    assert 'pip install' in str(e) and 'codat_platform_c[sdk]' in str(e), e\n"
            "else:\n"
            "    raise AssertionError('imported without pydantic')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_public_names():
    import codat_platform_c.sdk as sdk
    assert sdk.SERVERS == ["https://api.codat.io"]
    assert sdk.RetryConfig is utils.RetryConfig and sdk.BackoffStrategy is utils.BackoffStrategy
    assert errors.ErrorMessageData is shared.ErrorMessage
    for name in ("CodatPlatformError", "SDKError", "ErrorMessage", "ErrorMessageData", "NoResponseError",
                 "ResponseValidationError"):
        assert name in errors.__all__


# ---------------------------------------------------------------- success, every call shape

@pytest.mark.parametrize("method", ["get", "get_access_token"])
@pytest.mark.parametrize("as_model", [False, True])
def test_connection_management_sync(cp, srv, method, as_model):
    request = CM_MODEL(company_id="acme") if as_model else {"company_id": "acme"}
    with pytest.warns(DeprecationWarning, match=r"connectionManagement/accessToken is deprecated"):
        res = getattr(cp.connection_management, method)(request=request)
    assert type(res) is shared.ConnectionManagementAccessToken
    assert res.access_token == srv.tokens_issued[-1]
    (req,) = srv.requests
    assert req.endpoint == "connection_management" and req.company_id == "acme"
    assert req.raw_path == "/companies/acme/connectionManagement/accessToken"
    assert req.headers["authorization"] == AUTH and req.headers["accept"] == "application/json"


@pytest.mark.parametrize("as_model", [False, True])
def test_companies_sync(cp, srv, as_model):
    request = CO_MODEL(company_id="acme") if as_model else {"company_id": "acme"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning here
        res = cp.companies.get_access_token(request=request)
    assert type(res) is shared.CompanyAccessToken
    assert (res.access_token, res.expires_in, res.token_type) == (srv.tokens_issued[-1], 86400, "Bearer")
    assert res.to_dict() == {"accessToken": res.access_token, "expiresIn": 86400, "tokenType": "Bearer"}
    (req,) = srv.requests
    assert req.endpoint == "company" and req.raw_path == "/companies/acme/accessToken"


@pytest.mark.parametrize("method", ["get_async", "get_access_token_async"])
def test_connection_management_async(cp, srv, method):
    async def main():
        with pytest.warns(DeprecationWarning):
            return await getattr(cp.connection_management, method)(request=CM_MODEL(company_id="a"))
    res = asyncio.run(main())
    assert type(res) is shared.ConnectionManagementAccessToken and res.access_token == srv.tokens_issued[-1]


def test_companies_async_many_at_once(cp, srv):
    async def main():
        return await asyncio.gather(*(cp.companies.get_access_token_async(request={"company_id": f"c{i}"})
                                      for i in range(20)))
    results = asyncio.run(main())
    assert [type(r) for r in results] == [shared.CompanyAccessToken] * 20
    assert sorted(r.access_token for r in results) == sorted(srv.tokens_issued)
    assert srv.request_count() == 20


def test_async_errors_are_translated(cp, srv):
    async def main():
        return await cp.companies.get_access_token_async(request={"company_id": "status-404"})
    with pytest.raises(errors.ErrorMessage) as info:
        asyncio.run(main())
    assert info.value.status_code == 404 and info.value.data.status_code == 404


def test_deprecation_warning_points_at_the_caller(cp, srv):
    with pytest.warns(DeprecationWarning) as record:
        cp.connection_management.get(request={"company_id": "a"})
    assert record[0].filename == __file__


def test_company_id_is_one_encoded_path_segment(cp, srv):
    cid = "a/b c?d#e%f\u00e9"
    cp.companies.get_access_token(request={"company_id": cid})
    (req,) = srv.requests
    assert req.raw_path == "/companies/a%2Fb%20c%3Fd%23e%25f%C3%A9/accessToken"
    assert req.company_id == cid


# ---------------------------------------------------------------- request validation

@pytest.mark.parametrize("bad", [{}, {"companyId": "a"}, {"company_id": 5}, {"company_id": None}, None, "a",
                                 CM_MODEL(company_id="a")])
def test_bad_requests_raise_value_error_before_any_io(cp, srv, bad):
    with pytest.raises(ValueError):
        cp.companies.get_access_token(request=bad)
    assert srv.request_count() == 0


def test_request_model_checks_its_field():
    with pytest.raises(ValueError):
        CO_MODEL(company_id=5)
    with pytest.raises(TypeError):
        CO_MODEL("a")  # keyword-only, like the SDK's pydantic model


def test_request_is_keyword_only(cp, srv):
    with pytest.raises(TypeError):
        cp.companies.get_access_token({"company_id": "a"})
    assert srv.request_count() == 0


def test_empty_company_id(cp, srv):
    with pytest.raises(ValueError, match="empty"):
        cp.companies.get_access_token(request={"company_id": ""})
    assert srv.request_count() == 0


def test_extra_request_keys_are_ignored(cp, srv):
    assert cp.companies.get_access_token(request={"company_id": "a", "other": 1}).access_token


# ---------------------------------------------------------------- per-call options

def test_per_call_server_url(cp, srv):
    with StandInServer(auth_header=AUTH) as other:
        res = cp.companies.get_access_token(request={"company_id": "a"}, server_url=other.url)
        assert res.access_token == other.tokens_issued[-1]
        assert other.request_count() == 1
    assert srv.request_count() == 0
    cp.companies.get_access_token(request={"company_id": "a"})  # back to the client's server
    assert srv.request_count() == 1


def test_server_url_checked(srv):
    with pytest.raises(ValueError):
        CodatPlatform(server_url="ftp://example.com")
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url) as p:
        with pytest.raises(ValueError):
            p.companies.get_access_token(request={"company_id": "a"}, server_url="not a url")
    assert srv.request_count() == 0


def test_per_call_timeout(cp, srv):
    srv.script("slow", Reply(delay_s=2.0))
    start = time.monotonic()
    with pytest.raises(codat.Timeout) as info:
        cp.companies.get_access_token(request={"company_id": "slow"}, timeout_ms=200)
    assert time.monotonic() - start < 1.5
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, ConnectionError)
    assert not isinstance(info.value, errors.CodatPlatformError)


def test_client_timeout(srv):
    srv.script("slow", Reply(delay_s=2.0))
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url, timeout_ms=200,
                       retry_config=NONE) as p:
        with pytest.raises(codat.Timeout):
            p.companies.get_access_token(request={"company_id": "slow"})
        # a per-call timeout_ms wins
        srv.script("slow2", Reply(delay_s=0.4))
        assert p.companies.get_access_token(request={"company_id": "slow2"}, timeout_ms=3000).access_token


def test_http_headers(cp, srv):
    cp.companies.get_access_token(request={"company_id": "a"},
                                  http_headers={"X-Request-Id": "r-1", "authorization": "Basic other"})
    (req,) = srv.requests
    assert req.headers["x-request-id"] == "r-1"
    assert req.headers["authorization"] == AUTH  # security wins, as in the SDK


def test_http_headers_authorization_without_security(srv):
    with CodatPlatform(server_url=srv.url, retry_config=NONE) as p:
        with pytest.raises(errors.ErrorMessage) as info:
            p.companies.get_access_token(request={"company_id": "a"})
        assert info.value.status_code == 401
        res = p.companies.get_access_token(request={"company_id": "a"}, http_headers={"Authorization": AUTH})
        assert res.access_token
    assert [r.headers.get("authorization") for r in srv.requests] == [None, AUTH]


def test_http_headers_rejects_header_injection(cp, srv):
    with pytest.raises(ValueError):
        cp.companies.get_access_token(request={"company_id": "a"}, http_headers={"X-A": "1\r\nX-B: 2"})
    assert srv.request_count() == 0


def test_per_call_retries_override_the_client(cp, srv):
    srv.script("flaky", Reply(status=503), Reply(status=500))
    res = cp.companies.get_access_token(request={"company_id": "flaky"}, retries=FAST)
    assert res.access_token and srv.request_count("flaky") == 3


def test_client_retry_config_applies_when_the_call_gives_none(srv):
    srv.script("flaky", Reply(status=503), Reply(status=500))
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url, retry_config=FAST) as p:
        assert p.companies.get_access_token(request={"company_id": "flaky"}).access_token
        assert srv.request_count("flaky") == 3
        srv.script("flaky2", Reply(status=503))
        with pytest.raises(errors.ErrorMessage):
            p.companies.get_access_token(request={"company_id": "flaky2"}, retries=NONE)
        assert srv.request_count("flaky2") == 1


def test_retries_none_means_the_default_backoff(cp, srv):
    # As in the SDK: per-call retries=None is not "no retries" but the default policy (500 ms x 1.5^n).
    srv.script("flaky", Reply(status=503))
    start = time.monotonic()
    assert cp.companies.get_access_token(request={"company_id": "flaky"}, retries=None).access_token
    assert srv.request_count("flaky") == 2 and 0.2 <= time.monotonic() - start < 2.0


def test_retry_config_mapping():
    core = utils.to_core_retries(utils.RetryConfig("backoff", utils.BackoffStrategy(10, 200, 2.0, 5000), False))
    assert core == codat.RetryConfig(10, 200, 2.0, 5000, False)
    assert utils.to_core_retries(utils.RetryConfig("none")) is None
    assert utils.to_core_retries(None) == codat.RetryConfig() == utils.to_core_retries(UNSET)
    assert utils.to_core_retries(utils.RetryConfig()) == codat.RetryConfig()
    assert utils.to_core_retries(utils.RetryConfig("whatever")) == codat.RetryConfig()  # any strategy but none
    assert utils.RetryConfig().backoff == utils.BackoffStrategy(500, 60000, 1.5, 3600000)
    with pytest.raises(TypeError):
        utils.to_core_retries(utils.RetryConfig("backoff", utils.BackoffStrategy("1", 2, 1.5, 3)))


def test_retry_after_past_the_budget_fails_at_once(cp, srv):
    srv.script("busy", Reply(status=503, headers={"Retry-After": "3600"}))
    start = time.monotonic()
    with pytest.raises(errors.ErrorMessage) as info:
        cp.companies.get_access_token(request={"company_id": "busy"}, retries=FAST)
    assert time.monotonic() - start < 1.0
    assert info.value.status_code == 503 and info.value.retry_after == 3600 and srv.request_count() == 1


def test_rate_limit_429_fails_fast(srv):
    # The stand-in's quota 429 says Retry-After: <seconds to 00:00 UTC>, far past a 10 s budget (except in
    # the last seconds of the day, when the quota would reset during the wait).
    if 86400 - time.time() % 86400 < 30:
        pytest.skip("too close to 00:00 UTC")
    with StandInServer(auth_header=AUTH, rate_limit=1, enforce_rate_limit=True) as limited:
        with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=limited.url,
                           retry_config=FAST) as p:
            p.companies.get_access_token(request={"company_id": "a"})
            start = time.monotonic()
            with pytest.raises(errors.ErrorMessage) as info:
                p.companies.get_access_token(request={"company_id": "a"})
            assert time.monotonic() - start < 1.0
            assert info.value.status_code == 429 and info.value.retry_after > 30
            assert limited.request_count() == 2


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("status", ERROR_MESSAGE_STATUSES)
def test_error_message(cp, srv, status):
    srv.script("x", Reply(status=status, headers={"X-Trace": "t-1"}))
    with pytest.raises(errors.ErrorMessage) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    e = info.value
    # both families
    assert isinstance(e, errors.CodatPlatformError) and isinstance(e, codat.ErrorMessage)
    assert isinstance(e, codat.CodatError) and not isinstance(e, codat.SDKError)
    # the SDK's fields
    assert e.status_code == status and str(e) == e.message == e.body and e.args == (e.body,)
    assert e.headers["X-TRACE"] == "t-1" and e.headers.get("Content-Type").startswith("application/json")
    assert "x-trace" in e.headers and list(e.headers) == [k.lower() for k in e.headers]
    d = e.data
    assert isinstance(d, errors.ErrorMessageData)
    assert d.status_code == status and d.service == "PublicApi" and d.error and len(d.correlation_id) == 32
    assert d.can_be_retried == "Unknown" and d.detailed_error_code == 0
    assert d.validation == shared.ErrorValidation(errors=[], warnings=[])
    # the C client's fields, on the same object
    assert e.correlation_id == d.correlation_id and e.service == d.service and e.error == d.error
    assert e.validation == {"errors": [], "warnings": []} and e.attempts == 1
    assert dict(d)["correlation_id"] == d.correlation_id and dict(d)["status_code"] == status  # as pydantic's
    assert isinstance(e.raw_response, codat.ErrorMessage) and e.__cause__ is e.raw_response
    assert not isinstance(e.raw_response, errors.CodatPlatformError)


def test_error_message_caught_as_either_family(cp, srv):
    for catch in (errors.ErrorMessage, errors.CodatPlatformError, codat.ErrorMessage, codat.CodatError):
        with pytest.raises(catch):
            cp.companies.get_access_token(request={"company_id": "status-404"})


def test_error_message_validation_absent_null_and_items(cp, srv):
    srv.script("x", Reply(status=404, json={"statusCode": 404}),
               Reply(status=404, json={"validation": None}),
               Reply(status=404, json={"validation": {"errors": [{"itemId": "i", "message": "m",
                                                                  "validatorName": "v"}]}}))
    datas = []
    for _ in range(3):
        with pytest.raises(errors.ErrorMessage) as info:
            cp.companies.get_access_token(request={"company_id": "x"})
        datas.append(info.value.data)
    assert datas[0].validation is UNSET and datas[0].service is None
    assert datas[1].validation is None
    v = datas[2].validation
    assert v.errors == [shared.ErrorValidationItem(item_id="i", message="m", validator_name="v")]
    assert v.warnings is UNSET
    assert datas[2].to_dict() == {"validation": {"errors": [{"itemId": "i", "message": "m", "validatorName": "v"}]}}


@pytest.mark.parametrize("status", [400, 405, 408, 409, 422, 502, 504])
def test_sdk_error(cp, srv, status):
    srv.script("x", Reply(status=status, body="nope"))
    with pytest.raises(errors.SDKError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    e = info.value
    assert isinstance(e, codat.SDKError) and isinstance(e, errors.CodatPlatformError)
    assert not isinstance(e, (errors.ErrorMessage, codat.ErrorMessage))
    import http
    assert str(e) == f"{http.HTTPStatus(status).phrase}: Status {status}. Body: nope"
    assert e.status_code == status and e.body == "nope" and e.headers["content-type"].startswith("text/plain")
    assert isinstance(e.raw_response, codat.SDKError)


def test_sdk_error_for_error_message_status_without_json(cp, srv):
    srv.script("x", Reply(status=401, body=b"", content_type="application/json"), Reply(status=503, body="<html>"))
    with pytest.raises(errors.SDKError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    assert str(info.value) == "Unauthorized: Status 401" and info.value.body == ""
    with pytest.raises(errors.SDKError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    assert str(info.value) == "Service Unavailable: Status 503. Body: <html>"


def test_sdk_error_message_truncates_long_bodies(cp, srv):
    srv.script("x", Reply(status=400, body="y" * 10_050))
    with pytest.raises(errors.SDKError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    assert str(info.value).endswith("y...and 50 more chars") and len(info.value.body) == 10_050


def test_unknown_status_reason(cp, srv):
    # The server's own phrase, as the SDK shows it (the stand-in says "Unknown" for a status it does not know)
    srv.script("x", Reply(status=499, body="odd"))
    with pytest.raises(errors.SDKError, match=r"^Unknown: Status 499\. Body: odd$"):
        cp.companies.get_access_token(request={"company_id": "x"})
    # no phrase at all (as over HTTP/2): the standard one, or the SDK's generic text for an unknown status
    srv.script("x", Reply(status=499, body="odd", reason=""), Reply(status=400, body="no", reason=""))
    with pytest.raises(errors.SDKError, match=r"^API error occurred: Status 499\. Body: odd$"):
        cp.companies.get_access_token(request={"company_id": "x"})
    with pytest.raises(errors.SDKError, match=r"^Bad Request: Status 400\. Body: no$"):
        cp.companies.get_access_token(request={"company_id": "x"})


def test_sdk_error_has_the_servers_reason_phrase(cp, srv):
    srv.script("x", Reply(status=400, body="no such company", reason="Invalid company"))
    with pytest.raises(errors.SDKError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    assert str(info.value) == "Invalid company: Status 400. Body: no such company"
    assert info.value.raw_response.reason == "Invalid company"


def test_redirect_not_followed(cp, srv):
    srv.script("x", Reply(status=302, headers={"Location": "http://elsewhere.invalid/steal"}))
    with pytest.raises(errors.SDKError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    assert info.value.status_code == 302 and str(info.value) == "Found: Status 302"
    assert info.value.headers["location"] == "http://elsewhere.invalid/steal" and srv.request_count() == 1


@pytest.mark.parametrize("reply", [
    Reply(body="hello"),
    Reply(json=[1]),
    Reply(body="null", content_type="application/json"),
    Reply(body="{bad", content_type="application/json"),
    Reply(body=b"", content_type="application/json"),
    Reply(json={"accessToken": "t", "expiresIn": 1, "tokenType": "B"}, content_type="application/xml"),
    Reply(body=b'{"accessToken": "t\xff", "expiresIn": 1, "tokenType": "B"}', content_type="application/json"),
], ids=["text", "array", "null", "broken", "empty", "xml", "not-utf8"])
def test_response_validation_error_from_the_core(cp, srv, reply):
    srv.script("x", reply)
    with pytest.raises(errors.ResponseValidationError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    e = info.value
    assert e.status_code == 200 and str(e).startswith("Response validation failed: ")
    assert isinstance(e, codat.SDKError) and not isinstance(e, errors.SDKError)
    from pydantic import ValidationError
    assert isinstance(e.cause, ValidationError) and e.__cause__ is e.cause  # as in the SDK
    assert isinstance(e.raw_response, codat.SDKError) and not isinstance(e.raw_response, errors.CodatPlatformError)
    assert e.headers["content-type"]


@pytest.mark.parametrize("doc", [
    {"accessToken": "t", "expiresIn": 1},
    {"accessToken": "t", "expiresIn": 1, "tokenType": None},
    {"accessToken": 5, "expiresIn": 1, "tokenType": "B"},
    {"accessToken": "t", "expiresIn": 1.5, "tokenType": "B"},
    {"accessToken": "t", "expiresIn": True, "tokenType": "B"},
    {"accessToken": "t", "expiresIn": "soon", "tokenType": "B"},
    {},
])
def test_response_validation_error_from_the_model(cp, srv, doc):
    srv.script("x", Reply(json=doc))
    with pytest.raises(errors.ResponseValidationError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    e = info.value
    from pydantic import ValidationError
    assert e.status_code == 200 and isinstance(e.cause, ValidationError) and isinstance(e, codat.SDKError)
    assert e.__cause__ is e.cause and str(e) == f"Response validation failed: {e.cause}"
    import json
    assert json.loads(e.body) == doc


@pytest.mark.parametrize("raw", ['{"expiresIn":1,"tokenType":"B"}', '{"accessToken":  5 ,"expiresIn":1}', '{}'],
                         ids=["no-token", "number-token", "empty"])
def test_response_validation_error_keeps_the_answer_the_core_refused(cp, srv, raw):
    # The core refuses a 2XX without an accessToken string and hands the facade its exception, which has the
    # answer as sent: the ResponseValidationError carries that body (not the value serialised again), its
    # status and headers, and the core's exception as raw_response, as the SDK's carries its httpx response.
    srv.script("x", Reply(body=raw, content_type="application/json", headers={"X-Trace": "t-1"}))
    with pytest.raises(errors.ResponseValidationError) as info:
        cp.companies.get_access_token(request={"company_id": "x"})
    e = info.value
    from pydantic import ValidationError
    assert isinstance(e.cause, ValidationError) and e.__cause__ is e.cause
    assert e.body == raw and e.status_code == 200
    assert e.headers["x-trace"] == "t-1" and e.headers["content-type"] == "application/json"
    assert isinstance(e.raw_response, codat.SDKError) and e.raw_response.body == raw


def test_lax_numbers_in_company_token(cp, srv):
    for sent, got in [("3600", 3600), (" 42 ", 42), ("+7", 7), ("3600.0", 3600), (3600.0, 3600)]:
        srv.script("x", Reply(json={"accessToken": "t", "expiresIn": sent, "tokenType": "B"}))
        assert cp.companies.get_access_token(request={"company_id": "x"}).expires_in == got


def _outcome(call):
    """Everything a caller can see of a call's result or exception, to compare two ways of making it."""
    try:
        res = call()
    except Exception as e:
        cause = e.__cause__
        return ("raised", type(e), str(e), getattr(e, "status_code", None), getattr(e, "body", None),
                type(cause), str(cause) if cause is not None else None)
    return ("model", type(res), repr(res), str(res), res.model_dump(), res.model_dump(by_alias=True),
            res.model_dump_json(by_alias=True), res.model_fields_set, res.__pydantic_extra__,
            res.__pydantic_private__, pickle.loads(pickle.dumps(res)) == res, res.model_copy() == res)


@pytest.mark.parametrize("reply", [
    Reply(json={"accessToken": "t", "expiresIn": 86400, "tokenType": "Bearer"}),
    Reply(json={"tokenType": "Bearer", "expiresIn": 1, "accessToken": "t"}),  # another key order
    Reply(json={"accessToken": "t", "expiresIn": 1, "tokenType": "B", "extra": [1], "scope": None}),
    Reply(json={"accessToken": "t", "expiresIn": 1, "tokenType": "B", "expires_in": "x", "access_token": 5}),
    Reply(json={"accessToken": "t", "expiresIn": "86400", "tokenType": "B"}),
    Reply(json={"accessToken": "t", "expiresIn": 3600.0, "tokenType": "B"}),
    Reply(json={"accessToken": "t", "expiresIn": 2 ** 70, "tokenType": "B"}),
    Reply(json={"accessToken": "t", "expiresIn": True, "tokenType": "B"}),
    Reply(json={"accessToken": "t", "expiresIn": 1, "tokenType": None}),
    Reply(json={"accessToken": "t", "expiresIn": 1, "tokenType": 7}),
    Reply(json={"accessToken": "t", "expiresIn": 1}),
    Reply(json={"accessToken": "t", "expires_in": 1, "token_type": "B"}),  # by field name: the SDK takes it
    Reply(json={"expiresIn": 1, "tokenType": "B"}),
    Reply(json=["t"]),
    Reply(status=201, json={"accessToken": "t", "expiresIn": 1, "tokenType": "B"}),
    Reply(status=204),
    Reply(status=400, json={"statusCode": 400, "error": "Invalid company"}),
    Reply(status=404, json={"statusCode": 404, "error": "NotFound", "correlationId": "c"}),
], ids=["exact", "key-order", "extra-keys", "extra-field-names", "numeric-string", "float", "huge", "bool",
        "null-type", "number-type", "missing-type", "field-names", "no-token", "array", "201", "204", "400", "404"])
def test_common_case_agrees_with_the_general_path(cp, srv, reply):
    # companies.get_access_token with a dict request and no per-call option takes a path of its own (the
    # core's call and pydantic-core's strict validator, inlined in the method: sdk/_client.py); a request
    # model takes the general one (_Calls.fetch and sdk/_results.py). For every answer, exact or not, both give
    # the same model (fields, fields set, dumps, repr, pickling) or the same exception.
    srv.script("x", reply, reply)
    fast = _outcome(lambda: cp.companies.get_access_token(request={"company_id": "x"}))
    general = _outcome(lambda: cp.companies.get_access_token(request=CO_MODEL(company_id="x")))
    assert srv.request_count() == 2
    assert fast == general


def test_common_case_after_a_reopening_it_did_not_see(cp, srv):
    # The common case calls the core's method bound when the client was made. A call that read it just before
    # another thread closed the facade and a third reopened it meets a closed client: it must then open
    # connections like any call after close(), not report a bad argument.
    closed = cp._client
    cp.close()
    assert cp.companies.get_access_token(request={"company_id": "a"}).access_token  # reopens
    assert cp._client is not closed and not cp._client.closed
    cp._calls.company_call = closed.get_company_access_token  # as read by the late thread
    assert cp.companies.get_access_token(request={"company_id": "b"}).access_token
    with pytest.raises(ValueError, match="empty"):  # a bad argument still says so
        cp.companies.get_access_token(request={"company_id": ""})
    assert [r.company_id for r in srv.requests] == ["a", "b"]


def test_connection_management_token_may_be_absent(cp, srv):
    srv.script("x", Reply(json={}), Reply(json={"accessToken": None, "extra": 1}))
    for _ in range(2):
        res = quiet(cp.connection_management.get, request={"company_id": "x"})
        assert res.access_token is None and res.to_dict() == {} and res.model_dump() == {}


def test_other_2xx(cp, srv):
    srv.script("x", Reply(status=201, json={"accessToken": "t", "expiresIn": 1, "tokenType": "B"}),
               Reply(status=204))
    assert cp.companies.get_access_token(request={"company_id": "x"}).access_token == "t"
    with pytest.raises(errors.SDKError, match=r"^Unexpected response received: Status 204$"):
        cp.companies.get_access_token(request={"company_id": "x"})


def test_transport_error(srv):
    with StandInServer() as gone:
        url = gone.url
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=url, retry_config=NONE) as p:
        with pytest.raises(codat.TransportError) as info:
            p.companies.get_access_token(request={"company_id": "a"})
    assert isinstance(info.value, ConnectionError) and not isinstance(info.value, errors.CodatPlatformError)
    assert not isinstance(info.value, codat.Timeout)


def test_errors_pickle():
    data = shared.ErrorMessage.from_dict({"statusCode": 404, "error": "x", "validation": None})
    for exc in (errors.ErrorMessage(data, body='{"statusCode": 404}', status_code=404, headers={"A": "b"}),
                errors.SDKError("Bad Request", body="b", status_code=400),
                errors.ResponseValidationError("Response validation failed", cause=ValueError("v"), status_code=200)):
        copy = pickle.loads(pickle.dumps(exc))
        assert type(copy) is type(exc) and str(copy) == str(exc) and copy.status_code == exc.status_code
        assert copy.headers == exc.headers
    assert pickle.loads(pickle.dumps(UNSET)) is UNSET


def test_error_constructors_have_the_sdk_shape():
    e = errors.SDKError("Bad Request", None, "body", 400, {"X-A": "1"})
    assert str(e) == "Bad Request: Status 400. Body: body" and e.headers["x-a"] == "1" and e.raw_response is None
    assert str(errors.SDKError("Not Modified", status_code=304)) == "Not Modified: Status 304"
    d = errors.ErrorMessageData(status_code=500, error="boom")
    e = errors.ErrorMessage(d, status_code=500)
    assert e.data is d and e.body == "" and str(e) == str(d)  # as the SDK: the body, else str(data)
    assert str(errors.NoResponseError()) == "No response received"


# ---------------------------------------------------------------- security and construction

def test_security_forms(srv):
    for security in (shared.Security(auth_header=AUTH), {"auth_header": AUTH},
                     lambda: shared.Security(auth_header=AUTH)):
        with CodatPlatform(security=security, server_url=srv.url, retry_config=NONE) as p:
            assert p.companies.get_access_token(request={"company_id": "a"}).access_token
    assert [r.headers["authorization"] for r in srv.requests] == [AUTH] * 3


def test_callable_security_is_resolved_per_call(srv):
    keys = iter([AUTH, "Basic wrong"])
    with CodatPlatform(security=lambda: shared.Security(auth_header=next(keys)), server_url=srv.url,
                       retry_config=NONE) as p:
        p.companies.get_access_token(request={"company_id": "a"})
        with pytest.raises(errors.ErrorMessage) as info:
            p.companies.get_access_token(request={"company_id": "a"})
        assert info.value.status_code == 401


def test_security_repr_hides_the_key():
    assert "c2Vj" not in repr(shared.Security(auth_header=AUTH))


def test_wrong_key(srv):
    with CodatPlatform(security=shared.Security(auth_header="Basic nope"), server_url=srv.url) as p:
        with pytest.raises(errors.ErrorMessage) as info:
            p.companies.get_access_token(request={"company_id": "a"})
    assert info.value.status_code == 401 and srv.request_count() == 1  # 401 is not retried


def test_unsupported_and_ignored_arguments(srv):
    with pytest.raises(TypeError, match="client="):
        CodatPlatform(client=object())
    with pytest.warns(UserWarning, match="async_client"):
        CodatPlatform(async_client=object(), server_url=srv.url)
    p = CodatPlatform(security=shared.Security(auth_header=AUTH), server_idx=0, url_params={"a": "b"},
                      server_url=srv.url, debug_logger=object(), retry_config=NONE)
    assert p.companies.get_access_token(request={"company_id": "a"}).access_token
    p.close()


def test_default_server_and_timeout():
    p = CodatPlatform()
    assert p._client.server_url == "https://api.codat.io" and "5000" in repr(p._client)
    p.close()


def test_context_managers_close_and_reopen(srv):
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url) as p:
        p.companies.get_access_token(request={"company_id": "a"})
        first = p._client
    assert first.closed
    assert p.companies.get_access_token(request={"company_id": "b"}).access_token  # reopened
    assert p._client is not first and not p._client.closed

    async def main():
        async with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url) as q:
            await q.companies.get_access_token_async(request={"company_id": "c"})
        return q
    q = asyncio.run(main())
    assert q._client.closed
    assert srv.request_count() == 3


def test_keep_alive_reuses_one_connection(srv):
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url) as p:
        for i in range(5):
            p.companies.get_access_token(request={"company_id": f"c{i}"})
    assert srv.connections_opened == 1


def test_other_groups_say_what_is_missing(srv):
    """Without the official SDK (tests/test_sdk_delegation.py has the operations it serves when installed)."""
    code = ("import sys\n"
            "sys.modules['codat_platform'] = None  # as if codat-platform were not installed\n"
            "from codat_platform_c.sdk import CodatPlatform\n"
            "cp = CodatPlatform(server_url='http://127.0.0.1:9')\n"
            "for get in (lambda: cp.connections, lambda: cp.companies.list, lambda: cp.no_such_thing):\n"
            "    try:\n"
            "        get()\n"
            "    except AttributeError as e:\n"
            "        assert 'covers the access-token operations' in str(e), e\n"
            "        assert 'pip install codat-platform' in str(e), e\n"
            "    else:\n"
            "        raise AssertionError('no AttributeError')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_tls_with_verify(srv):
    with StandInServer(tls=True, auth_header=AUTH) as tls:
        with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=tls.url, verify=tls.ca_path,
                           retry_config=NONE) as p:
            assert p.companies.get_access_token(request={"company_id": "a"}).access_token
        with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=tls.url,
                           retry_config=NONE) as p:
            with pytest.raises(codat.TransportError):
                p.companies.get_access_token(request={"company_id": "a"})  # unknown CA


def test_threads_share_one_facade(srv):
    from concurrent.futures import ThreadPoolExecutor
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url) as p:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: p.companies.get_access_token(request={"company_id": f"t{i}"}),
                                    range(40)))
    assert len({r.access_token for r in results}) == 40


# ---------------------------------------------------------------- models

def test_models_round_trip():
    tok = shared.CompanyAccessToken(access_token="t", expires_in=5, token_type="Bearer")
    assert shared.CompanyAccessToken.from_json(tok.to_json()) == tok
    assert tok.model_dump() == {"access_token": "t", "expires_in": 5, "token_type": "Bearer"}
    cm = shared.ConnectionManagementAccessToken(access_token="x")
    assert shared.ConnectionManagementAccessToken.from_dict({"accessToken": "x"}) == cm
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        shared.CompanyAccessToken.from_dict({"accessToken": "t"})


def test_models_are_pydantic_models():
    from pydantic import BaseModel, ValidationError
    tok = shared.CompanyAccessToken(accessToken="t", expiresIn="60", tokenType="Bearer")  # by alias, coerced
    assert isinstance(tok, BaseModel) and tok.expires_in == 60
    assert tok == shared.CompanyAccessToken(access_token="t", expires_in=60, token_type="Bearer")  # by name
    assert tok.model_dump(by_alias=True) == {"expiresIn": 60, "accessToken": "t", "tokenType": "Bearer"}
    assert tok.model_dump_json(by_alias=True) == '{"expiresIn":60,"accessToken":"t","tokenType":"Bearer"}'
    assert shared.CompanyAccessToken.model_validate_json(tok.model_dump_json()) == tok
    assert tok.model_copy(update={"token_type": "x"}).token_type == "x" and dict(tok)["access_token"] == "t"
    with pytest.raises(ValidationError):
        tok.expires_in = "soon"  # validate_assignment, as in the SDK
    with pytest.raises(ValidationError):
        shared.CompanyAccessToken(access_token="t")
    assert shared.ConnectionManagementAccessToken().model_dump() == {}  # None left out, as in the SDK


def test_error_message_data_is_the_sdk_model():
    d = shared.ErrorMessage.from_dict({"statusCode": "401", "canBeRetried": "Unknown", "x": 1})
    assert d.status_code == 401 and d.can_be_retried == "Unknown" and d.validation is None
    assert errors.ErrorMessageData is shared.ErrorMessage
    assert [name for name, _ in shared.ErrorMessage()] == list(shared.ErrorMessage.model_fields)
    assert shared.ErrorMessage().validation is UNSET and shared.ErrorMessage().model_dump() == {}
    assert shared.ErrorMessage(validation=None).model_dump() == {"validation": None}  # nullable: kept


# ---------------------------------------------------------------- what application test suites do

def test_groups_can_be_patched(cp, srv, monkeypatch):
    from unittest import mock
    fake = shared.CompanyAccessToken(access_token="patched", expires_in=1, token_type="Bearer")
    with mock.patch.object(cp.companies, "get_access_token", return_value=fake) as patched:
        assert cp.companies.get_access_token(request={"company_id": "x"}) is fake
    patched.assert_called_once_with(request={"company_id": "x"})
    monkeypatch.setattr(cp.connection_management, "get", lambda **kw: "monkeypatched")
    assert cp.connection_management.get(request={"company_id": "x"}) == "monkeypatched"
    monkeypatch.undo()
    assert srv.request_count() == 0
    assert cp.companies.get_access_token(request={"company_id": "x"}).access_token == srv.tokens_issued[-1]
    with mock.patch.object(utils.RetryConfig, "__init__", return_value=None):
        utils.RetryConfig()


def test_float_timeouts(srv):
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url, timeout_ms=1500.0,
                       retry_config=NONE) as p:
        assert p.companies.get_access_token(request={"company_id": "a"}, timeout_ms=2.5 * 1000).expires_in == 86400
        srv.script("slow", Reply(delay_s=1.0))
        with pytest.raises(codat.Timeout):
            p.companies.get_access_token(request={"company_id": "slow"}, timeout_ms=300.0)


def test_results_built_without_validation_equal_validated_ones(cp, srv):
    res = cp.companies.get_access_token(request={"company_id": "a"})
    validated = shared.CompanyAccessToken.model_validate(res.model_dump(by_alias=True))
    assert res == validated and res.model_fields_set == validated.model_fields_set
    assert res.model_dump() == validated.model_dump() and repr(res) == repr(validated)
    res.token_type = "changed"  # its own fields set: no sharing between results
    assert cp.companies.get_access_token(request={"company_id": "b"}).token_type == "Bearer"
    cm = quiet(cp.connection_management.get, request={"company_id": "a"})
    assert cm == shared.ConnectionManagementAccessToken.model_validate({"accessToken": cm.access_token})


def test_retired_endpoint_404_says_what_to_call(srv):
    with StandInServer(auth_header=AUTH, retired_connection_management=True) as today, \
            CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=today.url) as p:
        with pytest.warns(DeprecationWarning, match="2026-10-12"), pytest.raises(errors.ErrorMessage) as info:
            p.connection_management.get(request={"company_id": "a"})
        e = info.value
        assert e.status_code == 404 and e.data.error == "NotFound" and str(e).startswith(e.body + "\n")
        assert "companies.get_access_token" in str(e) and "retired" in str(e)
        assert p.companies.get_access_token(request={"company_id": "a"}).expires_in == 86400
