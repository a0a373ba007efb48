"""Each kind of answer maps to the documented exception, with its fields."""
import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH

ERROR_MESSAGE_CODES = [401, 402, 403, 404, 429, 500, 503]


@pytest.fixture
def noretry(server):
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        yield c


@pytest.mark.parametrize("status", ERROR_MESSAGE_CODES)
def test_error_message_codes(noretry, server, status):
    server.script("c1", Reply(status=status))
    with pytest.raises(codat.ErrorMessage) as info:
        noretry.get_access_token("c1")
    e = info.value
    assert isinstance(e, codat.CodatError)
    assert e.status_code == status
    assert e.data["statusCode"] == status
    assert e.service == "PublicApi" == e.data["service"]
    assert e.error == e.data["error"] and e.error
    assert e.correlation_id == e.data["correlationId"]
    assert e.validation == {"errors": [], "warnings": []}
    assert e.can_be_retried == "Unknown"
    assert e.detailed_error_code == 0
    assert e.headers["content-type"].startswith("application/json")
    assert e.headers["x-rate-limit-limit"] == "1000"
    assert e.body.startswith("{") and str(status) in e.body
    assert str(status) in str(e) and e.correlation_id in str(e)
    assert e.attempts == 1


@pytest.mark.parametrize("status", [400, 405, 409, 418, 422, 502, 504, 599])
def test_other_error_statuses_are_sdk_errors(noretry, server, status):
    server.script("c1", Reply(status=status, json={"statusCode": status, "error": "nope"}))
    with pytest.raises(codat.SDKError) as info:
        noretry.get_access_token("c1")
    assert not isinstance(info.value, codat.ErrorMessage)
    assert info.value.status_code == status
    assert '"nope"' in info.value.body
    assert f"status {status}" in str(info.value)


@pytest.mark.parametrize("status", ERROR_MESSAGE_CODES)
def test_non_json_error_body_is_sdk_error(noretry, server, status):
    server.script("c1", Reply(status=status, body="<html>Bad Gateway</html>", content_type="text/html"))
    with pytest.raises(codat.SDKError) as info:
        noretry.get_access_token("c1")
    assert info.value.status_code == status
    assert info.value.body == "<html>Bad Gateway</html>"
    assert "<html>Bad Gateway</html>" in str(info.value)
    assert info.value.headers["content-type"] == "text/html"


def test_json_error_status_with_malformed_json_is_sdk_error(noretry, server):
    server.script("c1", Reply(status=404, body="{not json", content_type="application/json"))
    with pytest.raises(codat.SDKError) as info:
        noretry.get_access_token("c1")
    assert info.value.status_code == 404


@pytest.mark.parametrize("body", ["[1, 2]", '"token"', "42", "null", "{", ""])
def test_2xx_not_a_json_object_is_sdk_error(noretry, server, body):
    server.script("c1", Reply(status=200, body=body, content_type="application/json"))
    with pytest.raises(codat.SDKError) as info:
        noretry.get_access_token("c1")
    assert info.value.status_code == 200
    assert "expected a JSON object" in str(info.value)


def test_2xx_wrong_content_type_is_sdk_error(noretry, server):
    server.script("c1", Reply(status=200, body='{"accessToken": "t"}', content_type="text/plain"))
    with pytest.raises(codat.SDKError):
        noretry.get_access_token("c1")


def test_json_content_type_with_parameters_and_case(noretry, server):
    server.script("c1", Reply(status=200, body='{"accessToken": "t"}', content_type="Application/JSON ; charset=UTF-8"))
    assert noretry.get_access_token("c1") == {"accessToken": "t"}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed(noretry, server, status):
    server.script("c1", Reply(status=status, headers={"Location": server.url + "/companies/evil/accessToken"}))
    with pytest.raises(codat.SDKError) as info:
        noretry.get_access_token("c1")
    assert info.value.status_code == status
    assert "redirect not followed" in str(info.value)
    assert server.request_count() == 1  # the Authorization header never travelled to the Location
    assert server.request_count("evil") == 0


def test_extra_fields_and_unicode_in_success(noretry, server):
    server.script("c1", Reply(json={"accessToken": "tøken-✓", "extra": [1, 2.5, True, None, {"n": -3}]}))
    assert noretry.get_access_token("c1") == {"accessToken": "tøken-✓", "extra": [1, 2.5, True, None, {"n": -3}]}


def test_body_over_cap_is_refused(server):
    big = "x" * (64 * 1024)
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None, max_body_bytes=4096) as c:
        server.script("c1", Reply(json={"accessToken": big}))
        with pytest.raises(codat.SDKError) as info:
            c.get_access_token("c1")
        assert "max_body_bytes" in str(info.value)
        assert info.value.status_code == 200
        assert c.get_access_token("c2")["accessToken"]  # still usable


def test_default_body_cap_is_4_mib(noretry, server):
    server.script("c1", Reply(json={"accessToken": "y" * (5 * 1024 * 1024)}))
    with pytest.raises(codat.SDKError, match="max_body_bytes"):
        noretry.get_access_token("c1")
    server.script("c2", Reply(json={"accessToken": "y" * (3 * 1024 * 1024)}))
    assert len(noretry.get_access_token("c2")["accessToken"]) == 3 * 1024 * 1024


def test_429_retry_after_attribute(noretry, server):
    server.script("c1", Reply(status=429, headers={"Retry-After": "7"}))
    with pytest.raises(codat.ErrorMessage) as info:
        noretry.get_access_token("c1")
    assert info.value.retry_after == 7.0


def test_transport_error_refused():
    with codat.Client(server_url="http://127.0.0.1:9", retries=None) as c:
        with pytest.raises(codat.TransportError) as info:
            c.get_access_token("x")
    assert isinstance(info.value, ConnectionError)
    assert isinstance(info.value, codat.CodatError)
    assert not isinstance(info.value, codat.Timeout)
    assert info.value.attempts == 1


@pytest.mark.parametrize("action", ["drop", "reset", "truncate"])
def test_transport_error_on_broken_answers(noretry, server, action):
    server.script("c1", Reply(action=action))
    with pytest.raises(codat.TransportError):
        noretry.get_access_token("c1")
    assert noretry.get_access_token("c2")["accessToken"]


def test_dns_failure_is_transport_error():
    with codat.Client(server_url="http://no-such-host.invalid", retries=None, timeout_ms=5000) as c:
        with pytest.raises(codat.TransportError):
            c.get_access_token("x")


def test_timeout(server):
    server.script("c1", Reply(action="silence"))
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None, timeout_ms=200) as c:
        with pytest.raises(codat.Timeout) as info:
            c.get_access_token("c1")
        assert isinstance(info.value, TimeoutError) and isinstance(info.value, ConnectionError)
        assert c.get_access_token("c2")["accessToken"]


def test_per_call_timeout_overrides(noretry, server):
    server.script("c1", Reply(delay_s=0.5))
    with pytest.raises(codat.Timeout):
        noretry.get_access_token("c1", timeout_ms=100)
    server.script("c1", Reply(delay_s=0.3))
    assert noretry.get_access_token("c1", timeout_ms=None)["accessToken"]


def test_exception_hierarchy():
    assert issubclass(codat.ErrorMessage, codat.CodatError)
    assert issubclass(codat.SDKError, codat.CodatError)
    assert not issubclass(codat.ErrorMessage, codat.SDKError)
    assert issubclass(codat.TransportError, ConnectionError)
    assert issubclass(codat.Timeout, codat.TransportError) and issubclass(codat.Timeout, TimeoutError)
    assert codat.ErrorMessage.__module__ == "codat_platform_c"
