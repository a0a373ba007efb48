"""asyncio: many awaits on one client, one I/O thread, cancellation that frees the transfer."""
import asyncio
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH


def run(coro):
    return asyncio.run(coro)


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
    threads_before = threading.active_count()
    results = run(main())
    assert len({r["accessToken"] for r in results}) == 1000
    assert server.request_count() == 1000
    # One I/O thread for the client, not one per call; connections kept alive and reused.
    assert threading.active_count() <= threads_before + 1
    assert server.connections_opened <= codat.DEFAULT_CONCURRENCY  # the I/O thread's in-flight limit


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
        c.close()  # stops the I/O thread; the pending call ends as one made after close() would
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
    for _ in range(3):  # a fresh event loop each time, the same client and I/O thread
        assert run(client.get_access_token_async("x"))["accessToken"]
        assert client.get_access_token("y")["accessToken"]
