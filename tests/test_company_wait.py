"""A request over its company's limit waits in that company's first-come-first-served list and is woken
when a slot frees: it does not poll (csrc/core/slots.c, sched.c)."""
import asyncio
import collections
import os
import sys
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def wakeups(tid):
    """How many times the thread went to sleep and was woken (voluntary context switches)."""
    with open(f"/proc/self/task/{tid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches")


def test_waiters_are_served_in_the_order_they_came(server):
    # One slot for the company: the first call holds it 0.5 s; four more arrive 60 ms apart and wait. Each
    # is sent only when the one before it ends, in the order they asked, whichever thread polls when.
    server.script("busy", Reply(delay_s=0.5), *[Reply(delay_s=0.05)] * 4)
    names = ["A", "B", "C", "D", "E"]
    errors = []
    with codat.Client(AUTH, server_url=server.url, company_concurrency_limit=1) as client:
        def call(name):
            try:
                client.get_access_token("busy", http_headers={"X-Order": name})
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = []
        for i, name in enumerate(names):
            th = threading.Thread(target=call, args=(name,))
            th.start()
            threads.append(th)
            time.sleep(0.1 if i == 0 else 0.06)
        for th in threads:
            th.join()
    assert not errors
    arrived = [r.headers["x-order"] for r in sorted(server.requests, key=lambda r: r.time)]
    assert arrived == names


@linux_only
def test_a_blocking_call_waiting_for_a_slot_does_not_poll(server):
    # While a call waits a second for its company's only slot, its thread wakes for the Ctrl-C check
    # (every 50 ms: about 20 times), not every few milliseconds to look at the slot again.
    server.script("busy", Reply(delay_s=1.2), Reply())
    with codat.Client(AUTH, server_url=server.url, company_concurrency_limit=1) as client:
        holder = threading.Thread(target=client.get_access_token, args=("busy",))
        holder.start()
        time.sleep(0.15)  # the holder's request is in flight
        seen = {}

        def waiter():
            tid = threading.get_native_id()
            before = wakeups(tid)
            t = time.monotonic()
            client.get_access_token("busy")
            seen["wait"] = time.monotonic() - t
            seen["wakeups"] = wakeups(tid) - before

        th = threading.Thread(target=waiter)
        th.start()
        th.join()
        holder.join()
    assert seen["wait"] > 0.8, seen
    per_second = seen["wakeups"] / seen["wait"]
    assert per_second < 60, seen  # a 5 ms re-check alone would be 200 a second


@linux_only
@pytest.mark.parametrize("holder", ["await", "thread"])
def test_an_await_waiting_for_a_slot_does_not_poll(server, holder):
    # The same for awaits, which the event loop's own thread drives (no thread of ours): that thread sleeps
    # while an await waits a second for its company's only slot, and is woken as soon as the slot frees. The
    # slot comes back on the loop's thread (holder "await": its own driver sees it), or on another thread
    # (holder "thread": a blocking call), whose grant can reach the loop only through the driver's eventfd.
    server.script("busy", Reply(delay_s=1.2), Reply())

    async def main(client):
        loop = asyncio.get_running_loop()
        if holder == "await":
            first = asyncio.ensure_future(client.get_access_token_async("busy"))
        else:
            first = loop.run_in_executor(None, client.get_access_token, "busy")
        await asyncio.sleep(0.15)  # the holder's request is in flight
        tid = threading.get_native_id()
        before = wakeups(tid)
        t = time.monotonic()
        await asyncio.wait_for(client.get_access_token_async("busy"), 5)
        wait = time.monotonic() - t
        woke = wakeups(tid) - before
        await first
        return wait, woke

    with codat.Client(AUTH, server_url=server.url, company_concurrency_limit=1) as client:
        wait, woke = asyncio.run(main(client))
    assert 0.8 < wait < 2.0, wait  # woken when the slot freed (a lost wake would time out after 5 s)
    assert woke / wait < 60, (woke, wait)  # a 5 ms re-check alone would be 200 a second


def test_awaits_one_after_another_keep_one_watch_then_drop_it(server):
    # The driver's sockets, timer and wake descriptor sit in one epoll set of the core's, which the loop
    # watches as one reader: a watch per socket and a TimerHandle per timer re-arm cost an
    # add_reader/remove_reader pair and more per await (about half of an await's extra cost, callgrind).
    # A slot wait is woken through the same set.
    asked = collections.Counter()

    class CountingLoop(asyncio.SelectorEventLoop):
        def add_reader(self, fd, callback, *args):
            asked["add_reader"] += 1
            return super().add_reader(fd, callback, *args)

        def remove_reader(self, fd):
            asked["remove_reader"] += 1
            return super().remove_reader(fd)

        def add_writer(self, fd, callback, *args):
            asked["add_writer"] += 1
            return super().add_writer(fd, callback, *args)

        def call_later(self, delay, callback, *args, **kw):
            asked["call_later"] += 1
            return super().call_later(delay, callback, *args, **kw)

    server.script("busy", Reply(delay_s=0.3), Reply())

    async def main(client):
        for i in range(20):
            await client.get_company_access_token_async(f"free-{i}")
        first = asyncio.ensure_future(client.get_company_access_token_async("busy"))
        await asyncio.sleep(0.1)
        asked["call_later"] -= 1  # that sleep's
        await client.get_company_access_token_async("busy")  # waits for the only slot, woken when it frees
        await first
        during = dict(asked)
        await asyncio.sleep(1.5)  # an idle client keeps nothing registered in the loop
        return during

    loop = CountingLoop()
    try:
        with codat.Client(AUTH, server_url=server.url, company_concurrency_limit=1) as client:
            during = loop.run_until_complete(main(client))
    finally:
        loop.close()
    assert during == {"add_reader": 1, "call_later": 0}, during
    assert asked["remove_reader"] == 1, asked
