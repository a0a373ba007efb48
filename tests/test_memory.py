"""No growth over many calls: RSS flat, refcounts stable, on success and on every error path."""
import gc
import sys

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer
from conftest import AUTH


@pytest.fixture(autouse=True)
def discard_logs():
    # The logging path stays on (DEBUG, to a handler that drops records) so that it is checked for leaks
    # too. (pytest's own log capture is off for the suite: it would keep every record.)
    import logging
    logger = logging.getLogger("codat_platform_c")
    saved = logger.level, logger.propagate
    handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield
    logger.removeHandler(handler)
    logger.setLevel(saved[0])
    logger.propagate = saved[1]


def rss_kib():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import resource
    return pages * resource.getpagesize() // 1024


def test_20000_calls_without_rss_growth(server):
    # The stand-in lives in this process and records every request; drop its records every 1000 calls so
    # that only the client's memory is measured.
    with codat.Client(auth_header=AUTH, server_url=server.url) as c:
        def calls(n):
            for i in range(n):
                c.get_access_token("m")
                if i % 1000 == 999:
                    server.reset()
            server.reset()
            gc.collect()
        calls(3000)  # warm up: pools, allocator arenas, the server's buffers
        before_rss, before_blocks = rss_kib(), sys.getallocatedblocks()
        calls(20000)
        growth, blocks = rss_kib() - before_rss, sys.getallocatedblocks() - before_blocks
    assert blocks < 200, f"{blocks} Python blocks kept over 20,000 calls"
    assert growth < 1024, f"RSS grew {growth} KiB over 20,000 calls"


def test_refcounts_stable_on_success(client):
    token_id = "refcount-company"
    client.get_access_token(token_id)
    before = sys.getrefcount(token_id), sys.getrefcount(client)
    for _ in range(1000):
        client.get_access_token(token_id)
    assert (sys.getrefcount(token_id), sys.getrefcount(client)) == before


@pytest.mark.parametrize("reply", [
    Reply(status=404),
    Reply(status=429, headers={"Retry-After": "1"}),
    Reply(status=418, body="teapot"),
    Reply(status=200, body="[1]", content_type="application/json"),
    Reply(status=302, headers={"Location": "/x"}),
    Reply(action="drop"),
])
def test_no_python_memory_growth_on_error_paths(reply):
    # Its own stand-in with a large quota, so that every answer carries fresh header values; the server's
    # records are dropped (reset) before each count, leaving only what the client might keep.
    with StandInServer(rate_limit=10**9) as server, \
            codat.Client(server_url=server.url, retries=None) as c:
        def rounds(n):
            for _ in range(n):
                server.script("e", reply)
                try:
                    c.get_access_token("e")
                except codat.CodatError:
                    pass
            server.reset()
            gc.collect()
            return sys.getallocatedblocks()

        rounds(300)
        before = rounds(1000)
        after = rounds(3000)
    assert after - before < 100, f"{after - before} blocks kept over 3000 failed calls"


def test_no_growth_on_bad_input_paths(client):
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(2000):
        for bad in ("", None, "a\0b"):
            try:
                client.get_access_token(bad)
            except (TypeError, ValueError):
                pass
        try:
            client.get_access_token("x", http_headers={"A": "b\r\n"})
        except ValueError:
            pass
        try:
            client.get_access_token("x", retries="bad")
        except TypeError:
            pass
    gc.collect()
    assert len(gc.get_objects()) - before < 100


def test_clients_created_and_dropped_do_not_leak(server):
    def cycle():
        c = codat.Client(auth_header=AUTH, server_url=server.url)
        c.get_access_token("x")
        c.close()
    for _ in range(50):
        cycle()
    gc.collect()
    before = rss_kib()
    for _ in range(500):
        cycle()
    gc.collect()
    # each cycle also leaves one ~1 KiB request record in the in-process stand-in
    assert rss_kib() - before < 2048
