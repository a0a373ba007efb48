"""Life cycle races: a client dropped, closed or collected while calls are in flight, from any thread,
including the client's own I/O thread. Every await ends (a result, or ValueError once closed), nothing
is freed while in use, and nothing is kept once unused."""
import asyncio
import gc
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH

HERE = os.path.dirname(os.path.abspath(__file__))


def os_threads():
    return len(os.listdir("/proc/self/task"))


def wait_until(predicate, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def run_child(code, *args, timeout_s=240, leaks_expected=False):
    """Runs code in a fresh interpreter (a crash must not take pytest down); returns its stdout.
    leaks_expected: the child exits with calls in flight on daemon threads, whose memory is never freed,
    by design: LeakSanitizer (scripts/sanitize.sh) is told not to count it; ASan errors still count."""
    env = dict(os.environ)
    if leaks_expected and "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=timeout_s, cwd=HERE, env=env)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}"
    return proc.stdout


# -- 1. the last reference to a client dropped on its own I/O thread

DROP_CUT_SHORT = """
import asyncio, gc, os, sys, time, weakref
import codat_platform_c as codat
url, variant, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
refs = []

def settled(threads_before):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (any(r() is not None for r in refs)
                                           or len(os.listdir("/proc/self/task")) > threads_before):
        time.sleep(0.01)

async def one():
    c = codat.Client(auth_header="Basic QVBJX0tFWQ==", server_url=url)
    refs.append(weakref.ref(c))
    call = c.get_access_token_async("silence")  # the stand-in never answers it
    del c  # from here only the call in flight holds the client
    if variant == "wait_for":
        try:
            await asyncio.wait_for(call, 0.05)
        except asyncio.TimeoutError:
            pass
    else:
        task = asyncio.ensure_future(call)
        await asyncio.sleep(0.02)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

async def main():
    for _ in range(rounds):
        await one()

asyncio.run(one())  # warm-up: threads a sanitizer's runtime starts on first use are counted in the baseline
settled(1 << 30)
time.sleep(1)  # the warm-up's I/O thread ends
threads_before = len(os.listdir("/proc/self/task"))
asyncio.run(main())
settled(threads_before)
print("alive", sum(r() is not None for r in refs), "extra_threads",
      len(os.listdir("/proc/self/task")) - threads_before)
"""


@pytest.mark.parametrize("variant", ["wait_for", "cancel"])
def test_client_dropped_after_an_async_call_is_cut_short(server, variant):
    # The cancelled call's completion drops the last reference on the client's I/O thread: the client
    # must be freed by that thread once it has ended, not under it (this crashed nearly every round).
    out = run_child(DROP_CUT_SHORT, server.url, variant, "100")
    assert out.split() == ["alive", "0", "extra_threads", "0"], out


SEVERAL_THREADS_DROP = """
import asyncio, os, sys, threading, time, weakref
import codat_platform_c as codat
url, rounds = sys.argv[1], int(sys.argv[2])
refs = []
for _ in range(rounds):
    c = codat.Client(auth_header="Basic QVBJX0tFWQ==", server_url=url)
    refs.append(weakref.ref(c))
    go = threading.Barrier(5)

    def async_user(client):
        go.wait()
        async def cut_short():
            try:
                await asyncio.wait_for(client.get_access_token_async("silence"), 0.03)
            except asyncio.TimeoutError:
                pass
        asyncio.run(cut_short())

    def sync_user(client):
        go.wait()
        client.get_access_token("slow-30")

    threads = [threading.Thread(target=async_user, args=(c,)) for _ in range(3)]
    threads.append(threading.Thread(target=sync_user, args=(c,)))
    del c  # from here only the threads (and their calls) hold the client
    for th in threads:
        th.start()
    go.wait()
    del th
    threads.clear()  # the threads keep running: whichever holds the last reference drops it
deadline = time.monotonic() + 30
while any(r() is not None for r in refs) and time.monotonic() < deadline:
    time.sleep(0.01)
print("alive", sum(r() is not None for r in refs))
"""


def test_client_shared_by_several_threads_dropped_with_calls_in_flight(server):
    out = run_child(SEVERAL_THREADS_DROP, server.url, "40")
    assert out.split() == ["alive", "0"], out


# -- 2. close() on one thread while another thread's event loop keeps awaiting

def test_close_from_another_thread_ends_every_await(server):
    server.script_default(*[Reply(delay_s=0.002)] * 100000)
    rounds = 12
    for round_no in range(rounds):
        c = codat.Client(auth_header=AUTH, server_url=server.url)
        ref = weakref.ref(c)
        outcomes = []
        first_wave = threading.Event()
        failures = []

        async def one(i):
            try:
                return await c.get_access_token_async(f"co{i % 40}")
            except ValueError as e:
                return e

        async def keep_calling():
            while True:
                try:
                    wave = await asyncio.wait_for(asyncio.gather(*[one(i) for i in range(40)],
                                                                 return_exceptions=True), 10)
                except asyncio.TimeoutError:
                    failures.append("an await never ended")
                    return
                outcomes.extend(wave)
                first_wave.set()
                if any(isinstance(r, ValueError) for r in wave):
                    return

        th = threading.Thread(target=lambda: asyncio.run(keep_calling()))
        th.start()
        assert first_wave.wait(30)
        time.sleep(0.001 * (round_no % 5))
        c.close()
        th.join(60)
        assert not th.is_alive()
        assert not failures, failures
        bad = [r for r in outcomes if not (isinstance(r, dict) or
                                           (isinstance(r, ValueError) and "closed" in str(r)))]
        assert not bad, bad[:3]
        assert any(isinstance(r, ValueError) for r in outcomes)
        del c, outcomes, bad
        gc.collect()
        assert wait_until(lambda: ref() is None), "a stranded call still holds the client"


def test_submissions_racing_close_are_all_completed_or_refused(server):
    # Threads submit as fast as they can while another closes: each submission is either refused with
    # ValueError or completed exactly once (nothing stranded between the I/O thread's last look and close).
    for _ in range(6):
        c = codat.Client(auth_header=AUTH, server_url=server.url)
        lock = threading.Lock()
        completions = {}
        accepted, refused, other = [], [], []
        go = threading.Barrier(5)

        def submitter(n):
            go.wait()
            for i in range(100000):
                key = (n, i)

                def done(value, is_error, key=key):
                    with lock:
                        completions[key] = completions.get(key, 0) + 1
                try:
                    c._submit_async("connection_management", f"co{i % 20}", done)
                except ValueError as e:
                    refused.append(str(e))
                    return
                except Exception as e:  # noqa: BLE001 - collected for the assertion
                    other.append(e)
                    return
                accepted.append(key)

        threads = [threading.Thread(target=submitter, args=(n,)) for n in range(4)]
        for th in threads:
            th.start()
        go.wait()
        time.sleep(0.03)
        c.close()
        for th in threads:
            th.join(30)
        assert not other, other[:3]
        assert len(refused) == 4 and all("closed" in m for m in refused)
        assert wait_until(lambda: len(completions) == len(accepted), 10), \
            f"{len(accepted) - len(completions)} of {len(accepted)} calls never completed"
        assert set(completions.values()) <= {1}


def test_a_call_cut_short_by_close_raises_value_error(server):
    c = codat.Client(auth_header=AUTH, server_url=server.url)

    async def main():
        calls = [asyncio.ensure_future(c.get_access_token_async("silence")) for _ in range(5)]
        await asyncio.sleep(0.1)
        await asyncio.get_running_loop().run_in_executor(None, c.close)
        for call in calls:
            with pytest.raises(ValueError, match="closed"):
                await asyncio.wait_for(call, 5)
        with pytest.raises(ValueError, match="closed"):
            await c.get_access_token_async("x")
    asyncio.run(main())


def test_close_from_many_threads_at_once(server):
    # Every close() returns once the client is closed; the I/O thread is joined once, its engine freed once.
    for _ in range(20):
        c = codat.Client(auth_header=AUTH, server_url=server.url)

        async def start():
            return asyncio.ensure_future(c.get_access_token_async("silence"))

        loop = asyncio.new_event_loop()
        task = loop.run_until_complete(start())
        loop.run_until_complete(asyncio.sleep(0.01))
        go = threading.Barrier(4)
        closed_seen = []

        def closer():
            go.wait()
            c.close()
            closed_seen.append(c.closed)

        threads = [threading.Thread(target=closer) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        assert closed_seen == [True] * 4
        with pytest.raises(ValueError, match="closed"):
            loop.run_until_complete(asyncio.wait_for(task, 5))
        loop.close()


# -- the client closed or freed from its own I/O thread (code it calls back: a log handler, a finalizer)

class CloseOnRecord(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.client = None
        self.closed_on = []

    def emit(self, record):
        client, self.client = self.client, None
        if client is not None:
            client.close()  # on the I/O thread: it cannot join itself
            self.closed_on.append(threading.get_ident())


@pytest.fixture
def close_on_record():
    logger = logging.getLogger("codat_platform_c")
    handler = CloseOnRecord()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_close_from_the_io_thread(server, close_on_record):
    for _ in range(20):
        threads_before = os_threads()
        c = codat.Client(auth_header=AUTH, server_url=server.url)
        c._async_via_io_thread = True  # the core's I/O thread path (awaits are driven by the loop itself)
        close_on_record.client = c

        async def main():
            first = await c.get_access_token_async("x")  # its DEBUG line closes the client, on the I/O thread
            with pytest.raises(ValueError, match="closed"):
                await c.get_access_token_async("y")
            return first
        assert asyncio.run(main())["accessToken"]
        assert close_on_record.closed_on and close_on_record.closed_on[-1] != threading.get_ident()
        assert c.closed
        assert wait_until(lambda: os_threads() <= threads_before), "the I/O thread did not end"
        ref = weakref.ref(c)
        del c
        gc.collect()
        assert ref() is None


def test_close_from_code_the_loop_driver_calls(server, close_on_record):
    # The loop driver's counterpart: the DEBUG line is logged inside the driver's libcurl callback, on the
    # loop's thread; close() there must not free what the callback is using, the call that logged still
    # gets its answer, and the next await raises ValueError.
    for _ in range(20):
        c = codat.Client(auth_header=AUTH, server_url=server.url)
        close_on_record.client = c

        async def main():
            first = await c.get_access_token_async("x")
            with pytest.raises(ValueError, match="closed"):
                await c.get_access_token_async("y")
            return first
        assert asyncio.run(main())["accessToken"]
        assert close_on_record.closed_on[-1] == threading.get_ident()  # closed on the loop's own thread
        assert c.closed
        ref = weakref.ref(c)
        del c
        gc.collect()
        assert ref() is None


def test_freed_while_its_io_thread_still_ends(server, close_on_record):
    # Closed from the I/O thread (which then ends on its own), then freed at once from this thread: the
    # free must wait for, or leave the freeing to, the ending thread.
    for _ in range(30):
        c = codat.Client(auth_header=AUTH, server_url=server.url)
        close_on_record.client = c
        done = threading.Event()
        c._submit_async("connection_management", "x", lambda value, is_error: done.set())
        assert done.wait(10)
        del c
        gc.collect()


# -- Ctrl-C and interpreter exit with calls in flight

CTRL_C_ASYNC = """
import asyncio, os, signal, sys, threading, time, weakref
import codat_platform_c as codat
url = sys.argv[1]
refs = []
threads_before = None
for round_no in range(int(sys.argv[2]) + 1):
    if round_no == 1:  # after a warm-up round: threads a sanitizer's runtime starts count in the baseline
        deadline = time.monotonic() + 20
        while refs[0]() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(1)
        threads_before = len(os.listdir("/proc/self/task"))
    c = codat.Client(auth_header="Basic QVBJX0tFWQ==", server_url=url)
    refs.append(weakref.ref(c))

    async def main():
        await asyncio.gather(*[c.get_access_token_async(name) for name in ("silence", "slow-400", "x") * 5])
    threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        asyncio.run(main())
        raise SystemExit("not interrupted")
    except KeyboardInterrupt:
        pass
    del c  # the cancelled calls' completions drop the last references on the I/O thread
deadline = time.monotonic() + 20
while time.monotonic() < deadline and (any(r() is not None for r in refs)
                                       or len(os.listdir("/proc/self/task")) > threads_before):
    time.sleep(0.01)
print("alive", sum(r() is not None for r in refs), "extra_threads",
      len(os.listdir("/proc/self/task")) - threads_before)
"""


def test_ctrl_c_during_async_calls_then_the_client_dropped(server):
    out = run_child(CTRL_C_ASYNC, server.url, "20")
    assert out.split() == ["alive", "0", "extra_threads", "0"], out


EXIT_IN_FLIGHT = """
import asyncio, sys, threading, time
import codat_platform_c as codat
url = sys.argv[1]
c = codat.Client(auth_header="Basic QVBJX0tFWQ==", server_url=url)

def sync_caller():
    while True:
        try:
            c.get_access_token("slow-200")
        except Exception:
            pass

def async_caller():
    async def main():
        while True:
            await asyncio.gather(*[c.get_access_token_async("slow-300") for _ in range(5)], return_exceptions=True)
    asyncio.run(main())

for target in (sync_caller, sync_caller, async_caller):
    threading.Thread(target=target, daemon=True).start()
other = codat.Client(auth_header="Basic QVBJX0tFWQ==", server_url=url)
loop = asyncio.new_event_loop()
pending = loop.create_task(other.get_access_token_async("silence"))  # never answered, never awaited again
loop.run_until_complete(asyncio.sleep(0.05))
time.sleep(0.3)
print("exiting")
"""


def test_interpreter_exit_with_calls_in_flight(server):
    for _ in range(3):
        assert run_child(EXIT_IN_FLIGHT, server.url, timeout_s=60, leaks_expected=True).split() == ["exiting"]
