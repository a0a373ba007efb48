"""A Client (and the SDK facade) pickles and copies by its configuration: the auth header, server URL,
timeouts, retry policy, verify, max_body_bytes, batch_concurrency, cache, the per-company limit and the
class travel; connections, cached tokens, threads and rate-limit figures do not. Every check talks HTTP to
the stand-in server on 127.0.0.1."""
import copy
import gc
import logging
import pickle
import threading

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH, FAST_RETRIES

PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)


class Gentle(codat.Client):
    """A subclass that lowers the per-company limit: its class must travel, by reference."""
    company_concurrency_limit = 2


def security_from_worker_environment():
    """A module-level security callable: pickle carries it by name."""
    return {"auth_header": AUTH}


def round_trip(obj, protocol=pickle.HIGHEST_PROTOCOL):
    return pickle.loads(pickle.dumps(obj, protocol=protocol))


def company_requests(server, company_id):
    return [r for r in server.requests if r.company_id == company_id]


# ---- what travels


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unpickled_client_authenticates_with_the_same_header(server, protocol):
    original = codat.Client(AUTH, server_url=server.url, retries=None)
    with original, round_trip(original, protocol) as copy_:
        assert type(copy_) is codat.Client
        assert copy_.server_url == server.url
        assert copy_.get_company_access_token("acme")["accessToken"].startswith("tok-")
    # The stand-in answers 401 to any other Authorization: the header itself travelled.
    assert [r.headers["authorization"] for r in server.requests] == [AUTH]


def test_api_key_travels_as_given(server):
    with codat.Client(api_key="API_KEY", server_url=server.url, retries=None) as original:
        config = original._reduce_config()
        assert config["api_key"] == "API_KEY" and "auth_header" not in config
        with round_trip(original) as copy_:
            copy_.get_company_access_token("acme")
    assert server.requests[-1].headers["authorization"] == AUTH  # base64("API_KEY")


def test_client_without_auth_pickles_without_auth(server):
    with codat.Client(server_url=server.url, retries=None) as original:
        config = original._reduce_config()
        assert "auth_header" not in config and "api_key" not in config
        with round_trip(original) as copy_, pytest.raises(codat.ErrorMessage) as info:
            copy_.get_company_access_token("acme")
    assert info.value.status_code == 401
    assert "authorization" not in server.requests[-1].headers


def test_the_pickle_carries_the_auth_header_in_clear(server):
    # Documented, on purpose: a worker must authenticate. The bytes are as secret as the key.
    with codat.Client(AUTH, server_url=server.url) as c:
        assert AUTH.encode() in pickle.dumps(c)
    with codat.Client(api_key="API_KEY", server_url=server.url) as c:
        assert b"API_KEY" in pickle.dumps(c)


@pytest.fixture
def log_records():
    got = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append(record)

    logger = logging.getLogger("codat_platform_c")
    handler, old = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield got
    logger.removeHandler(handler)
    logger.setLevel(old)


def test_auth_appears_in_no_repr_attribute_or_log_line(server, log_records):
    with codat.Client(AUTH, server_url=server.url, cache=True) as original:
        data = pickle.dumps(original)
        with pickle.loads(data) as copy_, copy.copy(original) as shallow, copy.deepcopy(original) as deep:
            for c in (original, copy_, shallow, deep):
                c.get_company_access_token("acme")
                assert AUTH not in repr(c) and "QVBJX0tFWQ" not in repr(c)
                assert "<redacted>" in repr(c)
                for name in dir(c):
                    if name != "_reduce_config":
                        assert AUTH not in repr(getattr(c, name, None)), name
                assert AUTH not in repr(vars(c))
                assert all(AUTH not in repr(o) for o in gc.get_referents(c))
    assert log_records, "debug logging was on: the calls must have logged something"
    assert all("QVBJX0tFWQ" not in r.getMessage() for r in log_records)


