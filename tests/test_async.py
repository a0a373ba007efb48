"""asyncio: many awaits on one client, driven by the running event loop itself (no thread of ours),
cancellation that frees the transfer. Every test runs under asyncio's own loop and under uvloop."""
import asyncio
import os
import threading
import time

import pytest
import uvloop

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH

_run = asyncio.run


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def loop_kind(request):
    """run() below uses this kind of event loop for the test."""
    global _run
    _run = asyncio.run if request.param == "asyncio" else uvloop.run
    yield request.param
    _run = asyncio.run


def run(coro):
    return _run(coro)


def new_loop():
    return uvloop.new_event_loop() if _run is uvloop.run else asyncio.new_event_loop()


def test_single_await(client, server):
    async def main():
        a = await client.get_access_token_async("x")
        b = await client.get_company_access_token_async("y")
        return a, b
    a, b = run(main())
    assert a == {"accessToken": server.tokens_issued[-2]}
    assert b["tokenType"] == "Bearer" and b["accessToken"] == server.tokens_issued[-1]


def test_1000_concurrent_awaits(client, server):
    async def main():
        return await asyncio.gather(*[client.get_access_token_async(f"c{i}") for i in range(1000)])
    threads_before = len(os.listdir("/proc/self/task"))
    results = run(main())
    assert len({r["accessToken"] for r in results}) == 1000
    assert server.request_count() == 1000
    # No thread at all: the event loop drives libcurl; connections kept alive and reused.
    assert len(os.listdir("/proc/self/task")) <= threads_before
    assert server.connections_opened <= codat.DEFAULT_CONCURRENCY  # a loop's in-flight limit


def test_async_errors_are_raised(client, server):
    server.script("e", Reply(status=404))

    async def main():
        with pytest.raises(codat.ErrorMessage) as info:
            await client.get_access_token_async("e", retries=None)
        assert info.value.status_code == 404
        with pytest.raises(ValueError):
            await client.get_access_token_async("")
        with pytest.raises(TypeError):
            await client.get_access_token_async(5)
    run(main())


def test_async_runs_concurrently(client, server):
    server.script_default(*[Reply(delay_s=0.3)] * 20)

    async def main():
        t = time.monotonic()
        await asyncio.gather(*[client.get_access_token_async("slow") for _ in range(20)])
        return time.monotonic() - t
    assert run(main()) < 1.0


def test_async_retries(client, server):
    server.script("r", Reply(status=503), Reply(status=503))

    async def main():
        return await client.get_access_token_async("r")
    assert run(main())["accessToken"]
    assert server.request_count("r") == 3


def test_event_loop_not_blocked(client, server):
    server.script("s", Reply(delay_s=0.4))
    ticks = []

    async def ticker():
        for _ in range(6):
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    async def main():
        await asyncio.gather(client.get_access_token_async("s"), ticker())
    run(main())
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < 0.15, gaps


