"""Batches under pressure: a 429 storm pauses the whole batch, Ctrl-C mid-batch, and async calls queue
beyond Codat's 10 concurrent requests per company."""
import asyncio
import os
import signal
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH, assert_prompt_interrupt, settled_request_count


# ------------------------------------------------------------------ 429 storm

# How long the client may still be sending what it started before it read a 429: 50 ms, and ten times that
# under the sanitizers (scripts/sanitize.sh, tsan.sh), where a transfer costs 5-15 times the CPU (under TSan
# on a busy machine the first wave's last requests arrived 44-80 ms after the first 429's). Still well inside
# the second the 429 asks for, so a batch that did not pause would fail either way.
SENDING_A_WAVE_S = 0.5 if os.environ.get("CODAT_SANITIZED") else 0.05


@pytest.mark.parametrize("cache,threads", [(False, 1), (True, 1), (False, 4)])
def test_429_storm_pauses_the_whole_batch(server, cache, threads):
    n, conc = 40, 16
    ids = [f"storm-{i}" for i in range(n)]
    for cid in ids:  # every company: one 429 asking for a second, then a token
        server.script(cid, Reply(status=429, headers={"Retry-After": "1"}))
    with codat.Client(auth_header=AUTH, server_url=server.url, cache=cache,
                      retries=codat.RetryConfig(initial_interval_ms=5)) as c:
        t = time.monotonic()
        out = c.get_access_tokens(ids, concurrency=conc, threads=threads)
        wall = time.monotonic() - t
        assert list(out) == ids
        assert all(isinstance(v, dict) and v["accessToken"] for v in out.values()), out
        assert len({v["accessToken"] for v in out.values()}) == n

        reqs = server.requests
        assert len(reqs) == 2 * n
        assert all(server.request_count(cid) == 2 for cid in ids)
        first_attempts = {}
        for r in reqs:
            first_attempts.setdefault(r.company_id, r.time)  # that one got the 429
        times = sorted(r.time for r in reqs)
        for t429 in first_attempts.values():
            # during the second asked for, only what was already in flight reached the server ...
            in_flight = [x for x in times if t429 < x < t429 + 0.95]
            if threads == 1:
                assert len(in_flight) < conc
            # (with several threads, the others may still start what was due, or claim new companies, in
            # the moment before the 429's answer is read and the pause published: more than conc can
            # arrive, but only in that moment, which the next check bounds)
            # ... and that was sent before the 429 came back, not after
            assert not [x for x in in_flight if x > t429 + SENDING_A_WAVE_S], (t429, in_flight)
        # at most 16 start at once, each first attempt pauses the batch: 40 companies take >= 3 pauses
        assert wall >= 1.9, wall
        assert wall < 8, wall
        if cache:  # and now they are all cached
            assert c.get_access_tokens(ids) == out
            assert len(server.requests) == 2 * n


def test_429_without_retry_after_does_not_pause_the_others(server):
    ids = [f"q{i}" for i in range(20)]
    server.script(ids[0], Reply(status=429), Reply(status=429))
    with codat.Client(auth_header=AUTH, server_url=server.url,
                      retries=codat.RetryConfig(initial_interval_ms=200, max_interval_ms=400)) as c:
        t = time.monotonic()
        out = c.get_access_tokens(ids, concurrency=4)
    assert all(isinstance(v, dict) for v in out.values())
    others = sorted(r.time for r in server.requests if r.company_id != ids[0])
    assert others[-1] - t < 0.3  # nobody else waited for q0's backoff


# ------------------------------------------------------------------ Ctrl-C mid-batch