def test_timeout_and_retry_policy_travel(server):
    no_retries = codat.Client(AUTH, server_url=server.url, retries=None, timeout_ms=200)
    with no_retries, round_trip(no_retries) as copy_:
        server.script("flaky", Reply(status=503), Reply())
        with pytest.raises(codat.ErrorMessage):
            copy_.get_company_access_token("flaky")
        assert len(company_requests(server, "flaky")) == 1
        with pytest.raises(codat.Timeout):
            copy_.get_company_access_token("slow-2000")
    retrying = codat.Client(AUTH, server_url=server.url, retries=FAST_RETRIES)
    with retrying, round_trip(retrying) as copy_:
        server.script("flaky2", Reply(status=503), Reply())
        assert copy_.get_company_access_token("flaky2")["accessToken"]
        assert len(company_requests(server, "flaky2")) == 2


def test_retry_policy_is_copied_when_the_client_is_made(server):
    policy = codat.RetryConfig(initial_interval_ms=5, max_interval_ms=10, max_elapsed_ms=2000)
    with codat.Client(AUTH, server_url=server.url, retries=policy) as c:
        policy.status_codes = ()  # the caller changes its object later: the client never saw that
        carried = c._reduce_config()["retries"]
        assert carried.status_codes == ("408", "429", "5XX") and carried is not policy
        with round_trip(c) as copy_:
            server.script("flaky", Reply(status=503), Reply())
            assert copy_.get_company_access_token("flaky")["accessToken"]
    assert len(company_requests(server, "flaky")) == 2


def test_max_body_bytes_travels(server):
    with codat.Client(AUTH, server_url=server.url, retries=None, max_body_bytes=4096) as original:
        with round_trip(original) as copy_:
            server.script("big", Reply(json={"accessToken": "x" * 8192}))
            with pytest.raises(codat.SDKError, match="max_body_bytes"):
                copy_.get_company_access_token("big")


def test_verify_ca_bundle_travels(tls_server):
    with codat.Client(AUTH, server_url=tls_server.url, verify=tls_server.ca_path, retries=None) as original:
        with round_trip(original) as copy_:
            assert copy_.get_company_access_token("acme")["accessToken"]
        with codat.Client(AUTH, server_url=tls_server.url, retries=None) as default_verify:
            with pytest.raises(codat.TransportError):  # the stand-in's CA is not in the system store
                round_trip(default_verify).get_company_access_token("acme")


def test_cache_and_margin_travel_but_entries_do_not(server):
    with codat.Client(AUTH, server_url=server.url, cache=True, cache_margin_s=7.5) as original:
        original.get_company_access_token("acme")
        with round_trip(original) as copy_:
            assert copy_._token_cache is not None and copy_._token_cache._margin_s == 7.5
            first = copy_.get_company_access_token("acme")  # not the original's entry: a request
            assert copy_.get_company_access_token("acme") == first  # cached in the copy
    assert len(company_requests(server, "acme")) == 2
    with codat.Client(AUTH, server_url=server.url) as plain, round_trip(plain) as copy_:
        assert copy_._token_cache is None


def test_unpickled_client_is_fresh(server):
    with codat.Client(AUTH, server_url=server.url) as original:
        original.get_company_access_token("acme")
        assert original.rate_limit is not None
        opened = server.connections_opened
        with round_trip(original) as copy_:
            assert copy_.rate_limit is None
            assert not copy_.closed
            copy_.get_company_access_token("acme")
            assert server.connections_opened == opened + 1  # its own connection, not the original's
        assert not original.closed  # closing the copy leaves the original alone
        original.get_company_access_token("acme")


# ---- the class and the per-worker limits


def peak_in_flight(server, company_id):
    """How many requests for company_id the server had open at once (from arrival times and the fixed
    reply delay)."""
    times = sorted(r.time for r in company_requests(server, company_id))
    return max(sum(1 for t in times if start <= t < start + 0.25) for start in times)