def test_cancel_aborts_the_transfer(client, server):
    server.script("silent", Reply(action="silence"))

    async def main():
        task = asyncio.ensure_future(client.get_access_token_async("silent"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the client is still usable, and the aborted transfer left no stuck slot
        return await asyncio.wait_for(client.get_access_token_async("after"), 5)
    assert run(main())["accessToken"]


def test_wait_for_timeout_cancels(client, server):
    server.script("silent", Reply(action="silence"))

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.get_access_token_async("silent"), 0.2)
    run(main())
    assert client.get_access_token("ok")["accessToken"]


def test_many_cancellations(client, server):
    for i in range(100):
        server.script(f"s{i}", Reply(action="silence"))

    async def main():
        tasks = [asyncio.ensure_future(client.get_access_token_async(f"s{i}")) for i in range(100)]
        await asyncio.sleep(0.2)
        for t in tasks:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        return await asyncio.gather(*[client.get_access_token_async(f"ok{i}") for i in range(50)])
    assert len(run(main())) == 50


def test_close_with_pending_async_calls(server):
    c = codat.Client(auth_header=AUTH, server_url=server.url)
    server.script("silent", Reply(action="silence"))

    async def main():
        task = asyncio.ensure_future(c.get_access_token_async("silent"))
        await asyncio.sleep(0.1)
        c.close()  # the pending call ends as one made after close() would
        with pytest.raises(ValueError, match="closed"):
            await asyncio.wait_for(task, 5)
    run(main())


def test_async_on_closed_client(server):
    c = codat.Client(auth_header=AUTH, server_url=server.url)
    c.close()

    async def main():
        with pytest.raises(ValueError, match="closed"):
            await c.get_access_token_async("x")
    run(main())


def test_async_and_sync_mixed_across_loops(client, server):
    for _ in range(3):  # a fresh event loop each time (and a driver for it), the same client
        assert run(client.get_access_token_async("x"))["accessToken"]
        assert client.get_access_token("y")["accessToken"]


# -- the one per-company limit (issue 13): the core's, fixed when the client is made

def test_company_limit_is_fixed_and_awaits_wait_like_threads(server):
    # Lowering the limit after construction used to reach only the Python limiter of async calls: 4 awaits
    # to one slow company took 0.81 s while 4 threads took 0.20 s. Now there is one limit, the core's.
    with codat.Client(auth_header=AUTH, server_url=server.url, company_concurrency_limit=1) as c:
        with pytest.raises(AttributeError, match="fixed when the client is made"):
            c.company_concurrency_limit = 10
        with pytest.raises(AttributeError, match="fixed when the client is made"):
            del c.company_concurrency_limit
        assert c.company_concurrency_limit == 1
        server.script_default(*[Reply(delay_s=0.1)] * 8)

        async def four_awaits():
            t = time.monotonic()
            await asyncio.gather(*[c.get_company_access_token_async("slow") for _ in range(4)])
            return time.monotonic() - t

        def four_threads():
            t = time.monotonic()
            ths = [threading.Thread(target=c.get_company_access_token, args=("slow",)) for _ in range(4)]
            for th in ths:
                th.start()
            for th in ths:
                th.join(10)
            return time.monotonic() - t

        awaited, threaded = run(four_awaits()), four_threads()
        # one at a time both ways: 4 x 0.1 s, never 4 at once (0.1 s) nor queued twice over
        assert 0.38 < awaited < 0.75 and 0.38 < threaded < 0.75, (awaited, threaded)
        assert abs(awaited - threaded) < 0.2, (awaited, threaded)


def test_sequential_awaits_reuse_one_connection(client, server):
    async def main():
        return [await client.get_company_access_token_async(f"c{i}") for i in range(20)]
    assert len({r["accessToken"] for r in run(main())}) == 20
    assert server.connections_opened == 1


def test_several_loops_in_several_threads_share_one_client(client, server):
    server.script_default(*[Reply(delay_s=0.05)] * 200)
    results, errors = [], []

    def one_loop(n):
        async def main():
            return await asyncio.gather(*[client.get_company_access_token_async(f"t{n}-{i % 7}")
                                          for i in range(40)])
        try:
            results.extend(run(main()))
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=one_loop, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors, errors[:3]
    assert len({r["accessToken"] for r in results}) == 160


def test_a_loop_closed_with_calls_in_flight_gives_their_slots_back(server):
    # A loop closed while its calls still wait can never run them again: the next loop's driver ends them,
    # so the company's slot (limit 1 here) is not held forever.
    server.script("acme", Reply(action="silence"))
    with codat.Client(auth_header=AUTH, server_url=server.url, company_concurrency_limit=1) as c:
        loop = new_loop()
        task = loop.create_task(c.get_company_access_token_async("acme"))
        loop.run_until_complete(asyncio.sleep(0.1))  # the request is out and holds acme's only slot
        loop.close()
        assert not task.done()
        assert run(asyncio.wait_for(c.get_company_access_token_async("acme"), 5))["accessToken"]


def test_forked_child_awaits_on_its_own(client, server):
    assert run(client.get_company_access_token_async("parent"))["accessToken"]  # the parent has a driver
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if asyncio.run(client.get_company_access_token_async("child"))["accessToken"] else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert run(client.get_company_access_token_async("parent-again"))["accessToken"]


def test_company_slot_waits_on_a_loop_do_not_block_others(server):
    # 3 awaits for a company limited to 1 wait their turn while another company's awaits go straight out.
    server.script("busy", *[Reply(delay_s=0.2)] * 3)
    with codat.Client(auth_header=AUTH, server_url=server.url, company_concurrency_limit=1) as c:
        async def main():
            t = time.monotonic()
            busy = asyncio.gather(*[c.get_company_access_token_async("busy") for _ in range(3)])
            other = await asyncio.gather(*[c.get_company_access_token_async("free") for _ in range(3)])
            other_s = time.monotonic() - t
            await busy
            return other_s, time.monotonic() - t
        other_s, all_s = run(main())
        assert other_s < 0.15 and 0.55 < all_s < 1.2, (other_s, all_s)


def test_close_from_another_thread_ends_the_awaits_on_their_loop(server):
    server.script("silent", *[Reply(action="silence")] * 3)
    c = codat.Client(auth_header=AUTH, server_url=server.url)
    started, outcome = threading.Event(), []

    def loop_thread():
        async def main():
            calls = [asyncio.ensure_future(c.get_company_access_token_async("silent")) for _ in range(3)]
            await asyncio.sleep(0.05)
            started.set()
            for call in calls:
                try:
                    await asyncio.wait_for(call, 5)
                except ValueError as e:
                    outcome.append((str(e), threading.get_ident()))
        run(main())

    th = threading.Thread(target=loop_thread)
    th.start()
    assert started.wait(10)
    c.close()
    th.join(10)
    assert not th.is_alive()
    assert len(outcome) == 3 and all("closed" in msg and ident == th.ident for msg, ident in outcome), outcome


CTRL_C_UNDER_LOOP = """
import asyncio, os, signal, sys, threading
import uvloop
import codat_platform_c as codat
url, kind = sys.argv[1], sys.argv[2]
c = codat.Client(auth_header="Basic QVBJX0tFWQ==", server_url=url)

async def main():
    await asyncio.gather(*[c.get_company_access_token_async("silence") for _ in range(5)])
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    (uvloop.run if kind == "uvloop" else asyncio.run)(main())
    print("not interrupted")
except KeyboardInterrupt:
    # the cancelled awaits aborted their transfers: the client works on a fresh loop at once
    print("interrupted", asyncio.run(c.get_company_access_token_async("after"))["tokenType"])
"""


def test_ctrl_c_ends_asyncio_run_and_the_client_stays_usable(server, loop_kind):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", CTRL_C_UNDER_LOOP, server.url, loop_kind], capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.split() == ["interrupted", "Bearer"], (proc.stdout, proc.stderr[-2000:])


def test_bursts_of_awaits_keep_their_connections(client, server):
    # libcurl's default connection cache (4 per easy handle still added) closed connections as a burst of
    # awaits drained, so the next burst had to open them again; the driver keeps as many as may be in flight.
    async def burst(tag):
        await asyncio.gather(*[client.get_company_access_token_async(f"{tag}{i}") for i in range(300)])

    async def main():
        await burst("a")
        opened = server.connections_opened
        await burst("b")
        await burst("c")
        return opened, server.connections_opened
    first, after = run(main())
    assert first <= codat.DEFAULT_CONCURRENCY and after == first, (first, after)


def test_a_loop_that_refuses_to_watch_ends_the_calls_with_an_error(server, loop_kind):
    if loop_kind != "asyncio":
        pytest.skip("the loop subclassed here is asyncio's")
    server.script("silent", Reply(action="silence"))

    class Refusing(asyncio.SelectorEventLoop):
        def add_reader(self, fd, callback, *args):
            raise OSError("this loop watches nothing")

    c = codat.Client(auth_header=AUTH, server_url=server.url)
    loop = Refusing()
    try:
        with pytest.raises(codat.TransportError, match="refused to watch"):
            loop.run_until_complete(asyncio.wait_for(c.get_company_access_token_async("silent"), 5))
    finally:
        loop.close()
    assert run(c.get_company_access_token_async("after"))["accessToken"]  # its slot came back
    c.close()
