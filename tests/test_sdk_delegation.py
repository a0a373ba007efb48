"""The whole official SDK behind the facade (codat_platform_c.sdk._delegate), against the stand-in server.

Operations the facade does not implement are served by an inner official ``codat_platform.CodatPlatform``
made on first use; their errors come out as the facade's classes. These tests need ``codat-platform``.
"""
from __future__ import annotations

import asyncio
import copy
import json
import os
import pickle
import socket
import subprocess
import sys
from unittest import mock

import pytest

pytest.importorskip("codat_platform")

import codat_platform as official  # noqa: E402
from codat_platform.models import errors as official_errors  # noqa: E402
from codat_platform.models import shared as official_shared  # noqa: E402

import codat_platform_c as codat  # noqa: E402
from codat_platform_c.sdk import CodatPlatform, utils  # noqa: E402
from codat_platform_c.sdk import _delegate  # noqa: E402
from codat_platform_c.sdk.models import errors, operations, shared  # noqa: E402
from codat_platform_c.sdk.types import UNSET  # noqa: E402
from codat_platform_c.testing import DEMO_COMPANIES, StandInServer  # noqa: E402
from sdk_fixtures import AUTH, NONE, cp, server, srv  # noqa: E402, F401  (shared fixtures)

FAST = utils.RetryConfig("backoff", utils.BackoffStrategy(10, 20, 1.5, 200), True)
COMPANY_ID = next(iter(DEMO_COMPANIES))
APP = os.path.join(os.path.dirname(__file__), "sdk_app.py")


@pytest.fixture
def sdk(srv):
    """The official SDK itself, configured as ``cp``, to compare with."""
    with official.CodatPlatform(security=official_shared.Security(auth_header=AUTH), server_url=srv.url,
                                retry_config=official.RetryConfig("none")) as p:
        yield p


