"""Many companies in one call: mixed outcomes, duplicates, progress, concurrency, 429 slow-down."""
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH


# None: the core picks (2 threads on a 2-CPU machine for this batch); 1 and 3 force one or more helpers.
@pytest.mark.parametrize("threads", [None, 1, 3])
def test_5000_companies_mixed_outcomes(client, server, threads):
    ids = [f"co-{i}" for i in range(5000)]
    for i in range(0, 5000, 10):
        server.script(ids[i], Reply(status=404))
    for i in range(5, 5000, 50):
        server.script(ids[i], Reply(status=418, body="odd"))
    out = client.get_access_tokens(ids, concurrency=32, threads=threads)
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
    for bad in (0, -1, 65, 2**70):
        with pytest.raises(ValueError, match="threads"):
            client.get_access_tokens(["a"], threads=bad)
    for bad in ("2", 2.0, True):
        with pytest.raises(TypeError, match="threads"):
            client.get_access_tokens(["a"], threads=bad)
    assert server.request_count() == 0
    assert client.get_access_tokens(["a"], threads=None)["a"]["accessToken"]


@pytest.mark.parametrize("threads", [1, 2, 8])
def test_concurrency_bound_and_speed(client, server, threads):
    server.script_default(*[Reply(delay_s=0.2)] * 40)
    t = time.monotonic()
    out = client.get_access_tokens([f"d{i}" for i in range(40)], concurrency=8, threads=threads)
    wall = time.monotonic() - t
    assert len(out) == 40 and all(isinstance(v, dict) for v in out.values())
    assert 0.95 <= wall < 2.0, wall  # 5 waves of 0.2 s with 8 at once, however they are split
    assert server.connections_opened <= 8  # the threads share the concurrency, they do not each get it


def test_more_threads_than_slots_or_jobs(client, server):
    # threads is capped by concurrency and by the batch size: every thread needs a slot and a job
    out = client.get_access_tokens([f"m{i}" for i in range(3)], concurrency=2, threads=64)
    assert all(isinstance(v, dict) for v in out.values()) and len(out) == 3
    assert server.connections_opened <= 2


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_threads_share_out_the_work(request, scheme):
    # Jobs are handed out one by one: a thread stuck on slow companies claims fewer, and the batch takes
    # about as long as its slowest company, not as long as the slowest thread's fixed share. Cold
    # connections, too: no transfer waits for another's answer before opening its own (over HTTPS they wait
    # only for the first handshake, to learn whether the server multiplexes).
    server = request.getfixturevalue("server" if scheme == "http" else "tls_server")
    ids = [f"w{i}" for i in range(40)]
    for cid in ids[:4]:
        server.script(cid, Reply(delay_s=0.6))
    server.script_default(*[Reply(delay_s=0.05)] * 36)
    with codat.Client(auth_header=AUTH, server_url=server.url, verify=server.ca_path or True) as c:
        t = time.monotonic()
        out = c.get_access_tokens(ids, concurrency=8, threads=2)
        wall = time.monotonic() - t
    assert all(isinstance(v, dict) for v in out.values())
    # 4 slots hold the slow ones for 0.6 s while the other 4 get through the 36 fast ones (9 x 0.05 s)
    assert 0.55 <= wall < 1.0, wall


@pytest.mark.parametrize("threads", [1, 2])
def test_progress_callback(client, server, threads):
    server.script_default(*[Reply(delay_s=0.05)] * 60)
    calls = []
    callers = set()

    def progress(done, total):
        callers.add(threading.get_ident())
        calls.append((done, total))

    client.get_access_tokens([f"p{i}" for i in range(60)], concurrency=4, threads=threads, progress=progress)
    assert callers == {threading.get_ident()}  # always on the calling thread, with the GIL
    assert calls[-1] == (60, 60)
    assert len(calls) >= 3  # ~0.75 s of work, reported about every 100 ms
    assert all(t == 60 for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("threads", [1, 2])
def test_progress_exception_stops_the_batch(client, server, threads):
    server.script_default(*[Reply(delay_s=0.2)] * 20)

    def boom(done, total):
        raise RuntimeError("stop")

    t = time.monotonic()
    with pytest.raises(RuntimeError, match="stop"):
        client.get_access_tokens([f"x{i}" for i in range(20)], concurrency=2, threads=threads, progress=boom)
    assert time.monotonic() - t < 0.5  # the first report (~100 ms) stops every thread
    assert client.get_access_token("fine")["accessToken"]


@pytest.mark.parametrize("threads", [1, 2])
def test_429_with_retry_after_slows_the_whole_batch(server, threads):
    ids = [f"r{i}" for i in range(20)]
    server.script(ids[0], Reply(status=429, headers={"Retry-After": "1"}))
    with codat.Client(auth_header=AUTH, server_url=server.url,
                      retries=codat.RetryConfig(initial_interval_ms=5)) as c:
        out = c.get_access_tokens(ids, concurrency=threads, threads=threads)
    assert all(isinstance(v, dict) for v in out.values())
    times = {r.company_id: r.time for r in server.requests}
    first_429 = min(r.time for r in server.requests if r.company_id == ids[0])
    # nothing else was sent during the second the server asked for, by any thread. With one slot nothing
    # can be beside the 429; with two, the other slot's requests sent before the 429 came back are.
    others = sorted(t for cid, t in times.items() if cid != ids[0])
    beside = [t for t in others if t < first_429 + 0.05]
    if threads == 1:
        assert beside == []
    later = others[len(beside):]
    assert later[0] - first_429 >= 0.95, (later[0] - first_429, beside)


def test_retries_in_batch(client, server):
    server.script("a", Reply(status=503), Reply(status=503))
    server.script("b", Reply(action="drop"))
    out = client.get_access_tokens(["a", "b", "c"])
    assert all(isinstance(v, dict) for v in out.values())
    assert server.request_count("a") == 3 and server.request_count("b") == 2


def test_batch_rate_limit_figures(client, server):
    client.get_access_tokens([f"q{i}" for i in range(10)])
    assert client.rate_limit["remaining"] == server.rate_limit_remaining


def test_threads_over_tls(tls_server):
    # Each thread opens its own TLS connections; the share handle lets them resume each other's sessions.
    ids = [f"tls-{i}" for i in range(600)]
    with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=tls_server.ca_path) as c:
        out = c.get_access_tokens(ids, concurrency=8, threads=4)
        assert all(isinstance(v, dict) and v["accessToken"] for v in out.values())
        assert len({v["accessToken"] for v in out.values()}) == 600
        assert tls_server.connections_opened <= 8
        again = c.get_access_tokens(ids[:50], concurrency=8, threads=4)  # engines back in the pool, reused
        assert all(isinstance(v, dict) for v in again.values())
        assert tls_server.connections_opened <= 8


def test_many_batches_from_many_threads_at_once(client, server):
    # Python threads each running a multi-threaded batch on one client: engines never cross threads.
    results = {}

    def run(k):
        results[k] = client.get_access_tokens([f"t{k}-{i}" for i in range(300)], concurrency=8, threads=2)

    workers = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert all(len(r) == 300 and all(isinstance(v, dict) for v in r.values()) for r in results.values())
    assert server.request_count() == 1200