@pytest.mark.parametrize("cache,threads", [(False, 1), (True, 1), (False, 3), (True, 3)])
def test_ctrl_c_mid_batch(server, cache, threads):
    ids = [f"slow-{i}" for i in range(400)]
    server.script_default(*[Reply(delay_s=0.1)] * 400)
    with codat.Client(auth_header=AUTH, server_url=server.url, cache=cache) as c:
        done = []
        assert_prompt_interrupt(lambda: c.get_access_tokens(ids, concurrency=16, threads=threads,
                                                            progress=lambda d, t: done.append(d)))
        assert done and 0 < done[-1] < len(ids)  # it was really mid-batch
        at_return = server.request_count()
        # A request written just before the cancel can be read by the server (a thread of this process, which
        # waits for the GIL) a moment after the call returned: let the server catch up first. What it then
        # reads late can only be what was in flight, at most `concurrency` requests.
        seen = settled_request_count(server)
        assert seen - at_return <= 16, (at_return, seen)
        time.sleep(0.3)
        assert server.request_count() == seen  # nothing more is sent once cancelled
        # the client is usable afterwards, and nothing half-done was left behind
        out = c.get_access_tokens(["after-1", "after-2"], concurrency=2)
        assert all(isinstance(v, dict) for v in out.values())
        assert c.get_access_token(ids[0])["accessToken"]
        if cache:
            assert c._token_cache._flights == {}


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_during_a_429_pause(server, threads):
    ids = [f"p{i}" for i in range(30)]
    server.script(ids[0], Reply(status=429, headers={"Retry-After": "30"}))
    with codat.Client(auth_header=AUTH, server_url=server.url) as c:
        assert_prompt_interrupt(lambda: c.get_access_tokens(ids, concurrency=threads, threads=threads))
        # the pause held everyone back: nothing was sent once the 429 had come back (with two slots, the
        # other one's requests before that moment were beside it, not after it)
        t429 = next(r.time for r in server.requests if r.company_id == ids[0])
        assert [r.company_id for r in server.requests if r.time > t429 + 0.05] == []
        if threads == 1:
            assert server.request_count() == 1
        assert c.get_access_token("fine")["accessToken"]


# ------------------------------------------------------------------ per-company limit, async


def max_overlap(times, duration):
    """Most requests whose [arrival, arrival + duration) intervals overlap, from arrival times."""
    times = sorted(times)
    return max(sum(1 for u in times if t - duration + 0.02 < u <= t) for t in times)


