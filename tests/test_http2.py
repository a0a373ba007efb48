"""HTTP/2 where the server offers it: the stand-in with http2=True negotiates h2 by ALPN, and the client
multiplexes a batch onto streams of one connection (CURLOPT_PIPEWAIT), with the usual errors and retries."""
import asyncio
import http.client
import json
import socket
import ssl

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer
from conftest import AUTH, FAST_RETRIES

pytest.importorskip("h2")

CONN_MGMT = "/companies/{}/connectionManagement/accessToken"


@pytest.fixture(scope="module")
def _h2_server():
    with StandInServer(tls=True, http2=True, auth_header=AUTH) as srv:
        yield srv


@pytest.fixture
def srv(_h2_server):
    _h2_server.reset()
    yield _h2_server
    assert _h2_server.errors == [], _h2_server.errors


def h2_client(srv, retries=FAST_RETRIES):
    return codat.Client(auth_header=AUTH, server_url=srv.url, verify=srv.ca_path, retries=retries)


def test_one_call_negotiates_http2(srv):
    with h2_client(srv) as c:
        token = c.get_access_token("one")
    assert token["accessToken"] == srv.tokens_issued[-1]
    [rec] = srv.requests
    assert rec.http_version == "2"
    assert rec.company_id == "one" and rec.endpoint == "connection_management"
    assert rec.headers["authorization"] == AUTH
    assert srv.connections_opened == 1


def test_batch_multiplexes_on_one_connection(srv):
    ids = [f"mx-{i}" for i in range(300)]
    srv.script_default(*[Reply(delay_s=0.05)] * 64)  # the first 64 answers are slow: streams pile up
    with h2_client(srv) as c:
        out = c.get_access_tokens(ids, concurrency=16, threads=1)
    assert list(out) == ids
    assert all(isinstance(v, dict) for v in out.values()), [v for v in out.values() if not isinstance(v, dict)][:3]
    assert len({v["accessToken"] for v in out.values()}) == 300
    assert srv.connections_opened == 1  # the 16 transfers waited for the first connection and shared it
    assert srv.peak_concurrent_streams >= 8, srv.peak_concurrent_streams
    assert {r.http_version for r in srv.requests} == {"2"}
    assert len({r.connection_id for r in srv.requests}) == 1


def test_batch_with_two_threads(srv):
    ids = [f"th-{i}" for i in range(300)]
    srv.script_default(*[Reply(delay_s=0.02)] * 32)
    with h2_client(srv) as c:
        out = c.get_access_tokens(ids, concurrency=16, threads=2)
    assert all(isinstance(v, dict) for v in out.values())
    assert len({v["accessToken"] for v in out.values()}) == 300
    assert 1 <= srv.connections_opened <= 2  # at most one connection per thread
    assert {r.http_version for r in srv.requests} == {"2"}


def test_peak_streams_reset(srv):
    srv.script_default(*[Reply(delay_s=0.05)] * 8)
    with h2_client(srv) as c:
        c.get_access_tokens([f"pk-{i}" for i in range(8)], concurrency=8)
    assert srv.peak_concurrent_streams >= 2
    srv.reset()
    assert srv.peak_concurrent_streams == 0


def test_errors_over_http2(srv):
    with h2_client(srv, retries=None) as c:
        with pytest.raises(codat.ErrorMessage) as info:
            c.get_access_token("status-404")
        assert info.value.status_code == 404
        assert isinstance(info.value.headers, dict)
        assert info.value.headers["x-rate-limit-limit"] == "1000"
        assert "connection" not in info.value.headers and "keep-alive" not in info.value.headers
        assert AUTH not in str(info.value) and AUTH not in repr(info.value)

        srv.script("plain", Reply(status=500, body="upstream exploded"))
        with pytest.raises(codat.SDKError) as info2:
            c.get_access_token("plain")
        assert not isinstance(info2.value, codat.ErrorMessage)
        assert info2.value.status_code == 500
        assert AUTH not in str(info2.value) and AUTH not in repr(info2.value)
    assert {r.http_version for r in srv.requests} == {"2"}


def test_connection_headers_are_not_sent(srv):
    srv.script("hdr", Reply(headers={"Connection": "close", "Keep-Alive": "timeout=5", "X-Extra": "yes"}))
    with h2_client(srv, retries=None) as c:
        assert c.get_access_token("hdr")["accessToken"]
        assert c.get_access_token("after")["accessToken"]  # the connection was not closed
    assert srv.connections_opened == 1


def test_429_retry_after_pauses_the_multiplexed_batch(srv):
    ids = [f"r{i}" for i in range(20)]
    srv.script(ids[0], Reply(status=429, headers={"Retry-After": "1"}))
    with h2_client(srv, retries=codat.RetryConfig(initial_interval_ms=5)) as c:
        out = c.get_access_tokens(ids, concurrency=4, threads=1)
    assert all(isinstance(v, dict) for v in out.values())
    reqs = srv.requests
    first_429 = min(r.time for r in reqs if r.company_id == ids[0])
    rest = [r.time for r in reqs if not (r.company_id == ids[0] and r.time == first_429)]
    # requests already on their way beside the 429 may come within 50 ms; then a second of silence
    quiet = [t - first_429 for t in rest if first_429 + 0.05 <= t < first_429 + 0.95]
    assert quiet == [], quiet
    assert srv.request_count(ids[0]) == 2
    assert max(rest) - first_429 >= 0.95


