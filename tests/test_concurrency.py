"""The GIL is released during calls; one client serves many threads; forks never reuse the parent's
connections."""
import os
import sys
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply
from conftest import AUTH


def test_threads_share_a_client_against_a_slow_endpoint(client, server):
    # 8 threads x 3 calls, each answer delayed 200 ms: serial would take 4.8 s.
    server.script_default(*[Reply(delay_s=0.2)] * 24)
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append(client.get_access_token("slow")["accessToken"])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    t = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t
    assert not errors
    assert len(set(results)) == 24
    assert wall < 1.5, wall  # ~0.6 s when the calls overlap


def test_python_keeps_running_during_a_call(client, server):
    # A pure-Python counter thread makes progress while the main thread waits on a silent server.
    server.script("c1", Reply(delay_s=0.5))
    stop = threading.Event()
    count = [0]

    def spin():
        while not stop.is_set():
            count[0] += 1

    th = threading.Thread(target=spin)
    th.start()
    try:
        client.get_access_token("c1")
    finally:
        stop.set()
        th.join()
    assert count[0] > 100_000  # the GIL was free for most of the 0.5 s


def test_many_threads_many_calls_no_errors(client, server):
    n_threads, per_thread = 8, 250
    errors = []

    def work():
        try:
            for i in range(per_thread):
                assert client.get_access_token(f"c{i % 7}")["accessToken"]
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert server.request_count() == n_threads * per_thread
    # Each thread that ran at once needed its own connection; no more than one per thread.
    assert server.connections_opened <= n_threads


def test_close_while_other_threads_call(server):
    c = codat.Client(auth_header=AUTH, server_url=server.url)
    server.script_default(*[Reply(delay_s=0.2)] * 4)
    outcomes = []

    def work():
        try:
            outcomes.append(c.get_access_token("x")["accessToken"])
        except ValueError as e:
            outcomes.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    time.sleep(0.05)
    c.close()  # the calls in flight finish; new ones are refused
    for th in threads:
        th.join()
    assert all(isinstance(o, str) for o in outcomes), outcomes
    with pytest.raises(ValueError, match="closed"):
        c.get_access_token("x")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_uses_fresh_connections(client, server):
    client.get_access_token("parent")
    assert server.connections_opened == 1
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's kept connection
        code = 1
        try:
            tok = client.get_access_token("child")["accessToken"]
            os.write(w, tok.encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    child_token = os.read(r, 1000).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_token == server.tokens_issued[-1]
    child_reqs = [q for q in server.requests if q.company_id == "child"]
    parent_reqs = [q for q in server.requests if q.company_id == "parent"]
    assert child_reqs[0].connection_id != parent_reqs[0].connection_id
    # and the parent still works on its own connection
    client.get_access_token("parent")
    assert server.requests[-1].connection_id == parent_reqs[0].connection_id


def test_fork_during_calls_in_other_threads(server):
    # Threads keep calling while the main thread forks; the child makes its own call and exits cleanly.
    c = codat.Client(auth_header=AUTH, server_url=server.url)
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            c.get_access_token("bg")

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for th in threads:
        th.start()
    try:
        time.sleep(0.05)
        codes = []
        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    c.get_access_token("forked")
                    code = 0
                finally:
                    os._exit(code)
            _, status = os.waitpid(pid, 0)
            codes.append(os.waitstatus_to_exitcode(status))
    finally:
        stop.set()
        for th in threads:
            th.join()
    c.close()
    assert codes == [0, 0, 0]
    assert server.request_count("forked") == 3