def assert_company_slots_all_free(client, server, company_id):
    """Every slot of the company came back to the core's table (there is no Python limiter to ask): as many
    blocking calls as the limit run at once."""
    limit = client.company_concurrency_limit
    server.script(company_id, *[Reply(delay_s=1.0)] * limit)  # long enough for every thread to start
    since = time.monotonic()
    threads = [threading.Thread(target=client.get_access_token, args=(company_id,)) for _ in range(limit)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    times = [r.time for r in server.requests if r.company_id == company_id and r.time >= since]
    assert len(times) == limit and max_overlap(times, 1.0) == limit, times


def test_async_per_company_limit(client, server):
    server.script("acme", *[Reply(delay_s=0.3)] * 20)
    server.script("other", *[Reply(delay_s=0.3)] * 5)

    async def main():
        t = time.monotonic()
        acme = [client.get_access_token_async("acme") for _ in range(20)]
        other = [client.get_company_access_token_async("other") for _ in range(5)]
        got = await asyncio.gather(*acme, *other)
        return got, time.monotonic() - t

    got, wall = asyncio.run(main())
    assert len({g["accessToken"] for g in got}) == 25
    acme_times = [r.time for r in server.requests if r.company_id == "acme"]
    other_times = [r.time for r in server.requests if r.company_id == "other"]
    assert len(acme_times) == 20
    assert max_overlap(acme_times, 0.3) == 10  # never more than 10 of acme's in flight, but 10 at once
    assert max(acme_times) - min(acme_times) >= 0.28  # the second ten waited for the first
    assert 0.55 <= wall < 1.5, wall
    assert max(other_times) - min(other_times) < 0.1  # another company is not held back by acme's queue
    assert_company_slots_all_free(client, server, "acme")
    assert_company_slots_all_free(client, server, "other")


def test_async_limit_across_endpoints_and_loops(client, server):
    server.script("acme", *[Reply(delay_s=0.3)] * 24)

    def loop_body(i):
        async def main():
            fetch = client.get_company_access_token_async if i % 2 else client.get_access_token_async
            return await asyncio.gather(*[fetch("acme") for _ in range(8)])
        return asyncio.run(main())

    out = []
    threads = [threading.Thread(target=lambda i=i: out.append(loop_body(i))) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sum(len(o) for o in out) == 24
    assert max_overlap([r.time for r in server.requests], 0.3) <= 10
    assert_company_slots_all_free(client, server, "acme")


def test_cancelled_queued_calls_free_their_place(client, server):
    server.script("acme", *[Reply(delay_s=0.3)] * 10, *[Reply(delay_s=0.2)] * 10)

    async def main():
        tasks = [asyncio.ensure_future(client.get_access_token_async("acme")) for _ in range(20)]
        await asyncio.sleep(0.1)
        for task in tasks[12:]:  # queued, not yet sent
            task.cancel()
        tasks[2].cancel()  # in flight: aborted, its slot goes to the next in the queue
        res = await asyncio.gather(*tasks, return_exceptions=True)
        assert sum(isinstance(r, asyncio.CancelledError) for r in res) == 9
        # the slots are clean: ten at once again
        t = time.monotonic()
        await asyncio.gather(*[client.get_access_token_async("acme") for _ in range(10)])
        return time.monotonic() - t

    assert asyncio.run(main()) < 0.3
    assert_company_slots_all_free(client, server, "acme")


def test_cached_async_is_one_request_per_company(server):
    server.script("acme", Reply(delay_s=0.2))
    with codat.Client(auth_header=AUTH, server_url=server.url, cache=True) as c:
        async def main():
            return await asyncio.gather(*[c.get_access_token_async("acme") for _ in range(100)])
        assert len({g["accessToken"] for g in asyncio.run(main())}) == 1
    assert server.request_count() == 1


# ------------------------------------------------------------------ per-company limit, threads and batches


def test_threads_are_held_to_ten_per_company(client, server):
    server.script("acme", *[Reply(delay_s=0.3)] * 25)
    server.script("other", *[Reply(delay_s=0.3)] * 5)
    got = []

    def call(cid):
        got.append(client.get_access_token(cid)["accessToken"])

    t = time.monotonic()
    threads = [threading.Thread(target=call, args=("acme",)) for _ in range(25)]
    threads += [threading.Thread(target=call, args=("other",)) for _ in range(5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t
    assert len(set(got)) == 30
    acme_times = [r.time for r in server.requests if r.company_id == "acme"]
    other_times = [r.time for r in server.requests if r.company_id == "other"]
    assert max_overlap(acme_times, 0.3) == 10  # ten at once, never eleven
    assert 0.85 <= wall < 1.8, wall  # three waves of 0.3 s: 10 + 10 + 5
    assert max(other_times) - min(other_times) < 0.1  # another company is not held back


def test_the_limit_spans_threads_batches_and_async_calls(client, server):
    server.script("acme", *[Reply(delay_s=0.3)] * 30)
    done = []

    def sync_calls():
        done.append(client.get_access_token("acme"))

    def batch():
        out = client.get_access_tokens(["acme", "b1", "b2"], threads=1)
        done.extend(out.values())

    async def async_calls():
        done.extend(await asyncio.gather(*(client.get_access_token_async("acme") for _ in range(8))))

    workers = [threading.Thread(target=sync_calls) for _ in range(8)]
    workers += [threading.Thread(target=batch) for _ in range(3)]
    workers.append(threading.Thread(target=asyncio.run, args=(async_calls(),)))
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(done) == 8 + 9 + 8 and all(isinstance(v, dict) for v in done), done
    acme_times = [r.time for r in server.requests if r.company_id == "acme"]
    assert len(acme_times) == 19
    assert max_overlap(acme_times, 0.3) == 10


def test_waiting_for_a_company_slot_is_interruptible(server):
    server.script("acme", *[Reply(delay_s=2.0)] * 10)
    with codat.Client(auth_header=AUTH, server_url=server.url) as c:
        holders = [threading.Thread(target=c.get_access_token, args=("acme",)) for _ in range(10)]
        for h in holders:
            h.start()
        deadline = time.monotonic() + 2
        while server.request_count("acme") < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.request_count("acme") == 10
        assert_prompt_interrupt(lambda: c.get_access_token("acme"), delay=0.2)  # the 11th waits, then Ctrl-C
        assert server.request_count("acme") == 10  # it never went out
        assert c.get_access_token("other")["accessToken"]  # others were never held up
        for h in holders:
            h.join()
        assert c.get_access_token("acme")["accessToken"]  # the slots all came back


def test_a_subclass_may_lower_the_limit(server):
    class Gentle(codat.Client):
        company_concurrency_limit = 2

    server.script("acme", *[Reply(delay_s=0.2)] * 6)
    with Gentle(auth_header=AUTH, server_url=server.url) as c:
        ths = [threading.Thread(target=c.get_access_token, args=("acme",)) for _ in range(6)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
    assert max_overlap([r.time for r in server.requests if r.company_id == "acme"], 0.2) == 2

    class Wrong(codat.Client):
        company_concurrency_limit = 0

    with pytest.raises(ValueError, match="company_concurrency_limit"):
        Wrong(auth_header=AUTH, server_url=server.url)