def test_stream_reset_is_retried_and_isolated(srv):
    ids = [f"rs-{i}" for i in range(30)]
    srv.script(ids[7], Reply(action="reset"))
    with h2_client(srv) as c:
        out = c.get_access_tokens(ids, concurrency=8, threads=1)
    assert all(isinstance(v, dict) for v in out.values())
    assert srv.request_count(ids[7]) == 2
    assert all(srv.request_count(cid) == 1 for cid in ids if cid != ids[7])
    assert srv.connections_opened == 1  # only the stream was reset, not the connection


def test_stream_reset_without_retries_is_a_transport_error(srv):
    srv.script("rst", Reply(action="reset"))
    with h2_client(srv, retries=None) as c:
        with pytest.raises(codat.TransportError):
            c.get_access_token("rst")
        assert c.get_access_token("fine")["accessToken"]
    assert srv.connections_opened == 1


def test_drop_closes_the_connection_and_is_retried(srv):
    srv.script("gone", Reply(action="drop"))
    with h2_client(srv) as c:
        assert c.get_access_token("gone")["accessToken"]
    assert srv.request_count("gone") == 2
    assert srv.connections_opened == 2


def test_close_after_forces_a_new_connection(srv):
    srv.script("bye", Reply(action="close_after"))
    with h2_client(srv, retries=None) as c:
        assert c.get_access_token("bye")["accessToken"]
        assert c.get_access_token("next")["accessToken"]
    assert srv.connections_opened == 2
    assert srv.requests[0].connection_id != srv.requests[1].connection_id


def test_delay_holds_back_only_its_stream(srv):
    ids = [f"d{i}" for i in range(12)]
    srv.script(ids[0], Reply(delay_s=0.8))
    with h2_client(srv) as c:
        out = c.get_access_tokens(ids, concurrency=4, threads=1)
    assert all(isinstance(v, dict) for v in out.values())
    assert srv.connections_opened == 1
    times = {r.company_id: r.time for r in srv.requests}
    # the 11 others went through the 3 other slots while the slow stream waited on the same connection
    assert max(t for cid, t in times.items() if cid != ids[0]) - times[ids[0]] < 0.6


def test_byte_level_action_is_rejected_over_http2(_h2_server):
    srv = _h2_server
    srv.reset()
    srv.script("bytes", Reply(action="truncate"))
    with h2_client(srv, retries=None) as c:
        with pytest.raises(codat.TransportError):
            c.get_access_token("bytes")
    [err] = srv.errors
    assert "truncate" in err and "not supported over HTTP/2" in err
    srv.reset()


def test_async_gather_shares_one_connection(srv):
    ids = [f"as-{i}" for i in range(100)]

    async def main(c):
        return await asyncio.gather(*(c.get_access_token_async(cid) for cid in ids))

    with h2_client(srv) as c:
        out = asyncio.run(main(c))
    assert len(out) == 100 and all(isinstance(v, dict) and v["accessToken"] for v in out)
    assert len({v["accessToken"] for v in out}) == 100
    assert srv.connections_opened == 1
    assert {r.http_version for r in srv.requests} == {"2"}


def test_same_server_still_speaks_http11(srv):
    ctx = ssl.create_default_context(cafile=srv.ca_path)
    ctx.set_alpn_protocols(["http/1.1"])
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=5)
    try:
        conn.request("GET", CONN_MGMT.format("old"), headers={"Authorization": AUTH})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200
        assert resp.version == 11
        assert resp.getheader("X-Rate-Limit-Limit") == "1000"
        assert json.loads(body)["accessToken"] == srv.tokens_issued[-1]
        assert conn.sock.selected_alpn_protocol() == "http/1.1"
    finally:
        conn.close()
    [rec] = srv.requests
    assert rec.http_version == "1.1" and rec.company_id == "old"


def test_client_without_alpn_gets_http11(srv):
    ctx = ssl.create_default_context(cafile=srv.ca_path)  # offers no ALPN at all
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        assert s.selected_alpn_protocol() is None
        s.sendall(f"GET {CONN_MGMT.format('raw')} HTTP/1.0\r\nAuthorization: {AUTH}\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    [rec] = srv.requests
    assert rec.http_version == "1.0"


def test_http11_only_tls_server_does_not_offer_h2(tls_server):
    ctx = ssl.create_default_context(cafile=tls_server.ca_path)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    conn = http.client.HTTPSConnection("127.0.0.1", tls_server.port, context=ctx, timeout=5)
    try:
        conn.connect()
        assert conn.sock.selected_alpn_protocol() == "http/1.1"
    finally:
        conn.close()
    with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=tls_server.ca_path) as c:
        assert c.get_access_token("h1")["accessToken"]
    assert tls_server.requests[-1].http_version == "1.1"


def test_http2_needs_tls():
    with pytest.raises(ValueError, match="tls"):
        StandInServer(http2=True)
    with pytest.raises(ValueError, match="tls"):
        StandInServer(tls=False, http2=True, auth_header=AUTH)
    srv = StandInServer(tls=True, http2=True)  # fine, and nothing starts until start()
    assert srv.http2 and srv.peak_concurrent_streams == 0


def test_cli_http2_needs_tls(capsys):
    from codat_platform_c.testing import main
    with pytest.raises(SystemExit) as info:
        main(["--http2"])
    assert info.value.code == 2
    assert "--http2 needs --tls" in capsys.readouterr().err
