"""Many companies in one call: mixed outcomes, duplicates, progress, concurrency, 429 slow-down."""
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH


def test_5000_companies_mixed_outcomes(client, server):
    ids = [f"co-{i}" for i in range(5000)]
    for i in range(0, 5000, 10):
        server.script(ids[i], Reply(status=404))
    for i in range(5, 5000, 50):
        server.script(ids[i], Reply(status=418, body="odd"))
    out = client.get_access_tokens(ids, concurrency=32)
    assert list(out) == ids  # input order kept
    ok = [k for k, v in out.items() if isinstance(v, dict)]
    assert len(ok) == 5000 - 500 - 100
    assert all(isinstance(out[ids[i]], codat.ErrorMessage) and out[ids[i]].status_code == 404
               for i in range(0, 5000, 10))
    assert all(isinstance(out[ids[i]], codat.SDKError) for i in range(5, 5000, 50))
    tokens = {v["accessToken"] for v in out.values() if isinstance(v, dict)}
    assert len(tokens) == len(ok)
    assert server.request_count() == 5000


def test_company_endpoint_and_duplicates(client, server):
    out = client.get_access_tokens(["a", "b", "a", "a", "c"], endpoint="company")
    assert list(out) == ["a", "b", "c"]
    assert all(v["tokenType"] == "Bearer" for v in out.values())
    assert server.request_count() == 3
    assert {r.endpoint for r in server.requests} == {"company"}


def test_accepts_any_iterable(client, server):
    out = client.get_access_tokens(f"g{i}" for i in range(5))
    assert len(out) == 5
    assert client.get_access_tokens([]) == {}


def test_bad_inputs(client, server):
    with pytest.raises(TypeError, match="not a single str"):
        client.get_access_tokens("abc")
    with pytest.raises(TypeError):
        client.get_access_tokens(["a", 5])
    with pytest.raises(ValueError):
        client.get_access_tokens(["a", ""])
    with pytest.raises(ValueError):
        client.get_access_tokens(["a"], concurrency=0)
    with pytest.raises(ValueError):
        client.get_access_tokens(["a"], endpoint="other")
    with pytest.raises(TypeError):
        client.get_access_tokens(["a"], progress=5)
    assert server.request_count() == 0


def test_concurrency_bound_and_speed(client, server):
    server.script_default(*[Reply(delay_s=0.2)] * 40)
    t = time.monotonic()
    out = client.get_access_tokens([f"d{i}" for i in range(40)], concurrency=8)
    wall = time.monotonic() - t
    assert len(out) == 40 and all(isinstance(v, dict) for v in out.values())
    assert 0.95 <= wall < 2.0, wall  # 5 waves of 0.2 s with 8 at once
    assert server.connections_opened <= 8


def test_progress_callback(client, server):
    server.script_default(*[Reply(delay_s=0.05)] * 60)
    calls = []
    client.get_access_tokens([f"p{i}" for i in range(60)], concurrency=4,
                             progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (60, 60)
    assert len(calls) >= 3  # ~0.75 s of work, reported about every 100 ms
    assert all(t == 60 for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_progress_exception_stops_the_batch(client, server):
    server.script_default(*[Reply(delay_s=0.2)] * 20)

    def boom(done, total):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        client.get_access_tokens([f"x{i}" for i in range(20)], concurrency=2, progress=boom)
    assert client.get_access_token("fine")["accessToken"]


def test_429_with_retry_after_slows_the_whole_batch(server):
    ids = [f"r{i}" for i in range(20)]
    server.script(ids[0], Reply(status=429, headers={"Retry-After": "1"}))
    with codat.Client(auth_header=AUTH, server_url=server.url,
                      retries=codat.RetryConfig(initial_interval_ms=5)) as c:
        out = c.get_access_tokens(ids, concurrency=1)
    assert all(isinstance(v, dict) for v in out.values())
    times = {r.company_id: r.time for r in server.requests}
    first_429 = min(r.time for r in server.requests if r.company_id == ids[0])
    # nothing else was sent during the second the server asked for
    later = sorted(t for cid, t in times.items() if cid != ids[0])
    assert later[0] - first_429 >= 0.95


def test_retries_in_batch(client, server):
    server.script("a", Reply(status=503), Reply(status=503))
    server.script("b", Reply(action="drop"))
    out = client.get_access_tokens(["a", "b", "c"])
    assert all(isinstance(v, dict) for v in out.values())
    assert server.request_count("a") == 3 and server.request_count("b") == 2


def test_batch_rate_limit_figures(client, server):
    client.get_access_tokens([f"q{i}" for i in range(10)])
    assert client.rate_limit["remaining"] == server.rate_limit_remaining