def run_python(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ---------------------------------------------------------------- an application swaps one import

HARNESS = r"""
import json, re, sys, types
app_path, server_url, auth, swap = sys.argv[1:]
source = open(app_path).read()
if swap == "swap":
    source = re.sub(r"^from codat_platform(\W)", r"from codat_platform_c.sdk\1", source, flags=re.M)
elif swap == "partial":  # only the client swapped: errors, models and utils still the official SDK's
    source = source.replace("from codat_platform import CodatPlatform", "from codat_platform_c.sdk import CodatPlatform")
app = types.ModuleType("sdk_app")
exec(compile(source, app_path, "exec"), app.__dict__)
loaded = lambda: "codat_platform" in sys.modules
codat = app.connect(server_url, auth)
rows = [app.token_for(codat, "first")]
after_tokens = loaded()
rows += app.inventory(codat)
rows += app.failures(codat)
rows += app.concurrently(codat, ["a", "b", "c"])
print(json.dumps({"rows": rows, "after_tokens": after_tokens, "at_end": loaded(),
                  "sdk": [app.CodatPlatform.__module__, app.errors.__name__]}))
"""


def run_app(srv, swap) -> dict:
    srv.reset()
    out = json.loads(run_python(HARNESS, APP, srv.url, AUTH, swap or "as-is"))
    out["requests"] = sorted((r.method, r.raw_path, r.headers.get("authorization")) for r in srv.requests)
    return out


def test_application_runs_unchanged_after_the_import_swap(srv):
    before = run_app(srv, swap=False)
    after = run_app(srv, swap="swap")
    assert after["rows"] == before["rows"]
    assert after["requests"] == before["requests"]  # the same traffic, request for request
    # what the rows hold: tokens, delegated data, and errors of both paths under one except clause
    rows = {(r[0] if r[0] != "company" else r[1]): r for r in after["rows"]}
    assert rows["companies"][2] == 2 and rows["profile"][1] == "Stand-in client"
    assert rows["Toft stores"][3] == [["Sandbox", "Accounting", "Linked"]]
    assert rows["get company"][1:5] == ["ErrorMessage", 404, 404, "Could not find company with ID 'no-such-company'."]
    assert rows["company token"][1:3] == ["ErrorMessage", 404]
    assert rows["list connections"][1:3] == rows["company token 503"][1:3] == ["ErrorMessage", 503]
    assert rows["bad page"][1:3] == ["ErrorMessage", 400]
    assert rows["get company 409"][1:3] == rows["company token 409"][1:3] == ["SDKError", 409]
    assert rows["async"] == ["async", ["Bearer"] * 3, 2, 404]
    # the official SDK is imported by the first delegated operation, not before
    assert (before["after_tokens"], after["after_tokens"], after["at_end"]) == (True, False, True)
    assert after["sdk"] == ["codat_platform_c.sdk._client", "codat_platform_c.sdk.models.errors"]
    assert before["sdk"] == ["codat_platform.sdk", "codat_platform.models.errors"]


def test_partial_swap_still_catches_every_error(srv):
    """The trap: CodatPlatform swapped, the official errors (and models, and RetryConfig) kept. Facade errors
    are then also instances of the official classes, on both paths."""
    before = run_app(srv, swap=False)
    partial = run_app(srv, swap="partial")
    assert partial["rows"] == before["rows"] and partial["requests"] == before["requests"]
    assert partial["sdk"] == ["codat_platform_c.sdk._client", "codat_platform.models.errors"]


def test_errors_are_also_the_official_classes_once_those_are_imported(cp):
    for company_id, theirs in (("status-404", official_errors.ErrorMessage), ("status-409", official_errors.SDKError)):
        for call in (cp.companies.get, cp.companies.get_access_token):
            with pytest.raises(theirs) as info:
                call(request={"company_id": company_id})
            e = info.value
            ours = errors.ErrorMessage if theirs is official_errors.ErrorMessage else errors.SDKError
            assert isinstance(e, ours) and type(e).__name__ == ours.__name__ and type(e).__module__ == ours.__module__
            assert e != pickle.loads(pickle.dumps(e)) and hash(e) != hash(pickle.loads(pickle.dumps(e)))
            copy = pickle.loads(pickle.dumps(e))
            assert type(copy) is ours and str(copy) == str(e) and copy.status_code == e.status_code
    assert type(errors.SDKError("made by hand")) is errors.SDKError  # only raised errors are changed


def test_token_only_process_never_imports_the_official_sdk(srv):
    code = ("import sys\n"
            "from codat_platform_c.sdk import CodatPlatform, utils\n"
            "from codat_platform_c.sdk.models import errors, shared, operations\n"
            "cp = CodatPlatform(security=shared.Security(auth_header=sys.argv[2]), server_url=sys.argv[1])\n"
            "cp.companies.get_access_token(request={'company_id': 'a'})\n"
            "cp.companies.get_access_token(request=operations.GetCompanyAccessTokenRequest(company_id='b'))\n"
            "import warnings; warnings.simplefilter('ignore')\n"
            "cp.connection_management.get_access_token(request={'company_id': 'c'})\n"
            "try:\n"
            "    cp.companies.get_access_token(request={'company_id': 'status-404'})\n"
            "except errors.ErrorMessage as e:\n"
            "    assert type(e) is errors.ErrorMessage, type(e).__mro__\n"
            "import copy, pickle; copy.copy(errors.SDKError('x')); hasattr(cp, '__wrapped__')\n"
            "cp.close()\n"
            "heavy = [m for m in ('codat_platform', 'urllib3') if m in sys.modules]  # pydantic: the facade's own\n"
            "assert not heavy, heavy\n"
            "cp.companies.list\n"
            "assert 'codat_platform' in sys.modules\n"
            "print('ok')\n")
    assert run_python(code, srv.url, AUTH).strip() == "ok"
    assert srv.request_count() == 4


# ---------------------------------------------------------------- delegated operations

def test_mixed_and_wholly_delegated_groups(cp, srv):
    page = cp.companies.list()
    assert isinstance(page, official_shared.Companies)  # models from delegated operations are the official ones
    assert sorted(c.id for c in page.results) == sorted(DEMO_COMPANIES)
    company = cp.companies.get(request=operations.GetCompanyRequest(company_id=COMPANY_ID))
    assert isinstance(company, official_shared.Company) and company.name == DEMO_COMPANIES[COMPANY_ID]
    assert cp.connections.list(request={"company_id": COMPANY_ID}).results[0].platform_name == "Sandbox"
    assert cp.settings.get_profile().name == "Stand-in client"
    token = cp.companies.get_access_token(request={"company_id": COMPANY_ID})  # still the C core's
    assert isinstance(token, shared.CompanyAccessToken) and not isinstance(token, official_shared.CompanyAccessToken)
    assert [r.path for r in srv.requests] == [
        "/companies", f"/companies/{COMPANY_ID}", f"/companies/{COMPANY_ID}/connections", "/profile",
        f"/companies/{COMPANY_ID}/accessToken"]
    assert {r.headers["authorization"] for r in srv.requests} == {AUTH}
    # one inner official SDK per facade, and the same wrapped objects each time
    assert _delegate.official_sdk(cp) is _delegate.official_sdk(cp)
    assert cp.connections is cp.connections and cp.companies.list is cp.companies.list
    assert "list" in dir(cp.connections)


def test_async_delegated_operations(cp, srv):
    async def main():
        page, token = await asyncio.gather(cp.companies.list_async(),
                                           cp.companies.get_access_token_async(request={"company_id": "x"}))
        with pytest.raises(errors.ErrorMessage) as info:
            await cp.connections.list_async(request={"company_id": "no-such-company"})
        return page, token, info.value
    page, token, exc = asyncio.run(main())
    assert page.total_results == 2 and token.token_type == "Bearer" and exc.status_code == 404


def test_names_neither_sdk_has(cp):
    with pytest.raises(AttributeError, match="nor has the official"):
        cp.no_such_group  # noqa: B018
    with pytest.raises(AttributeError, match="nor has the official"):
        cp.companies.no_such_operation  # noqa: B018
    with pytest.raises(AttributeError, match="nor has the official"):
        cp.connection_management.list  # noqa: B018  # the official group has only get/get_async
    with pytest.raises(AttributeError):
        cp._private  # noqa: B018
    with pytest.raises(AttributeError, match="nor has"):
        shared.NoSuchModel  # noqa: B018


def test_official_models_through_the_facade_modules():
    assert operations.ListCompaniesRequest is official.models.operations.ListCompaniesRequest
    assert shared.Company is official_shared.Company
    assert shared.CompanyAccessToken is not official_shared.CompanyAccessToken  # the facade's own stays


def test_configuration_reaches_the_inner_sdk(srv):
    keys = iter([AUTH, "Basic wrong", AUTH])
    with CodatPlatform(security=lambda: shared.Security(auth_header=next(keys)), server_url=srv.url + "/",
                       retry_config=FAST, timeout_ms=1234, server_idx=0, url_params={"a": "b"}) as p:
        assert p.companies.get(request={"company_id": COMPANY_ID}).id == COMPANY_ID
        with pytest.raises(errors.ErrorMessage) as info:  # the callable is resolved per request
            p.companies.get(request={"company_id": COMPANY_ID})
        assert info.value.status_code == 401
        inner = _delegate.official_sdk(p)
        assert inner.companies._sdk_timeout_ms == 1234
        assert inner.companies._sdk_retry_config.backoff.max_elapsed_time == 200
        assert inner._api_client.configuration.host == srv.url  # the trailing slash dropped, as for tokens
    assert [r.path for r in srv.requests] == [f"/companies/{COMPANY_ID}"] * 2


def test_retry_config_and_per_call_retries(srv):
    srv.companies["flaky"] = "Flaky"
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=srv.url, retry_config=FAST) as p:
        with pytest.raises(errors.ErrorMessage):
            p.companies.get(request={"company_id": "status-503"}, retries=utils.RetryConfig(
                "backoff", utils.BackoffStrategy(10, 20, 1.0, 60), False))
        retried = srv.request_count()
        with pytest.raises(errors.ErrorMessage):
            p.companies.get(request={"company_id": "status-503"}, retries=NONE)
    assert retried > 2 and srv.request_count() == retried + 1


