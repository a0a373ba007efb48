"""Retries follow RetryConfig: backoff, the statuses and errors retried, Retry-After and the budget."""
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH


def make(server, **kw):
    return codat.Client(auth_header=AUTH, server_url=server.url, retries=codat.RetryConfig(**kw))


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retried_statuses_then_success(server, status):
    server.script("c1", Reply(status=status), Reply(status=status))
    with make(server, initial_interval_ms=10) as c:
        assert c.get_access_token("c1")["accessToken"]
    assert server.request_count("c1") == 3


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409])
def test_not_retried_statuses(server, status):
    server.script("c1", Reply(status=status))
    with make(server, initial_interval_ms=10) as c:
        with pytest.raises(codat.CodatError) as info:
            c.get_access_token("c1")
    assert info.value.status_code == status and info.value.attempts == 1
    assert server.request_count("c1") == 1


def test_custom_status_codes(server):
    server.script("c1", Reply(status=404), Reply(status=500))
    with make(server, initial_interval_ms=10, status_codes=("404",)) as c:
        with pytest.raises(codat.ErrorMessage) as info:
            c.get_access_token("c1")
    assert info.value.status_code == 500  # 404 retried, 500 no longer is
    assert server.request_count("c1") == 2


def test_status_codes_accept_ints(server):
    server.script("c1", Reply(status=418))
    with make(server, initial_interval_ms=10, status_codes=(418,)) as c:
        assert c.get_access_token("c1")["accessToken"]
    assert server.request_count("c1") == 2


def test_backoff_schedule_and_jitter(server):
    # Waits are drawn in [i/2, i) with i = 100 ms * 2**n: 50-100, 100-200, 200-400 ms.
    server.script("c1", *[Reply(status=503)] * 3)
    with make(server, initial_interval_ms=100, exponent=2.0, max_interval_ms=10000) as c:
        c.get_access_token("c1")
    times = [r.time for r in server.requests if r.company_id == "c1"]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 3
    for gap, interval in zip(gaps, [0.1, 0.2, 0.4]):
        assert interval / 2 - 0.01 <= gap <= interval + 0.08, (gaps, interval)


def test_max_interval_caps_waits(server):
    server.script("c1", *[Reply(status=500)] * 3)
    with make(server, initial_interval_ms=1000, exponent=10.0, max_interval_ms=60) as c:
        t = time.monotonic()
        c.get_access_token("c1")
        assert time.monotonic() - t < 0.6


def test_retries_exhausted_by_budget_raise_last_answer(server):
    server.script("c1", *[Reply(status=503)] * 100)
    with make(server, initial_interval_ms=20, exponent=1.0, max_interval_ms=20, max_elapsed_ms=300) as c:
        t = time.monotonic()
        with pytest.raises(codat.ErrorMessage) as info:
            c.get_access_token("c1")
        elapsed = time.monotonic() - t
    assert info.value.status_code == 503
    n = server.request_count("c1")
    assert info.value.attempts == n and n >= 10  # waits of 10-20 ms in a 300 ms budget
    assert elapsed < 0.5  # never sleeps past the budget


def test_retries_disabled(server):
    server.script("c1", Reply(status=503))
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        with pytest.raises(codat.ErrorMessage):
            c.get_access_token("c1")
    assert server.request_count("c1") == 1


def test_per_call_retries_override(server):
    server.script("c1", Reply(status=503), Reply(status=503))
    with make(server, initial_interval_ms=10) as c:
        with pytest.raises(codat.ErrorMessage):
            c.get_access_token("c1", retries=None)
        assert server.request_count("c1") == 1
        assert c.get_access_token("c1", retries=codat.RetryConfig(initial_interval_ms=5))["accessToken"]
    assert server.request_count("c1") == 3


def test_retry_after_seconds_is_honoured(server):
    server.script("c1", Reply(status=429, headers={"Retry-After": "1"}))
    with make(server, initial_interval_ms=5) as c:
        t = time.monotonic()
        assert c.get_access_token("c1")["accessToken"]
        waited = time.monotonic() - t
    assert 0.95 <= waited < 1.6
    times = [r.time for r in server.requests if r.company_id == "c1"]
    assert times[1] - times[0] >= 0.95


def test_retry_after_http_date_is_honoured(server):
    from email.utils import formatdate
    when = formatdate(time.time() + 2, usegmt=True)  # whole seconds: between 1 and 2 s from now
    server.script("c1", Reply(status=503, headers={"Retry-After": when}))
    with make(server, initial_interval_ms=5) as c:
        t = time.monotonic()
        assert c.get_access_token("c1")["accessToken"]
        waited = time.monotonic() - t
    assert 0.9 <= waited < 2.6


def test_retry_after_beyond_budget_fails_at_once(server):
    server.script("c1", Reply(status=429, headers={"Retry-After": "3600"}))
    with make(server, initial_interval_ms=5, max_elapsed_ms=60000) as c:
        t = time.monotonic()
        with pytest.raises(codat.ErrorMessage) as info:
            c.get_access_token("c1")
        assert time.monotonic() - t < 0.5
    assert info.value.status_code == 429
    assert info.value.retry_after == 3600.0
    assert server.request_count("c1") == 1


def test_malformed_retry_after_falls_back_to_backoff(server):
    server.script("c1", Reply(status=429, headers={"Retry-After": "soon"}))
    with make(server, initial_interval_ms=20) as c:
        assert c.get_access_token("c1")["accessToken"]
    assert server.request_count("c1") == 2


def test_connection_errors_retried_until_budget():
    with codat.Client(server_url="http://127.0.0.1:9", retries=codat.RetryConfig(
            initial_interval_ms=10, max_interval_ms=10, exponent=1.0, max_elapsed_ms=200)) as c:
        with pytest.raises(codat.TransportError) as info:
            c.get_access_token("x")
    assert info.value.attempts > 3
    assert f"after {info.value.attempts} attempts" in str(info.value)


def test_connection_errors_not_retried_when_disabled():
    with codat.Client(server_url="http://127.0.0.1:9", retries=codat.RetryConfig(
            initial_interval_ms=10, retry_connection_errors=False)) as c:
        with pytest.raises(codat.TransportError) as info:
            c.get_access_token("x")
    assert info.value.attempts == 1


def test_dropped_connection_retried_then_success(server):
    server.script("c1", Reply(action="drop"), Reply(action="reset"))
    with make(server, initial_interval_ms=10) as c:
        assert c.get_access_token("c1")["accessToken"]
    assert server.request_count("c1") == 3


def test_timeouts_retried(server):
    server.script("c1", Reply(action="silence"))
    with codat.Client(auth_header=AUTH, server_url=server.url, timeout_ms=150,
                      retries=codat.RetryConfig(initial_interval_ms=10)) as c:
        assert c.get_access_token("c1")["accessToken"]
    assert server.request_count("c1") == 2


def test_retry_config_value_semantics():
    a = codat.RetryConfig()
    assert a == codat.RetryConfig(500, 60000, 1.5, 3600000, True, ("408", "429", "5XX"))
    assert a != codat.RetryConfig(initial_interval_ms=1)
    assert "initial_interval_ms=500" in repr(a)
    assert hash(a) == hash(codat.RetryConfig())
