"""One concurrency default for batches and awaits (codat_platform_c.DEFAULT_CONCURRENCY, CODAT_DEFAULT_CONCURRENCY
in codat.h), and HTTP/2 over TLS, so that a batch at that default needs one connection, one TLS handshake, per
thread. Over a real network a client gets at most (requests in flight) / latency tokens per second, so these
numbers, not per-call speed, decide what a user gets (bench/latency_results.md)."""
import asyncio
import inspect

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer
from conftest import AUTH

DEFAULT = codat.DEFAULT_CONCURRENCY
SLOW = 0.3  # long enough that every transfer the client starts is still in flight when the last one starts


def test_default_is_one_exported_int():
    assert type(DEFAULT) is int
    assert 10 <= DEFAULT <= 100  # >= Codat's 10 per company; <= what one HTTP/2 connection carries (see below)
    assert DEFAULT is codat._core.DEFAULT_CONCURRENCY
    assert "DEFAULT_CONCURRENCY" in codat.__all__ and "DEFAULT_CONCURRENCY" in dir(codat)


def test_batch_signatures_read_the_constant(server):
    # concurrency=None means the client's batch_concurrency, itself DEFAULT_CONCURRENCY unless set
    method = codat._core.Client.get_access_tokens
    assert inspect.signature(method).parameters["concurrency"].default is None
    assert f"DEFAULT_CONCURRENCY = {DEFAULT}," in method.__doc__  # the number is built from the C constant
    with codat.Client(auth_header=AUTH, server_url=server.url, cache=True) as c:  # the cache's Python wrapper
        assert inspect.signature(c.get_access_tokens).parameters["concurrency"].default is None


def _slow_first(srv, n):
    srv.script_default(*[Reply(delay_s=SLOW)] * n)


def test_batch_default_has_default_in_flight(server):
    # HTTP/1.1: every transfer in flight holds its own connection, so the connections opened while the first
    # answers are held back count the transfers the batch keeps in flight.
    _slow_first(server, DEFAULT)
    ids = [f"bd-{i}" for i in range(2 * DEFAULT)]
    with codat.Client(auth_header=AUTH, server_url=server.url) as c:
        out = c.get_access_tokens(ids, threads=1)
    assert all(isinstance(v, dict) for v in out.values())
    assert server.connections_opened == DEFAULT


def test_awaits_have_the_same_default_in_flight(server):
    _slow_first(server, DEFAULT)
    ids = [f"ad-{i}" for i in range(2 * DEFAULT)]
    with codat.Client(auth_header=AUTH, server_url=server.url) as c:
        async def main():
            return await asyncio.gather(*(c.get_company_access_token_async(cid) for cid in ids))
        out = asyncio.run(main())
    assert len({r["accessToken"] for r in out}) == len(ids)
    assert server.connections_opened == DEFAULT  # the I/O thread's limit is the batches' default


@pytest.fixture(scope="module")
def _h2_server():
    pytest.importorskip("h2")
    with StandInServer(tls=True, http2=True, auth_header=AUTH) as srv:  # SETTINGS_MAX_CONCURRENT_STREAMS 100
        yield srv


@pytest.fixture
def h2_server(_h2_server):
    _h2_server.reset()
    yield _h2_server
    assert _h2_server.errors == [], _h2_server.errors


@pytest.mark.parametrize("threads", [1, 2])
def test_http2_batch_at_the_default_needs_one_connection_per_thread(h2_server, threads):
    _slow_first(h2_server, DEFAULT)
    ids = [f"h2b{threads}-{i}" for i in range(3 * DEFAULT)]
    with codat.Client(auth_header=AUTH, server_url=h2_server.url, verify=h2_server.ca_path) as c:
        out = c.get_access_tokens(ids, threads=threads)
    assert all(isinstance(v, dict) for v in out.values())
    assert {r.http_version for r in h2_server.requests} == {"2"}
    # One TLS handshake per thread, not one per transfer in flight (HTTP/1.1 would take DEFAULT of them).
    assert 1 <= h2_server.connections_opened <= threads
    if threads == 1:
        assert h2_server.peak_concurrent_streams == DEFAULT  # all of them multiplexed on that one connection


def test_http2_awaits_at_the_default_share_one_connection(h2_server):
    _slow_first(h2_server, DEFAULT)
    ids = [f"h2a-{i}" for i in range(2 * DEFAULT)]
    with codat.Client(auth_header=AUTH, server_url=h2_server.url, verify=h2_server.ca_path) as c:
        async def main():
            return await asyncio.gather(*(c.get_company_access_token_async(cid) for cid in ids))
        out = asyncio.run(main())
    assert len({r["accessToken"] for r in out}) == len(ids)
    assert h2_server.connections_opened == 1
    assert h2_server.peak_concurrent_streams == DEFAULT
