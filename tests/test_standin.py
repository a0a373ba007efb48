"""Tests for the stand-in Codat server (codat_platform_c.testing).

These tests talk to the server with plain stdlib clients (http.client,
urllib, raw sockets).  They do not use the C client.
"""

import email.utils
import http.client
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codat_platform_c.testing import RecordedRequest, Reply, StandInServer, main  # noqa: E402

COMPANY = "/companies/{}/accessToken"
CONN_MGMT = "/companies/{}/connectionManagement/accessToken"
ERROR_KEYS = {"statusCode", "service", "error", "correlationId", "validation",
              "canBeRetried", "detailedErrorCode"}


# ---------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def shared():
    with StandInServer() as server:
        yield server


@pytest.fixture
def srv(shared):
    shared.reset()
    yield shared
    assert shared.errors == []


def get(server, path, headers=None, timeout=5.0, method="GET", body=None):
    """One request on a fresh connection: (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def raw_exchange(server, data, timeout=5.0):
    """Send raw bytes, read until the server closes; return everything read."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def assert_error_body(body, status):
    doc = json.loads(body)
    assert set(doc) == ERROR_KEYS
    assert doc["statusCode"] == status
    assert doc["service"] == "PublicApi"
    assert isinstance(doc["error"], str) and doc["error"]
    assert re.fullmatch(r"[0-9a-f]{32}", doc["correlationId"])
    assert doc["validation"] == {"errors": [], "warnings": []}
    assert doc["canBeRetried"] == "Unknown"
    assert doc["detailedErrorCode"] == 0
    return doc