def test_either_sdks_unset_keeps_the_client_retry_config(cp, srv):
    """cp has RetryConfig("none"): an explicit UNSET per call must not fall back to the hour-long default."""
    for unset in (UNSET, official.types.UNSET):
        assert _delegate._facade_kwargs({"retries": unset}) == {}  # (fails fast instead of retrying for an hour)
        with pytest.raises(errors.ErrorMessage):
            cp.companies.get(request={"company_id": "status-503"}, retries=unset)
    assert srv.request_count() == 2


def test_official_security_object_works_in_the_facade(srv):
    """Half of the partial-swap trap: an application that kept the official models import."""
    with CodatPlatform(security=official_shared.Security(auth_header=AUTH), server_url=srv.url,
                       retry_config=official.RetryConfig("none")) as p:
        assert p.companies.get_access_token(request={"company_id": "a"}).access_token
        assert p.companies.get(request={"company_id": COMPANY_ID}).id == COMPANY_ID
        with pytest.raises(errors.ErrorMessage):
            p.companies.get(request={"company_id": "status-503"}, retries=official.RetryConfig("none"))
    assert [r.headers["authorization"] for r in srv.requests] == [AUTH] * 3


def test_verify_applies_to_delegated_calls():
    with StandInServer(tls=True, auth_header=AUTH) as tls:
        with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=tls.url, verify=tls.ca_path,
                           retry_config=NONE) as p:
            assert p.companies.get_access_token(request={"company_id": "a"}).access_token
            assert p.companies.list().total_results == 2
        with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=tls.url,
                           retry_config=NONE) as p:
            with pytest.raises(codat.TransportError):  # the default: the system CAs, which do not know it
                p.companies.list()