def run_threads(client, company_id, n):
    errors = []

    def call():
        try:
            client.get_company_access_token(company_id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_subclass_travels_with_its_company_limit(server):
    with Gentle(AUTH, server_url=server.url) as original, round_trip(original) as copy_:
        assert type(copy_) is Gentle and copy_.company_concurrency_limit == 2
        server.script("busy", *[Reply(delay_s=0.3) for _ in range(4)])
        run_threads(copy_, "busy", 4)
    assert peak_in_flight(server, "busy") == 2


def test_company_concurrency_limit_argument_travels(server):
    with codat.Client(AUTH, server_url=server.url, company_concurrency_limit=3) as original:
        assert original.company_concurrency_limit == 3 and codat.Client.company_concurrency_limit == 10
        with round_trip(original) as copy_:
            assert type(copy_) is codat.Client and copy_.company_concurrency_limit == 3
            server.script("busy", *[Reply(delay_s=0.3) for _ in range(6)])
            run_threads(copy_, "busy", 6)
    assert peak_in_flight(server, "busy") == 3


@pytest.mark.parametrize("bad, error", [(0, ValueError), (1001, ValueError), ("3", TypeError), (True, TypeError)])
def test_company_concurrency_limit_argument_is_checked(server, bad, error):
    with pytest.raises(error, match="company_concurrency_limit"):
        codat.Client(AUTH, server_url=server.url, company_concurrency_limit=bad)


def test_batch_concurrency_sets_the_batch_default_and_travels(server):
    ids = [f"co-{i}" for i in range(12)]
    with codat.Client(AUTH, server_url=server.url, batch_concurrency=3) as original:
        with round_trip(original) as copy_:
            server.script_default(*[Reply(delay_s=0.1) for _ in ids])
            opened = server.connections_opened
            tokens = copy_.get_access_tokens(ids, endpoint="company")
            assert sorted(tokens) == sorted(ids)
            assert server.connections_opened - opened == 3  # at most 3 transfers at once
            # A call's own concurrency still wins; None means the client's.
            server.script_default(*[Reply(delay_s=0.1) for _ in ids])
            opened = server.connections_opened
            copy_.get_access_tokens([f"other-{i}" for i in range(12)], concurrency=None, endpoint="company")
            assert server.connections_opened - opened == 0  # the same 3 pooled connections
            server.script_default(*[Reply(delay_s=0.1) for _ in ids])
            copy_.get_access_tokens([f"more-{i}" for i in range(12)], concurrency=6, endpoint="company")
            assert server.connections_opened - opened == 3  # three more for six at once


def test_batch_concurrency_works_with_the_cache(server):
    ids = [f"co-{i}" for i in range(12)]
    with codat.Client(AUTH, server_url=server.url, batch_concurrency=2, cache=True) as c:
        server.script_default(*[Reply(delay_s=0.1) for _ in ids])
        assert sorted(c.get_access_tokens(ids)) == sorted(ids)
        assert server.connections_opened == 2


@pytest.mark.parametrize("bad, error", [(0, ValueError), (1025, ValueError), ("3", TypeError), (2.0, TypeError),
                                        (True, TypeError)])
def test_batch_concurrency_is_checked(server, bad, error):
    with pytest.raises(error, match="batch_concurrency"):
        codat.Client(AUTH, server_url=server.url, batch_concurrency=bad)


# ---- copying, closed clients


def test_copy_and_deepcopy_make_fresh_clients(server):
    with codat.Client(AUTH, server_url=server.url, cache=True, timeout_ms=4000, batch_concurrency=5) as original:
        original.get_company_access_token("acme")
        for make in (copy.copy, copy.deepcopy):
            with make(original) as other:
                assert other is not original and type(other) is codat.Client
                assert other._reduce_config() == original._reduce_config()
                assert other._token_cache is not original._token_cache
                assert other.rate_limit is None
                other.get_company_access_token("acme")
    assert len(company_requests(server, "acme")) == 3


def test_closed_client_refuses_to_pickle_or_copy(server):
    c = codat.Client(AUTH, server_url=server.url)
    c.close()
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(ValueError, match="closed Client"):
            attempt(c)
    with codat.Client(AUTH, server_url=server.url) as c:
        pass
    with pytest.raises(ValueError, match="closed Client") as info:
        pickle.dumps(c)
    assert AUTH not in str(info.value)


def test_uninitialised_client_refuses_to_pickle():
    c = codat.Client.__new__(codat.Client)
    with pytest.raises(ValueError, match="uninitialised"):
        pickle.dumps(c)


def test_a_pickled_client_outlives_its_original(server):
    c = codat.Client(AUTH, server_url=server.url)
    data = pickle.dumps(c)
    c.close()
    del c
    gc.collect()
    with pickle.loads(data) as copy_:
        assert copy_.get_company_access_token("acme")["accessToken"]


# ---- the SDK facade


def test_facade_pickles_by_configuration(server):
    from codat_platform_c.sdk import CodatPlatform, utils
    retry = utils.RetryConfig("backoff", utils.BackoffStrategy(5, 10, 1.5, 2000), True)
    sdk = CodatPlatform(security={"auth_header": AUTH}, server_url=server.url, retry_config=retry, timeout_ms=250)
    data = pickle.dumps(sdk)
    assert AUTH.encode() in data
    with pickle.loads(data) as copy_:
        assert type(copy_) is CodatPlatform and repr(copy_) == repr(sdk)
        assert AUTH not in repr(copy_)
        server.script("flaky", Reply(status=503), Reply())
        assert copy_.companies.get_access_token(request={"company_id": "flaky"}).access_token
        assert len(company_requests(server, "flaky")) == 2  # the retry policy travelled
        with pytest.raises(codat.Timeout):  # timeout_ms travelled
            copy_.companies.get_access_token(request={"company_id": "slow-2000"}, retries=utils.RetryConfig("none"))
    assert all(r.headers["authorization"] == AUTH for r in server.requests)
    sdk.close()


def test_facade_with_a_module_level_security_callable_pickles(server):
    from codat_platform_c.sdk import CodatPlatform
    sdk = CodatPlatform(security=security_from_worker_environment, server_url=server.url)
    data = pickle.dumps(sdk)
    assert AUTH.encode() not in data  # the callable travels by name; the worker calls it
    copy_ = pickle.loads(data)
    assert copy_._security_source is security_from_worker_environment
    assert copy_.companies.get_access_token(request={"company_id": "acme"}).access_token
    assert server.requests[-1].headers["authorization"] == AUTH


def test_facade_with_a_lambda_refuses_to_pickle_clearly(server):
    from codat_platform_c.sdk import CodatPlatform
    sdk = CodatPlatform(security=lambda: {"auth_header": AUTH}, server_url=server.url)
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="module-level function"):
            attempt(sdk)
    assert sdk.companies.get_access_token(request={"company_id": "acme"}).access_token  # still usable


def test_facade_pickles_after_close_and_copies(server):
    from codat_platform_c.sdk import CodatPlatform
    with CodatPlatform(security={"auth_header": AUTH}, server_url=server.url) as sdk:
        sdk.companies.get_access_token(request={"company_id": "acme"})
    # A closed facade stays usable (it reopens), so it pickles as well.
    for make in (round_trip, copy.copy, copy.deepcopy):
        other = make(sdk)
        assert other is not sdk and other._client is not sdk._client
        assert other.companies.get_access_token(request={"company_id": "acme"}).access_token


def test_facade_with_a_security_model_pickles_as_the_header(server):
    from codat_platform_c.sdk import CodatPlatform
    from codat_platform_c.sdk.models import shared
    sdk = CodatPlatform(security=shared.Security(auth_header=AUTH), server_url=server.url)
    copy_ = round_trip(sdk)
    assert copy_.companies.get_access_token(request={"company_id": "acme"}).access_token
    assert server.requests[-1].headers["authorization"] == AUTH
    assert AUTH not in repr(copy_)