def wait_for(predicate, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


# ---------------------------------------------------------------- endpoints

def test_company_endpoint_default_success(srv):
    assert srv.url == f"http://127.0.0.1:{srv.port}"
    status, headers, body = get(srv, COMPANY.format("acme"))
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    doc = json.loads(body)
    assert set(doc) == {"accessToken", "expiresIn", "tokenType"}
    assert doc["expiresIn"] == 86400 and doc["tokenType"] == "Bearer"
    assert doc["accessToken"].startswith("tok-")
    (rec,) = srv.requests
    assert isinstance(rec, RecordedRequest)
    assert (rec.method, rec.endpoint, rec.company_id) == ("GET", "company", "acme")
    assert rec.raw_path == rec.path == "/companies/acme/accessToken"
    assert rec.headers["host"] == f"127.0.0.1:{srv.port}"
    assert abs(rec.time - time.monotonic()) < 5


def test_connection_management_endpoint_default_success(srv):
    status, headers, body = get(srv, CONN_MGMT.format("acme"))
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    doc = json.loads(body)
    assert set(doc) == {"accessToken"}
    assert srv.requests[0].endpoint == "connection_management"
    assert srv.requests[0].company_id == "acme"


def test_tokens_are_unique(srv):
    tokens = [json.loads(get(srv, path.format("c"))[2])["accessToken"]
              for path in (COMPANY, CONN_MGMT) * 10]
    assert len(set(tokens)) == 20
    assert srv.tokens_issued == tokens
    assert all(re.fullmatch(r"tok-\d+-[0-9a-f]{16}", t) for t in tokens)


def test_company_id_is_percent_decoded(srv):
    assert get(srv, COMPANY.format("a%2Fb"))[0] == 200
    rec = srv.requests[-1]
    assert rec.company_id == "a/b"
    assert rec.raw_path == "/companies/a%2Fb/accessToken"
    assert rec.path == "/companies/a/b/accessToken"

    odd = "café & co/?#%"
    url = srv.url + CONN_MGMT.format(urllib.parse.quote(odd, safe=""))
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert resp.status == 200
    assert srv.requests[-1].company_id == odd
    assert srv.request_count(odd) == 1
    assert srv.request_count("a/b") == 1
    assert srv.request_count() == 2


def test_query_string_recorded_and_ignored(srv):
    assert get(srv, COMPANY.format("q") + "?x=1&y=%20")[0] == 200
    rec = srv.requests[-1]
    assert rec.query == "x=1&y=%20" and rec.company_id == "q"
    assert rec.path == "/companies/q/accessToken"


def test_unknown_paths_get_404(srv):
    for path in ("/", "/companies/x", "/companies//accessToken",
                 "/companies/x/accessToken/more", "/companies/x/connectionManagement",
                 "/Companies/x/accessToken"):
        status, headers, body = get(srv, path)
        assert status == 404, path
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert_error_body(body, 404)
    assert all(r.endpoint is None and r.company_id is None for r in srv.requests)


def test_non_get_gets_405_and_body_is_consumed(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("POST", COMPANY.format("acme"), body=b"x" * 1000)
        resp = conn.getresponse()
        assert resp.status == 405
        assert resp.headers["Allow"] == "GET"
        assert_error_body(resp.read(), 405)
        conn.request("GET", COMPANY.format("acme"))  # same connection still in sync
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
    finally:
        conn.close()
    assert srv.connections_opened == 1
    assert srv.requests[0].body == b"x" * 1000
    assert srv.requests[0].method == "POST"


def test_chunked_request_body_is_consumed(srv):
    req = (b"PUT /companies/a/accessToken HTTP/1.1\r\nHost: x\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
           b"GET /companies/a/accessToken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = raw_exchange(srv, req)
    assert data.count(b"HTTP/1.1 ") == 2
    assert data.startswith(b"HTTP/1.1 405 ")
    assert b"HTTP/1.1 200 OK" in data
    assert srv.requests[0].body == b"abcde"


# ---------------------------------------------------------------- headers

def test_rate_limit_headers_present_and_decrementing(srv):
    remaining = []
    for path in (COMPANY.format("a"), CONN_MGMT.format("b"), "/nope", COMPANY.format("status-500")):
        status, headers, _ = get(srv, path)
        assert headers["X-Rate-Limit-Limit"] == "1000"
        remaining.append(int(headers["X-Rate-Limit-Remaining"]))
        reset = email.utils.parsedate_to_datetime(headers["X-Rate-Limit-Reset"])
        now = datetime.now(timezone.utc)
        assert now < reset <= now + timedelta(days=1)
        assert (reset.hour, reset.minute, reset.second) == (0, 0, 0)
    assert remaining == [999, 998, 997, 996]
    assert srv.rate_limit_remaining == 996


def test_rate_limit_configurable_and_enforced():
    with StandInServer(rate_limit=2, enforce_rate_limit=True) as server:
        assert [get(server, COMPANY.format("a"))[0] for _ in range(2)] == [200, 200]
        status, headers, body = get(server, COMPANY.format("a"))
        assert status == 429
        assert headers["X-Rate-Limit-Limit"] == "2"
        assert headers["X-Rate-Limit-Remaining"] == "0"
        assert 0 < int(headers["Retry-After"]) <= 86400
        assert_error_body(body, 429)
        server.reset()
        assert get(server, COMPANY.format("a"))[0] == 200
    with StandInServer(rate_limit=1) as server:  # not enforced: counter stops at 0
        statuses = [get(server, COMPANY.format("a"))[:2] for _ in range(3)]
        assert [s for s, _ in statuses] == [200, 200, 200]
        assert [h["X-Rate-Limit-Remaining"] for _, h in statuses] == ["0", "0", "0"]


# ---------------------------------------------------------------- scripting

def test_scripted_replies_consumed_in_order(srv):
    srv.script("acme",
               Reply(status=503),
               Reply(json={"accessToken": "fixed", "expiresIn": 5}),
               Reply(status=200, body="<html>oops</html>", content_type="text/html"),
               Reply(body=b"raw"))
    srv.script("acme", Reply(status=500))  # appends to the same queue
    got = [get(srv, COMPANY.format("acme")) for _ in range(6)]
    assert [g[0] for g in got] == [503, 200, 200, 200, 500, 200]
    assert_error_body(got[0][2], 503)
    assert json.loads(got[1][2]) == {"accessToken": "fixed", "expiresIn": 5}
    assert got[1][1]["Content-Type"] == "application/json; charset=utf-8"
    assert got[2][2] == b"<html>oops</html>" and got[2][1]["Content-Type"] == "text/html"
    assert got[3][2] == b"raw" and got[3][1]["Content-Type"].startswith("text/plain")
    assert_error_body(got[4][2], 500)
    assert json.loads(got[5][2])["tokenType"] == "Bearer"  # queue empty -> default success
    # other companies are unaffected
    assert get(srv, COMPANY.format("other"))[0] == 200


def test_script_applies_to_decoded_company_id_on_both_endpoints(srv):
    srv.script("a/b", Reply(status=401), Reply(status=403))
    assert get(srv, CONN_MGMT.format("a%2Fb"))[0] == 401
    assert get(srv, COMPANY.format("a%2fb"))[0] == 403
    assert get(srv, COMPANY.format("a%2Fb"))[0] == 200


def test_script_default(srv):
    srv.script_default(Reply(status=502), Reply(status=504))
    srv.script("own", Reply(status=418))
    assert get(srv, COMPANY.format("own"))[0] == 418
    assert get(srv, COMPANY.format("x"))[0] == 502
    assert get(srv, COMPANY.format("own"))[0] == 504  # own queue empty -> shared queue
    assert get(srv, COMPANY.format("y"))[0] == 200


def test_status_only_reply_gets_error_message_body(srv):
    for status in (400, 401, 403, 404, 409, 429, 500, 503, 599):
        srv.script("e", Reply(status=status))
        got_status, headers, body = get(srv, COMPANY.format("e"))
        assert got_status == status
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert_error_body(body, status)


def test_reply_headers_extra_and_override(srv):
    srv.script("h", Reply(status=429, headers={"Retry-After": "2",
                                               "x-rate-limit-remaining": "0",
                                               "X-Custom": "yes"}))
    status, headers, _ = get(srv, COMPANY.format("h"))
    assert status == 429
    assert headers["Retry-After"] == "2"
    assert headers.get_all("X-Rate-Limit-Remaining") == ["0"]
    assert headers["X-Custom"] == "yes"


def test_redirect_and_no_body_statuses(srv):
    srv.script("r", Reply(status=302, headers={"Location": "/companies/target/accessToken"}),
               Reply(status=204))
    status, headers, body = get(srv, COMPANY.format("r"))
    assert status == 302 and body == b""
    assert headers["Location"] == "/companies/target/accessToken"
    status, headers, body = get(srv, COMPANY.format("r"))
    assert status == 204 and body == b"" and "Content-Length" not in headers
    # urllib follows the redirect
    srv.script("r", Reply(status=302, headers={"Location": "/companies/target/accessToken"}))
    with urllib.request.urlopen(srv.url + COMPANY.format("r"), timeout=5) as resp:
        assert resp.status == 200
    assert srv.requests[-1].company_id == "target"


def test_reply_validation():
    with pytest.raises(ValueError):
        Reply(action="explode")
    with pytest.raises(ValueError):
        Reply(json={}, body="x")
    with pytest.raises(ValueError):
        Reply(status=42)
    with pytest.raises(TypeError):
        StandInServer().script("x", 404)


def test_reset_clears_scripts_and_records(srv):
    srv.script("x", Reply(status=500))
    srv.script_default(Reply(status=500))
    get(srv, "/nope")
    srv.reset()
    assert srv.requests == [] and srv.request_count() == 0
    assert srv.connections_opened == 0 and srv.tokens_issued == []
    assert srv.rate_limit_remaining == 1000
    assert get(srv, COMPANY.format("x"))[0] == 200


# ---------------------------------------------------------------- auth

def test_auth_header_checked():
    with StandInServer(auth_header="Basic c2VjcmV0") as server:
        status, headers, body = get(server, COMPANY.format("a"))
        assert status == 401
        assert_error_body(body, 401)
        assert headers["X-Rate-Limit-Remaining"] == "1000"  # 401s use no quota
        assert get(server, COMPANY.format("a"), {"Authorization": "Basic wrong"})[0] == 401
        status, _, body = get(server, COMPANY.format("a"), {"Authorization": "Basic c2VjcmV0"})
        assert status == 200 and json.loads(body)["accessToken"]
        assert server.request_count() == 3
        assert server.requests[-1].headers["authorization"] == "Basic c2VjcmV0"


# ---------------------------------------------------------------- delays and failures

def test_delay_does_not_block_other_connections(srv):
    srv.script("slow", Reply(delay_s=0.5))
    result = {}

    def slow_request():
        t0 = time.monotonic()
        result["status"] = get(srv, COMPANY.format("slow"))[0]
        result["elapsed"] = time.monotonic() - t0

    thread = threading.Thread(target=slow_request)
    thread.start()
    assert wait_for(lambda: srv.request_count("slow") == 1)
    t0 = time.monotonic()
    assert get(srv, COMPANY.format("fast"))[0] == 200
    fast_elapsed = time.monotonic() - t0
    assert "status" not in result  # the slow one is still waiting
    thread.join(5)
    assert fast_elapsed < 0.3
    assert result["status"] == 200
    assert result["elapsed"] >= 0.5


def test_silence_makes_client_time_out(srv):
    srv.script("quiet", Reply(action="silence"))
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        get(srv, COMPANY.format("quiet"), timeout=0.3)
    assert 0.25 <= time.monotonic() - t0 < 2
    assert srv.request_count("quiet") == 1


def test_drop_closes_without_response(srv):
    srv.script("d", Reply(action="drop"))
    with pytest.raises(http.client.RemoteDisconnected):
        get(srv, COMPANY.format("d"))
    raw = raw_exchange(srv, b"GET /companies/action-drop/accessToken HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw == b""


def test_reset_sends_rst(srv):
    srv.script("rst", Reply(action="reset"))
    with pytest.raises(ConnectionResetError):
        raw_exchange(srv, b"GET /companies/rst/accessToken HTTP/1.1\r\nHost: x\r\n\r\n")
    srv.script("rst", Reply(action="reset", delay_s=0.1))
    with pytest.raises(ConnectionResetError):
        get(srv, COMPANY.format("rst"))


def test_truncate_gives_incomplete_body(srv):
    srv.script("t", Reply(action="truncate"))
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", COMPANY.format("t"))
        resp = conn.getresponse()
        assert resp.status == 200
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert 0 < len(info.value.partial) < int(resp.headers["Content-Length"])
    finally:
        conn.close()


def test_drip_sends_body_slowly(srv):
    srv.script("drip", Reply(json={"accessToken": "abc"}, action="drip", delay_s=0.01))
    expected = json.dumps({"accessToken": "abc"}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        t0 = time.monotonic()
        conn.request("GET", COMPANY.format("drip"))
        resp = conn.getresponse()
        head_elapsed = time.monotonic() - t0
        body = resp.read()
        elapsed = time.monotonic() - t0
        assert body == expected
        assert head_elapsed < len(expected) * 0.01 / 2  # headers come at once
        assert elapsed >= len(expected) * 0.01
        conn.request("GET", COMPANY.format("drip"))  # connection is still usable
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    assert srv.connections_opened == 1


def test_close_after_forces_reconnect(srv):
    srv.script("c", Reply(action="close_after"))
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", COMPANY.format("c"))
        resp = conn.getresponse()
        assert resp.headers["Connection"] == "close"
        assert resp.status == 200 and json.loads(resp.read())["accessToken"]
        conn.request("GET", COMPANY.format("c"))  # http.client reconnects by itself
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    finally:
        conn.close()
    assert srv.connections_opened == 2
    assert [r.connection_id for r in srv.requests][0] != srv.requests[1].connection_id


# ---------------------------------------------------------------- connections

def test_keep_alive_reuses_connection(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        for path in (COMPANY.format("k"), CONN_MGMT.format("k"), "/missing"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert "Connection" not in resp.headers
    finally:
        conn.close()
    assert srv.connections_opened == 1
    assert len({r.connection_id for r in srv.requests}) == 1


def test_connection_close_and_http10(srv):
    data = raw_exchange(srv, b"GET /companies/a/accessToken HTTP/1.1\r\nHost: x\r\n"
                             b"Connection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: close\r\n" in data
    data = raw_exchange(srv, b"GET /companies/a/accessToken HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: close\r\n" in data
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"GET /companies/a/accessToken HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        resp = http.client.HTTPResponse(s)
        resp.begin()
        assert resp.headers["Connection"] == "keep-alive"
        resp.read()


def test_pipelined_requests(srv):
    one = b"GET /companies/p/accessToken HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET /companies/p/accessToken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    srv.script("p", Reply(delay_s=0.05), Reply(status=404))
    data = raw_exchange(srv, one * 3 + last)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"200", b"404", b"200", b"200"]
    assert srv.connections_opened == 1


def test_half_closed_client_still_gets_delayed_answer(srv):
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"GET /companies/slow-100/accessToken HTTP/1.1\r\nHost: x\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert json.loads(data.split(b"\r\n\r\n", 1)[1])["accessToken"]


def test_expect_100_continue(srv):
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"POST /companies/a/accessToken HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"hello")
        assert s.recv(65536).startswith(b"HTTP/1.1 405 ")
    assert srv.requests[0].body == b"hello"


def test_garbage_gets_400_or_431_and_server_survives(srv):
    assert raw_exchange(srv, b"this is not http\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_exchange(srv, b"GET /x HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505 ")
    assert raw_exchange(srv, b"GET /x HTTP/1.1\r\nno colon\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_exchange(srv, b"GET /x HTTP/1.1\r\nContent-Length: zz\r\n\r\n").startswith(
        b"HTTP/1.1 400 ")
    big = b"GET /x HTTP/1.1\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n"
    data = raw_exchange(srv, big)
    assert data.startswith(b"HTTP/1.1 431 ")
    assert_error_body(data.split(b"\r\n\r\n", 1)[1], 431)
    assert raw_exchange(srv, b"\x16\x03\x01\x00\xff" + os.urandom(200) + b"\r\n\r\n").startswith(
        b"HTTP/1.1 400 ")
    assert get(srv, COMPANY.format("still-alive"))[0] == 200


def test_many_concurrent_connections(srv):
    n = 1000
    request = b"GET /companies/many/accessToken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            socks.append(s)
        for s in socks:
            s.sendall(request)
        ok = 0
        for s in socks:
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            ok += data.startswith(b"HTTP/1.1 200 OK")
    finally:
        for s in socks:
            s.close()
    assert ok == n
    assert srv.connections_opened == n
    assert srv.request_count("many") == n


# ---------------------------------------------------------------- magic company ids

def test_magic_company_ids(srv):
    status, _, body = get(srv, COMPANY.format("status-503"))
    assert status == 503
    assert_error_body(body, 503)
    assert get(srv, CONN_MGMT.format("status-429"))[0] == 429
    t0 = time.monotonic()
    assert get(srv, COMPANY.format("slow-200"))[0] == 200
    assert time.monotonic() - t0 >= 0.2
    with pytest.raises((socket.timeout, TimeoutError)):
        get(srv, COMPANY.format("silence"), timeout=0.2)
    with pytest.raises(http.client.IncompleteRead):
        get(srv, COMPANY.format("action-truncate"))
    # a company's own script comes before its magic
    srv.script("status-503", Reply(status=200))
    assert get(srv, COMPANY.format("status-503"))[0] == 200
    assert get(srv, COMPANY.format("status-503"))[0] == 503


# ---------------------------------------------------------------- TLS

def test_tls_with_ca_path():
    with StandInServer(tls=True) as server:
        assert server.url == f"https://127.0.0.1:{server.port}"
        ca_path = server.ca_path
        assert os.path.isfile(ca_path)
        ctx = ssl.create_default_context(cafile=ca_path)
        for host in ("127.0.0.1", "localhost"):
            conn = http.client.HTTPSConnection(host, server.port, context=ctx, timeout=5)
            try:
                conn.request("GET", COMPANY.format("secure"))
                resp = conn.getresponse()
                assert resp.status == 200
                assert json.loads(resp.read())["tokenType"] == "Bearer"
                conn.request("GET", CONN_MGMT.format("secure"))  # keep-alive over TLS
                resp = conn.getresponse()
                assert resp.status == 200
                resp.read()
            finally:
                conn.close()
        with urllib.request.urlopen(server.url + COMPANY.format("u"), context=ctx,
                                    timeout=5) as resp:
            assert resp.status == 200
        # a client that does not trust the test CA refuses the connection
        with pytest.raises(ssl.SSLCertVerificationError):
            conn = http.client.HTTPSConnection("127.0.0.1", server.port,
                                               context=ssl.create_default_context(), timeout=5)
            try:
                conn.request("GET", COMPANY.format("x"))
            finally:
                conn.close()
        server.script("tls-reset", Reply(action="reset"))
        with pytest.raises(ConnectionResetError):
            conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=5)
            try:
                conn.request("GET", COMPANY.format("tls-reset"))
                conn.getresponse()
            finally:
                conn.close()
        assert server.connections_opened == 4
        assert server.errors == []
    assert server.ca_path is None
    assert not os.path.exists(os.path.dirname(ca_path))


# ---------------------------------------------------------------- lifecycle

def test_stop_with_silent_connection_is_prompt():
    server = StandInServer().start()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        s.sendall(b"GET /companies/silence/accessToken HTTP/1.1\r\nHost: x\r\n\r\n")
        assert wait_for(lambda: server.request_count("silence") == 1)
        s2 = socket.create_connection(("127.0.0.1", server.port), timeout=5)  # idle one too
        t0 = time.monotonic()
        server.stop()
        assert time.monotonic() - t0 < 2
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
        s2.close()
    finally:
        s.close()
    server.stop()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_start_fails_cleanly_when_port_taken(srv):
    with pytest.raises(OSError):
        StandInServer(port=srv.port).start()


def test_restart_after_stop():
    server = StandInServer()
    with server:
        assert get(server, COMPANY.format("a"))[0] == 200
    with server:
        assert get(server, COMPANY.format("a"))[0] == 200
    assert "stopped" in repr(server)


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "--auth-header" in capsys.readouterr().out


# ---------------------------------------------------------------- other read-only endpoints

def test_platform_endpoints_as_the_spec_describes_them(srv):
    from codat_platform_c.testing import DEMO_COMPANIES
    first, second = sorted(DEMO_COMPANIES)
    status, headers, body = get(srv, "/companies?page=1&pageSize=1")
    page = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    assert (page["pageNumber"], page["pageSize"], page["totalResults"], len(page["results"])) == (1, 1, 2, 1)
    assert page["_links"]["next"]["href"] == "/companies?page=2&pageSize=1" and "previous" not in page["_links"]
    assert json.loads(get(srv, "/companies?page=2&pageSize=1")[2])["_links"]["previous"]["href"] == \
        "/companies?page=1&pageSize=1"
    company = json.loads(get(srv, f"/companies/{first}")[2])
    assert company["id"] == first and company["name"] == DEMO_COMPANIES[first] and company["redirect"]
    connections = json.loads(get(srv, f"/companies/{second}/connections")[2])
    assert connections["results"][0]["status"] == "Linked" and connections["totalResults"] == 1
    assert json.loads(get(srv, "/profile")[2])["name"] == "Stand-in client"
    for path, code in (("/companies?page=0", 400), ("/companies?pageSize=5001", 400), ("/companies?page=x", 400),
                       ("/companies/nope", 404), ("/companies/nope/connections", 404),
                       ("/companies/status-503", 503), (f"/companies/{first}/other", 404), ("/profile/x", 404)):
        status, _, body = get(srv, path)
        assert status == code and json.loads(body)["statusCode"] == code and set(json.loads(body)) == ERROR_KEYS, path
    assert get(srv, "/companies", method="POST", body=b"{}")[0] == 405
    srv.companies["acme"] = "Acme"
    assert json.loads(get(srv, "/companies")[2])["totalResults"] == 3
    srv.reset()
    assert srv.companies == DEMO_COMPANIES and json.loads(get(srv, "/companies")[2])["totalResults"] == 2


def test_platform_endpoints_need_the_key():
    with StandInServer(auth_header="Basic k") as s:
        assert get(s, "/companies")[0] == 401
        assert get(s, "/profile", headers={"Authorization": "Basic k"})[0] == 200