def test_delegated_group_copies_without_recursion(cp):
    assert copy.copy(cp.connections).list is cp.connections.list


def test_patchable(cp):
    with mock.patch.object(cp.connections, "list", return_value="patched"):
        assert cp.connections.list(request={"company_id": "x"}) == "patched"
    assert cp.connections.list(request={"company_id": COMPANY_ID}).total_results == 1


# ---------------------------------------------------------------- one family of exceptions

def official_and_facade(sdk, cp, call):
    with pytest.raises(official_errors.CodatPlatformError) as theirs:
        call(sdk)
    with pytest.raises(errors.CodatPlatformError) as ours:
        call(cp)
    return theirs.value, ours.value


def facade_class(exc: BaseException) -> type:
    """The facade class of an error (raised errors are also the official class once that is imported)."""
    return type(exc).__dict__.get("_facade_class", type(exc))


def strip_id(text: str) -> str:
    return text.split('"correlationId"')[0]


def test_error_message_has_the_official_fields(sdk, cp):
    theirs, ours = official_and_facade(sdk, cp, lambda p: p.companies.get(request={"company_id": "nope"}))
    assert facade_class(ours) is errors.ErrorMessage and isinstance(ours, codat.ErrorMessage)
    assert ours.status_code == theirs.status_code == 404
    assert strip_id(str(ours)) == strip_id(str(theirs)) and strip_id(ours.body) == strip_id(theirs.body)
    assert ours.message == ours.body and str(ours) == ours.message
    assert ours.headers["content-type"] == theirs.headers["Content-Type"] == "application/json; charset=utf-8"
    assert {k: v for k, v in ours.data.model_dump().items() if k != "correlation_id"} == \
        {k: v for k, v in theirs.data.model_dump().items() if k != "correlation_id"}
    assert ours.correlation_id == ours.data.correlation_id
    assert ours.__cause__ is not None and isinstance(ours.__cause__, official_errors.ErrorMessage)
    assert ours.raw_response is ours.__cause__.raw_response


