"""Client(cache=True): hits without requests, expiry and refresh before it, single flight across threads,
coroutines and batches, failures shared but never cached, invalidate(), and no token in reprs or logs."""
import asyncio
import logging
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c import _cache
from codat_platform_c.testing import Reply
from conftest import AUTH, FAST_RETRIES


@pytest.fixture
def cached(server):
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=FAST_RETRIES, cache=True) as c:
        yield c


def short(token, expires_in):
    return Reply(json={"accessToken": token, "expiresIn": expires_in, "tokenType": "Bearer"})


def run_threads(n, fn):
    """Start n threads at once on fn(i); return their results (or exceptions) in order."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def body(i):
        barrier.wait()
        try:
            out[i] = fn(i)
        except BaseException as exc:  # noqa: B036 - collected for the test to inspect
            out[i] = exc

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    return out


# ------------------------------------------------------------------ hits, copies, the uncached hot path


def test_hit_makes_no_request(cached, server):
    a = cached.get_access_token("acme")
    assert server.request_count() == 1
    for _ in range(100):
        assert cached.get_access_token("acme") == a
    assert server.request_count() == 1
    assert a == {"accessToken": server.tokens_issued[-1]}


def test_returned_dicts_are_copies(cached, server):
    a = cached.get_company_access_token("acme")
    token = a["accessToken"]
    a["accessToken"] = "tampered"
    a.clear()
    b = cached.get_company_access_token("acme")
    assert b["accessToken"] == token and b["tokenType"] == "Bearer"
    b["accessToken"] = "again"
    assert cached.get_company_access_token("acme")["accessToken"] == token
    assert server.request_count() == 1


def test_without_cache_the_methods_stay_the_c_ones(client, server):
    assert client._token_cache is None
    for name in ("get_access_token", "get_company_access_token", "get_access_tokens"):
        assert name not in vars(client)
        assert type(getattr(client, name)).__name__ == "builtin_function_or_method"
    client.get_access_token("a")
    client.get_access_token("a")
    assert server.request_count() == 2
    client.invalidate("a")  # no cache: nothing to do
    client.invalidate()


def test_cache_arguments_are_checked(server):
    with pytest.raises(TypeError):
        codat.Client(auth_header=AUTH, server_url=server.url, cache=True, cache_margin_s="5")
    with pytest.raises(ValueError):
        codat.Client(auth_header=AUTH, server_url=server.url, cache=True, cache_margin_s=-1)
    with pytest.raises(ValueError):
        codat.Client(auth_header=AUTH, server_url=server.url, cache=True, cache_margin_s=float("nan"))
    with pytest.raises(TypeError, match="cache=True"):
        codat.Client(auth_header=AUTH, server_url=server.url, cache_margin_s=5)
    with pytest.raises(ValueError):  # the C checks still run
        codat.Client(auth_header=AUTH, server_url="ftp://x", cache=True)


def test_bad_input_is_still_refused(cached, server):
    with pytest.raises(TypeError):
        cached.get_access_token(5)
    with pytest.raises(ValueError):
        cached.get_access_token("")
    with pytest.raises(TypeError):
        cached.get_access_token("a", bogus=1)
    with pytest.raises(TypeError, match="single str"):
        cached.get_access_tokens("abc")
    with pytest.raises(ValueError):
        cached.get_access_tokens(["a", ""])
    assert server.request_count() == 0
    cached.get_access_tokens(["a"])
    # everything cached: the batch's own checks still apply
    with pytest.raises(ValueError):
        cached.get_access_tokens(["a"], endpoint="other")
    with pytest.raises(ValueError):
        cached.get_access_tokens(["a"], concurrency=0)
    with pytest.raises(TypeError):
        cached.get_access_tokens(["a"], progress=5)
    assert server.request_count() == 1


# ------------------------------------------------------------------ lifetimes and margins


def test_expiry_and_refresh_before_expiry(server):
    server.script("acme", short("first", 2), short("second", 2))
    with codat.Client(auth_header=AUTH, server_url=server.url, cache=True, cache_margin_s=1) as c:
        t0 = time.monotonic()
        assert c.get_company_access_token("acme")["accessToken"] == "first"
        time.sleep(0.5)
        assert c.get_company_access_token("acme")["accessToken"] == "first"
        assert server.request_count() == 1
        # 2 s lifetime, 1 s margin: from 1 s on it is refreshed although it would still be valid
        time.sleep(max(0.0, t0 + 1.15 - time.monotonic()))
        assert c.get_company_access_token("acme")["accessToken"] == "second"
        assert server.request_count() == 2
        assert c.get_company_access_token("acme")["accessToken"] == "second"
        assert server.request_count() == 2


def test_default_margin_is_ten_percent_for_short_tokens(server):
    # expiresIn 1 s: margin min(5 min, 0.1 s) = 0.1 s, so fresh for 0.9 s
    server.script("acme", short("first", 1), short("second", 1))
    with codat.Client(auth_header=AUTH, server_url=server.url, cache=True) as c:
        t0 = time.monotonic()
        assert c.get_company_access_token("acme")["accessToken"] == "first"
        time.sleep(max(0.0, t0 + 0.6 - time.monotonic()))
        assert c.get_company_access_token("acme")["accessToken"] == "first"
        time.sleep(max(0.0, t0 + 0.95 - time.monotonic()))
        assert c.get_company_access_token("acme")["accessToken"] == "second"
    assert server.request_count() == 2


def test_zero_expires_in_is_never_cached(cached, server):
    server.script("acme", short("zero", 0), short("neg", -5))
    assert cached.get_company_access_token("acme")["accessToken"] == "zero"
    assert cached.get_company_access_token("acme")["accessToken"] == "neg"
    assert cached.get_company_access_token("acme")["accessToken"] == server.tokens_issued[-1]
    assert server.request_count() == 3


def fake_clock(monkeypatch):
    offset = [0.0]
    monkeypatch.setattr(_cache, "_monotonic", lambda: time.monotonic() + offset[0])
    return offset


def test_connection_management_token_lives_one_hour_less_five_minutes(cached, server, monkeypatch):
    offset = fake_clock(monkeypatch)
    first = cached.get_access_token("acme")
    offset[0] = 3600 - 300 - 5
    assert cached.get_access_token("acme") == first
    assert server.request_count() == 1
    offset[0] = 3600 - 300 + 5
    assert cached.get_access_token("acme") != first
    assert server.request_count() == 2


def test_company_token_uses_expires_in(cached, server, monkeypatch):
    offset = fake_clock(monkeypatch)
    first = cached.get_company_access_token("acme")  # the stand-in says expiresIn 86400
    assert first["expiresIn"] == 86400
    offset[0] = 86400 - 300 - 5
    assert cached.get_company_access_token("acme") == first
    offset[0] = 86400 - 300 + 5
    assert cached.get_company_access_token("acme") != first
    assert server.request_count() == 2


def test_company_token_without_expires_in_gets_one_hour(cached, server, monkeypatch):
    offset = fake_clock(monkeypatch)
    server.script("acme", Reply(json={"accessToken": "no-expiry"}))
    assert cached.get_company_access_token("acme")["accessToken"] == "no-expiry"
    offset[0] = 3000
    assert cached.get_company_access_token("acme")["accessToken"] == "no-expiry"
    offset[0] = 3400
    assert cached.get_company_access_token("acme")["accessToken"] != "no-expiry"


def test_answer_without_a_token_is_not_cached(cached, server):
    server.script("odd", Reply(json={"something": "else"}))
    with pytest.raises(codat.SDKError, match="no accessToken string"):
        cached.get_access_token("odd")
    assert "accessToken" in cached.get_access_token("odd")
    assert server.request_count() == 2


# ------------------------------------------------------------------ keys and invalidation


def test_endpoints_are_cached_separately(cached, server):
    a = cached.get_access_token("acme")
    b = cached.get_company_access_token("acme")
    assert a["accessToken"] != b["accessToken"] and "expiresIn" not in a
    assert cached.get_access_token("acme") == a
    assert cached.get_company_access_token("acme") == b
    assert server.request_count() == 2
    assert {r.endpoint for r in server.requests} == {"connection_management", "company"}


def test_per_call_server_and_headers_are_part_of_the_key(cached, server):
    a = cached.get_access_token("acme")
    b = cached.get_access_token("acme", http_headers={"X-Tenant": "other"})
    c = cached.get_access_token("acme", server_url=server.url + "/")
    assert len({a["accessToken"], b["accessToken"], c["accessToken"]}) == 3
    assert cached.get_access_token("acme", http_headers={"X-Tenant": "other"}) == b
    assert cached.get_access_token("acme", timeout_ms=5000) == a  # options that do not change the token
    assert server.request_count() == 3


def test_invalidate_one_company_or_all(cached, server):
    a = cached.get_access_token("a")
    ac = cached.get_company_access_token("a")
    b = cached.get_access_token("b")
    cached.invalidate("a")
    assert cached.get_access_token("b") == b
    assert server.request_count() == 3
    assert cached.get_access_token("a") != a
    assert cached.get_company_access_token("a") != ac  # every endpoint of that company
    assert server.request_count() == 5
    cached.invalidate("never-seen")
    cached.invalidate()
    assert cached.get_access_token("b") != b
    assert server.request_count() == 6


@pytest.mark.parametrize("bad", [5, b"a", ["a"]])
def test_invalidate_refuses_what_is_not_a_company_id(cached, server, bad):
    # a wrong type would silently drop nothing (a cache key is a str): say so, with or without a cache
    with pytest.raises(TypeError, match="company_id must be a str or None"):
        cached.invalidate(bad)
    with codat.Client(AUTH, server_url=server.url) as plain, pytest.raises(TypeError):
        plain.invalidate(bad)


def test_invalidate_while_a_request_is_in_flight(cached, server):
    server.script("slow", Reply(delay_s=0.3))
    th = threading.Thread(target=cached.get_access_token, args=("slow",))
    th.start()
    time.sleep(0.1)
    cached.invalidate("slow")  # the answer still reaches its caller but is not cached
    th.join()
    cached.get_access_token("slow")
    assert server.request_count("slow") == 2


def test_close_drops_the_tokens(server):
    c = codat.Client(auth_header=AUTH, server_url=server.url, cache=True)
    with c:
        c.get_access_token("a")
        assert len(c._token_cache) == 1
    assert len(c._token_cache) == 0
    with pytest.raises(ValueError, match="closed"):
        c.get_access_token("a")
    with pytest.raises(ValueError, match="closed"):
        c.get_access_tokens(["a"])
    with pytest.raises(ValueError, match="closed"):
        asyncio.run(c.get_access_token_async("a"))


# ------------------------------------------------------------------ single flight, threads


def test_threads_on_one_company_share_one_request(cached, server):
    server.script("acme", Reply(delay_s=0.3))
    ticks = []
    stop = threading.Event()

    def ticker():  # runs Python code all along: the waiters do not hold the GIL
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    tk = threading.Thread(target=ticker)
    tk.start()
    try:
        out = run_threads(32, lambda i: cached.get_access_token("acme"))
    finally:
        stop.set()
        tk.join()
    assert server.request_count() == 1
    assert all(isinstance(v, dict) for v in out), out
    assert len({v["accessToken"] for v in out}) == 1
    assert len({id(v) for v in out}) == 32  # each caller its own copy
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.1


def test_threads_on_many_companies(cached, server):
    out = run_threads(16, lambda i: [cached.get_access_token(f"c{j}") for j in range(50)])
    assert server.request_count() == 50
    assert all(o == out[0] for o in out)


def test_failure_reaches_every_waiter_and_is_not_cached(cached, server):
    server.script("acme", Reply(status=404, delay_s=0.3))
    out = run_threads(16, lambda i: cached.get_access_token("acme"))
    assert server.request_count() == 1
    assert all(isinstance(e, codat.ErrorMessage) and e.status_code == 404 for e in out), out
    assert len({id(e) for e in out}) == 1  # that same exception
    assert len(cached._token_cache) == 0
    assert cached.get_access_token("acme")["accessToken"]  # asked again, not served from a cache
    assert server.request_count() == 2


def test_caller_error_of_the_leader_does_not_reach_the_waiters(cached, server):
    server.script_default(Reply(delay_s=0.2))

    def call(i):
        if i == 0:
            return cached.get_access_token("acme", bogus=True)  # a TypeError before anything is sent
        time.sleep(0.05)
        return cached.get_access_token("acme")
    out = run_threads(4, call)
    assert isinstance(out[0], TypeError)
    assert all(isinstance(v, dict) for v in out[1:]) and len({v["accessToken"] for v in out[1:]}) == 1


def test_retries_happen_once_for_all_waiters(cached, server):
    server.script("acme", Reply(status=503, delay_s=0.1), Reply(status=503))
    out = run_threads(8, lambda i: cached.get_access_token("acme"))
    assert all(isinstance(v, dict) for v in out)
    assert server.request_count() == 3


# ------------------------------------------------------------------ single flight, asyncio


def test_async_hit_and_single_flight(cached, server):
    server.script("acme", Reply(delay_s=0.3))

    async def main():
        got = await asyncio.gather(*[cached.get_company_access_token_async("acme") for _ in range(50)])
        again = await cached.get_company_access_token_async("acme")
        return got, again
    got, again = asyncio.run(main())
    assert server.request_count() == 1
    assert len({g["accessToken"] for g in got}) == 1 and again == got[0]
    assert len({id(g) for g in got}) == 50
    assert cached.get_company_access_token("acme") == again  # shared with the sync methods


def test_async_failure_reaches_every_waiter(cached, server):
    server.script("acme", Reply(status=403, delay_s=0.2))

    async def main():
        return await asyncio.gather(*[cached.get_access_token_async("acme") for _ in range(10)],
                                    return_exceptions=True)
    out = asyncio.run(main())
    assert all(isinstance(e, codat.ErrorMessage) and e.status_code == 403 for e in out)
    assert len({id(e) for e in out}) == 1
    assert server.request_count() == 1
    assert asyncio.run(cached.get_access_token_async("acme"))["accessToken"]
    assert server.request_count() == 2


def test_async_leader_cancelled_a_waiter_takes_over(cached, server):
    server.script("acme", Reply(delay_s=0.5))

    async def main():
        leader = asyncio.ensure_future(cached.get_access_token_async("acme"))
        await asyncio.sleep(0.05)
        waiter = asyncio.ensure_future(cached.get_access_token_async("acme"))
        await asyncio.sleep(0.05)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        return await asyncio.wait_for(waiter, 5)
    assert asyncio.run(main())["accessToken"]
    assert server.request_count() == 2


def test_cancelled_async_waiter_leaves_the_others_alone(cached, server):
    server.script("acme", Reply(delay_s=0.3))

    async def main():
        tasks = [asyncio.ensure_future(cached.get_access_token_async("acme")) for _ in range(5)]
        await asyncio.sleep(0.1)
        tasks[3].cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)
    out = asyncio.run(main())
    assert isinstance(out[3], asyncio.CancelledError)
    assert len({o["accessToken"] for i, o in enumerate(out) if i != 3}) == 1
    assert server.request_count() == 1


def test_thread_and_coroutines_share_one_request(cached, server):
    server.script("acme", Reply(delay_s=0.4))
    from_thread = []
    th = threading.Thread(target=lambda: from_thread.append(cached.get_access_token("acme")))
    th.start()
    time.sleep(0.1)  # the thread leads

    async def main():
        return await asyncio.gather(*[cached.get_access_token_async("acme") for _ in range(5)])
    got = asyncio.run(main())
    th.join()
    assert server.request_count() == 1
    assert {g["accessToken"] for g in got} == {from_thread[0]["accessToken"]}


def test_async_waiters_on_several_loops(cached, server):
    server.script("acme", Reply(delay_s=0.3))

    def loop_body(i):
        async def main():
            return await asyncio.gather(*[cached.get_access_token_async("acme") for _ in range(5)])
        return asyncio.run(main())
    out = run_threads(4, loop_body)
    assert server.request_count() == 1
    assert len({d["accessToken"] for lst in out for d in lst}) == 1


# ------------------------------------------------------------------ batches


def test_batch_serves_cached_ids_without_requests(cached, server):
    a = cached.get_access_token("a")
    b = cached.get_access_token("b")
    assert server.request_count() == 2
    calls = []
    out = cached.get_access_tokens(["c", "a", "d", "b", "a", "c"], progress=lambda d, t: calls.append((d, t)))
    assert list(out) == ["c", "a", "d", "b"]
    assert out["a"] == a and out["b"] == b
    assert server.request_count() == 4
    assert {r.company_id for r in server.requests[2:]} == {"c", "d"}
    assert calls[-1] == (4, 4) and all(t == 4 for _, t in calls) and calls[0][0] >= 2
    # and what the batch fetched is cached for everyone
    assert cached.get_access_token("c") == out["c"]
    assert cached.get_access_tokens(["a", "b", "c", "d"]) == out
    assert server.request_count() == 4
    out["a"]["accessToken"] = "tampered"
    assert cached.get_access_token("a") == a


def test_batch_all_cached_reports_progress_once(cached, server):
    cached.get_access_tokens(["a", "b"], endpoint="company")
    calls = []
    out = cached.get_access_tokens(["a", "b"], endpoint="company", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 2)]
    assert all(v["tokenType"] == "Bearer" for v in out.values())
    assert server.request_count() == 2
    assert cached.get_access_tokens([]) == {}


def test_batch_errors_are_not_cached(cached, server):
    server.script("bad", Reply(status=404))
    out = cached.get_access_tokens(["ok", "bad"])
    assert isinstance(out["bad"], codat.ErrorMessage) and isinstance(out["ok"], dict)
    out2 = cached.get_access_tokens(["ok", "bad"])
    assert out2["ok"] == out["ok"] and isinstance(out2["bad"], dict)
    assert server.request_count() == 3


def test_batch_and_single_callers_share_requests(cached, server):
    ids = [f"s{i}" for i in range(10)]
    server.script_default(*[Reply(delay_s=0.3)] * 10)
    singles = {}

    def single():
        time.sleep(0.1)  # while the batch is in flight
        singles["s3"] = cached.get_access_token("s3")

    th = threading.Thread(target=single)
    th.start()
    out = cached.get_access_tokens(ids)
    th.join()
    assert server.request_count() == 10
    assert singles["s3"] == out["s3"]


def test_batch_waits_for_a_request_already_in_flight(cached, server):
    server.script("s0", Reply(delay_s=0.3))
    got = {}
    th = threading.Thread(target=lambda: got.setdefault("s0", cached.get_access_token("s0")))
    th.start()
    time.sleep(0.1)
    out = cached.get_access_tokens(["s0", "s1"])
    th.join()
    assert out["s0"] == got["s0"]
    assert server.request_count() == 2


def test_interrupted_batch_caches_nothing_and_frees_waiters(cached, server):
    server.script_default(*[Reply(delay_s=0.3)] * 6)

    def boom(done, total):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        cached.get_access_tokens(["x", "y", "z"], progress=boom)
    assert len(cached._token_cache) == 0
    assert cached.get_access_token("x")["accessToken"]  # no flight left behind


def in_thread_with_timeout(fn, timeout=10):
    """Run fn in a daemon thread: a deadlock fails the test instead of hanging it."""
    out = []
    th = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    th.start()
    th.join(timeout)
    assert not th.is_alive(), "deadlocked"
    return out[0]


def test_progress_callback_asking_for_a_token_of_its_own_batch(cached, server):
    server.script_default(*[Reply(delay_s=0.15)] * 8)
    seen = {}

    def progress(done, total):
        if "x1" not in seen:  # x1 is being fetched by this very batch, further up this thread's stack
            seen["x1"] = cached.get_access_token("x1")

    out = in_thread_with_timeout(lambda: cached.get_access_tokens(["x0", "x1", "x2"], progress=progress))
    assert seen["x1"]["accessToken"] and isinstance(out["x1"], dict)


def test_sync_call_inside_the_loop_that_leads_asynchronously(cached, server):
    server.script("acme", Reply(delay_s=0.2))

    async def main():
        leader = asyncio.ensure_future(cached.get_access_token_async("acme"))
        await asyncio.sleep(0.05)
        blocking = cached.get_access_token("acme")  # blocks this loop: must not wait for the leader
        batch = cached.get_access_tokens(["acme"])
        return await leader, blocking, batch

    a, b, batch = in_thread_with_timeout(lambda: asyncio.run(main()))
    assert a["accessToken"] and b["accessToken"] and batch["acme"]["accessToken"]



# ------------------------------------------------------------------ waiters keep their own deadline


def lead_in_thread(fn):
    """Starts fn (a leader) on a thread; returns (thread, its result list)."""
    out = []
    th = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    th.start()
    return th, out


def test_sync_waiter_keeps_its_own_timeout(cached, server):
    # The leader has no timeout: it waits the 2 s, ending 1.8 s after the waiter starts, past the bound below.
    server.script("acme", Reply(delay_s=2))
    leader, got = lead_in_thread(lambda: cached.get_access_token("acme"))
    time.sleep(0.2)
    t = time.monotonic()
    with pytest.raises(codat.Timeout, match="timeout_ms=500") as info:
        cached.get_access_token("acme", timeout_ms=500)
    assert 0.45 < time.monotonic() - t < 1.2
    assert info.value.attempts == 0 and isinstance(info.value, TimeoutError)
    leader.join(10)
    assert got[0]["accessToken"] and server.request_count("acme") == 1


def test_waiter_uses_the_clients_timeout_when_its_call_names_none(server):
    server.script("acme", Reply(delay_s=3))
    with codat.Client(auth_header=AUTH, server_url=server.url, timeout_ms=500, cache=True) as c:
        leader, got = lead_in_thread(lambda: c.get_access_token("acme", timeout_ms=None))  # no limit
        time.sleep(0.2)
        t = time.monotonic()
        with pytest.raises(codat.Timeout):
            c.get_access_token("acme")
        with pytest.raises(codat.Timeout):
            asyncio.run(c.get_access_token_async("acme"))
        out = c.get_access_tokens(["acme"])
        assert isinstance(out["acme"], codat.Timeout)
        assert time.monotonic() - t < 3.0  # three waits of 0.5 s, not the leader's 3 s
        leader.join(10)
        assert got[0]["accessToken"]


def test_async_and_batch_waiters_keep_their_own_timeout(cached, server):
    # The leader ends 1.8 s after the first waiter starts: past both bounds below, and after the batch's wait.
    server.script("acme", Reply(delay_s=2))
    leader, got = lead_in_thread(lambda: cached.get_access_token("acme"))
    time.sleep(0.2)

    async def wait_async():
        t = time.monotonic()
        with pytest.raises(codat.Timeout):
            await cached.get_access_token_async("acme", timeout_ms=400)
        return time.monotonic() - t
    assert asyncio.run(wait_async()) < 1.1
    t = time.monotonic()
    out = cached.get_access_tokens(["acme", "other"], timeout_ms=400)
    assert time.monotonic() - t < 1.1
    assert isinstance(out["acme"], codat.Timeout) and out["other"]["accessToken"]
    leader.join(10)
    assert got[0]["accessToken"] and server.request_count("acme") == 1


def stalled_async_leader(cached, company_id):
    """An async leader whose event loop stops running while its request is in flight. Returns the loop and
    the leader's task (the loop, on its own thread, has returned from run_forever)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder = []

    def run():
        async def lead():
            holder.append(asyncio.ensure_future(cached.get_access_token_async(company_id)))
            await asyncio.sleep(0.1)  # the request is in flight now
            started.set()
            loop.stop()
        loop.create_task(lead())
        loop.run_forever()  # returns at loop.stop(), with the leader still pending

    th = threading.Thread(target=run, daemon=True)
    th.start()
    assert started.wait(10)
    th.join(10)
    assert not loop.is_running()
    return loop, holder[0]