def test_sdk_error_has_the_official_message(sdk, cp):
    theirs, ours = official_and_facade(sdk, cp, lambda p: p.companies.get(request={"company_id": "status-409"}))
    assert facade_class(ours) is errors.SDKError and isinstance(ours, codat.SDKError)
    assert strip_id(str(ours)) == strip_id(str(theirs)) and str(ours).startswith("Conflict: Status 409. Body: {")
    assert ours.status_code == 409 and strip_id(ours.body) == strip_id(theirs.body)


def test_response_validation_error(sdk, cp, srv):
    srv.companies["nameless"] = None  # a company whose name is null: not the Company model
    theirs, ours = official_and_facade(sdk, cp, lambda p: p.companies.get(request={"company_id": "nameless"}))
    assert facade_class(ours) is errors.ResponseValidationError and isinstance(ours, codat.SDKError)
    assert str(ours) == str(theirs) and str(ours).startswith("Response validation failed: ")
    assert ours.status_code == 200 and ours.body == theirs.body and '"name": null' in ours.body
    assert type(ours.cause).__name__ == "ValidationError" and ours.__cause__ is ours.cause


def test_one_except_clause_for_both_paths(cp):
    caught = []
    for call in (lambda: cp.companies.get(request={"company_id": "status-403"}),
                 lambda: cp.companies.get_access_token(request={"company_id": "status-403"})):
        try:
            call()
        except errors.ErrorMessage as e:
            caught.append((e.status_code, e.data.status_code, e.data.error))
    assert caught == [(403, 403, "You are not authorized to perform this action.")] * 2


def test_connection_errors_are_transport_errors():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=f"http://127.0.0.1:{port}",
                       retry_config=NONE) as p:
        with pytest.raises(codat.TransportError) as token_path:
            p.companies.get_access_token(request={"company_id": "a"})
        with pytest.raises(codat.TransportError) as delegated:
            p.companies.list()
    assert not isinstance(delegated.value, codat.Timeout) and not isinstance(token_path.value, codat.Timeout)
    assert isinstance(delegated.value, ConnectionError) and AUTH not in str(delegated.value)
    assert type(delegated.value.__cause__).__module__.startswith("urllib3")


def test_timeouts_are_timeouts():
    with socket.socket() as listener:  # accepts connections (the backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=url, retry_config=NONE,
                           timeout_ms=100) as p:
            with pytest.raises(codat.Timeout):
                p.companies.list()
            with pytest.raises(codat.Timeout):
                p.companies.get_access_token(request={"company_id": "a"})


def test_facade_error_is_the_one_mapping():
    assert _delegate.facade_error(ValueError("x")) is None  # anything else goes through as it is
    mapped = _delegate.facade_error(official_errors.NoResponseError("gone"))
    assert facade_class(mapped) is errors.NoResponseError and str(mapped) == "gone"
    base = _delegate.facade_error(official_errors.CodatPlatformError("odd", body="b", status_code=418))
    assert facade_class(base) is errors.CodatPlatformError and (str(base), base.body, base.status_code) == ("odd", "b", 418)


# ---------------------------------------------------------------- without the official SDK

def test_without_the_official_sdk_the_clear_attribute_error_stays(srv):
    code = ("import sys\n"
            "sys.modules['codat_platform'] = None  # as if codat-platform were not installed\n"
            "from codat_platform_c.sdk import CodatPlatform\n"
            "from codat_platform_c.sdk.models import shared, operations\n"
            "cp = CodatPlatform(security=shared.Security(auth_header=sys.argv[2]), server_url=sys.argv[1])\n"
            "assert cp.companies.get_access_token(request={'company_id': 'a'}).access_token\n"
            "for get in (lambda: cp.connections, lambda: cp.companies.list, lambda: cp.settings,\n"
            "            lambda: operations.ListCompaniesRequest):\n"
            "    try:\n"
            "        get()\n"
            "    except AttributeError as e:\n"
            "        assert 'pip install codat-platform' in str(e), e\n"
            "    else:\n"
            "        raise AssertionError('no AttributeError')\n"
            "assert cp.companies.get_access_token(request={'company_id': 'b'}).access_token\n"
            "print('ok')\n")
    assert run_python(code, srv.url, AUTH).strip() == "ok"