def test_leader_on_a_stopped_loop_hands_the_request_over(cached, server):
    server.script("acme", Reply(delay_s=0.3), Reply(), Reply())
    loop, leader = stalled_async_leader(cached, "acme")
    t = time.monotonic()
    got = in_thread_with_timeout(lambda: cached.get_access_token("acme"), timeout=10)  # no timeout of its own
    assert got["accessToken"] and time.monotonic() - t < 2.0
    got_async = in_thread_with_timeout(lambda: asyncio.run(cached.get_access_token_async("acme")), timeout=10)
    assert got_async == got  # the new leader's answer is cached
    # The stalled leader's loop runs again: its answer reaches it, and nothing breaks.
    late = loop.run_until_complete(asyncio.wait_for(leader, 10))
    loop.close()
    assert late["accessToken"] and cached.get_access_token("acme") == got
    assert server.request_count("acme") == 2


def test_async_waiter_of_a_stopped_loop_leader_takes_over(cached, server):
    server.script("acme", Reply(delay_s=0.3), Reply())
    loop, leader = stalled_async_leader(cached, "acme")

    async def main():
        return await asyncio.gather(*[cached.get_access_token_async("acme") for _ in range(5)])
    got = in_thread_with_timeout(lambda: asyncio.run(main()), timeout=10)
    assert len({r["accessToken"] for r in got}) == 1  # one of the waiters led, the others shared it
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        loop.run_until_complete(leader)
    loop.close()
    assert server.request_count("acme") == 2


# ------------------------------------------------------------------ secrets


def test_no_token_in_reprs_or_logs(server):
    got = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append(self.format(record))

    root = logging.getLogger()
    handler = Keep(logging.DEBUG)
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("codat_platform_c").setLevel(logging.NOTSET)
    try:
        with codat.Client(auth_header=AUTH, server_url=server.url, cache=True) as c:
            tok = c.get_access_token("a")["accessToken"]
            tok2 = c.get_company_access_token("a")["accessToken"]
            c.get_access_tokens(["a", "b"])
            asyncio.run(c.get_access_token_async("a"))
            server.script("e", Reply(status=404))
            with pytest.raises(codat.ErrorMessage):
                c.get_access_token("e", retries=None)
            cache = c._token_cache
            texts = [repr(c), str(c), repr(vars(c)), repr(cache), repr(cache._entries), repr(cache._flights),
                     repr(c.get_access_token)]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert len(tok) > 8 and len(tok2) > 8
    for text in texts + got:
        assert tok not in text and tok2 not in text
        assert AUTH not in text
