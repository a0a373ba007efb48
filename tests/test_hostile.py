"""A hostile server: answers that must be refused rather than trusted (NUL bytes, 2XX answers without a
token, broken rate-limit headers), and raw-socket servers that never stop (endless bodies and header
blocks, a slowloris drip), smuggle framing or send what nobody asked for. Each must end in a clear error
(or the right token), promptly, with the client usable afterwards. What tests/test_faults.py covers is not
repeated here.
"""
import asyncio
import json
import socket
import subprocess
import sys
import threading
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer


@pytest.fixture(scope="module")
def srv():
    with StandInServer() as s:
        yield s


@pytest.fixture
def client(srv):
    srv.reset()
    with codat.Client(auth_header="Basic aG9zdGlsZQ==", server_url=srv.url, retries=None) as c:
        yield c


def raw(data):
    return Reply(action="raw", body=data)


def answer(body, content_type=b"application/json", extra=b""):
    return raw(b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\n" + extra +
               b"Content-Length: %d\r\n\r\n" % len(body) + body)


def usable(client, srv):
    got = client.get_access_token("afterwards")
    assert got["accessToken"] == srv.tokens_issued[-1]


# ---------------------------------------------------------------- NUL bytes (issue 11, item 6)

@pytest.mark.parametrize("body", [
    b'{"accessToken":"tok-REAL\x00-REST"}',
    b'{"accessToken":"good","accessToken\x00zzz":"evil"}',
    b'{"accessToken":"good","x\x00":1}',
    b'{"accessToken":"t"}\x00',
    b'\x00{"accessToken":"t"}',
], ids=["in-value", "in-key-second-wins", "in-other-key", "after", "before"])
def test_raw_nul_is_refused_not_truncated(client, srv, body):
    srv.script("n", answer(body))
    with pytest.raises(codat.SDKError, match="NUL|JSON object") as info:
        client.get_access_token("n")
    assert info.value.status_code == 200
    usable(client, srv)


def test_raw_nul_in_an_error_body_is_not_an_error_message(client, srv):
    body = b'{"error":"gone\x00hidden","c":1234}'
    srv.script("n", raw(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                        % len(body) + body))
    with pytest.raises(codat.SDKError) as info:
        client.get_access_token("n")
    assert not isinstance(info.value, codat.ErrorMessage) and info.value.status_code == 404


# ---------------------------------------------------------------- 2XX without a token (item 8)

NO_TOKEN = {
    "empty object": {},
    "null": {"accessToken": None},
    "number": {"accessToken": 5},
    "object": {"accessToken": {"value": "t"}},
    "list": {"accessToken": ["t"]},
    "bool": {"accessToken": True},
    "other key": {"access_token": "t"},
}


@pytest.mark.parametrize("doc", NO_TOKEN.values(), ids=NO_TOKEN.keys())
@pytest.mark.parametrize("method", ["get_access_token", "get_company_access_token"])
def test_2xx_without_an_access_token_string_is_sdk_error(client, srv, doc, method):
    srv.script("t", Reply(status=201, json=doc))
    with pytest.raises(codat.SDKError, match="no accessToken string") as info:
        getattr(client, method)("t")
    assert info.value.status_code == 201 and json.loads(info.value.body) == doc
    assert not isinstance(info.value, codat.ErrorMessage)


def test_duplicate_access_token_keys_the_last_counts(client, srv):
    srv.script("d", answer(b'{"accessToken":"t","accessToken":null}'),
               answer(b'{"accessToken":null,"accessToken":"last"}'))
    with pytest.raises(codat.SDKError, match="no accessToken string"):
        client.get_access_token("d")
    assert client.get_access_token("d") == {"accessToken": "last"}


def test_no_token_in_batches_and_async(client, srv):
    srv.script("b", Reply(json={}))
    got = client.get_access_tokens(["b", "ok"])
    assert isinstance(got["b"], codat.SDKError) and got["ok"]["accessToken"]
    srv.script("a", Reply(json={"accessToken": None}))

    async def go():
        return await client.get_access_token_async("a")
    with pytest.raises(codat.SDKError, match="no accessToken string"):
        asyncio.run(go())


def cli(srv, company):
    return subprocess.run([sys.executable, "-m", "codat_platform_c", "token", company, "--server-url", srv.url,
                           "--no-retries"], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "CODAT_AUTH_HEADER": "Basic aG9zdGlsZQ=="})


@pytest.mark.parametrize("doc", [{}, {"accessToken": None}, {"accessToken": 7}], ids=["empty", "null", "number"])
def test_cli_exits_1_with_one_line_for_a_2xx_without_token(srv, doc):
    srv.reset()
    srv.script("c", Reply(json=doc))
    r = cli(srv, "c")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("error: the answer holds no accessToken string") and r.stderr.count("\n") == 1


def test_cli_escapes_control_characters_in_the_token(srv):
    srv.reset()
    srv.script("c", Reply(json={"accessToken": "t\x1b]0;owned\x07"}))
    r = cli(srv, "c")
    assert r.returncode == 1 and r.stdout == "" and "\x1b" not in r.stderr and r.stderr.count("\n") == 1


# ---------------------------------------------------------------- rate-limit headers (item 7)

def rate(reset=None, remaining=None):
    headers = b"X-Rate-Limit-Limit: 1000\r\n"
    if remaining is not None:
        headers += b"X-Rate-Limit-Remaining: %d\r\n" % remaining
    if reset is not None:
        headers += b"X-Rate-Limit-Reset: " + reset + b"\r\n"
    return answer(b'{"accessToken":"t"}', extra=headers)


@pytest.mark.parametrize("reset", [b"\xff\xfe bad", b"x" * 62 + "\u00e9".encode(), b"x" * 61 + "\u20ac".encode(),
                                   b"\xe2\x82", b"ok\xc3"],
                         ids=["invalid", "cut-2-byte", "cut-3-byte", "truncated-seq", "trailing-lead"])
def test_rate_limit_survives_a_reset_that_is_not_utf8(client, srv, reset):
    srv.script("r", rate(reset, 7), rate(b"Mon, 30 Nov 2026 00:00:00 GMT", 6))
    client.get_access_token("r")
    first = client.rate_limit  # never UnicodeDecodeError
    assert first["remaining"] == 7 and isinstance(first["reset"], str) and len(first["reset"].encode()) <= 63
    assert first["reset"].rstrip("\ufffd").startswith(reset.decode("utf-8", "replace").rstrip("\ufffd")[:40])
    client.get_access_token("r")
    assert client.rate_limit == {"limit": 1000, "remaining": 6, "reset": "Mon, 30 Nov 2026 00:00:00 GMT"}


def test_rate_limit_latest_answer_wins_without_a_reset(client, srv):
    srv.script("r", rate(None, 5), rate(None, 1000), rate(None, 999))
    seen = []
    for _ in range(3):
        client.get_access_token("r")
        seen.append(client.rate_limit["remaining"])
    assert seen == [5, 1000, 999]


# ---------------------------------------------------------------- messages that must not mislead (item 9)

def test_json_object_with_a_wrong_content_type_says_so(client, srv):
    srv.script("c", answer(b'{"accessToken":"t"}', content_type=b"text/plain"))
    with pytest.raises(codat.SDKError) as info:
        client.get_access_token("c")
    assert "content type" in str(info.value) and "expected a JSON object" not in str(info.value)


def test_header_block_over_max_body_bytes_says_headers(srv):
    srv.reset()
    with codat.Client(server_url=srv.url, retries=None, max_body_bytes=1024) as c:
        srv.script("h", answer(b'{"accessToken":"t"}', extra=b"X-Big: " + b"h" * 3000 + b"\r\n"))
        with pytest.raises(codat.SDKError, match="response headers exceed max_body_bytes") as info:
            c.get_access_token("h")
        assert "body exceeds" not in str(info.value)
        srv.script("b", answer(b'{"accessToken":"' + b"t" * 2000 + b'"}'))
        with pytest.raises(codat.SDKError, match="response body exceeds max_body_bytes"):
            c.get_access_token("b")


# ---------------------------------------------------------------- raw-socket servers that never stop

class RawServer:
    """Accepts on 127.0.0.1 (a free port), reads each request's head, then runs handler(sock) in its own
    thread until it returns or the peer goes away."""

    def __init__(self, handler):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            try:
                self.handler(conn, self.stop)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()


def endless_body(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    conn.sendall(b'14\r\n{"accessToken":"t",\r\n')
    while not stop.is_set():
        conn.sendall(b"4000\r\n" + b" " * 0x4000 + b"\r\n")


def endless_body_without_length(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    while not stop.is_set():
        conn.sendall(b"[" * 65536)


def endless_headers(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    lines = (b"X-More: " + b"m" * 100 + b"\r\n") * 100  # many per send: the sender must not be the bottleneck
    while not stop.is_set():
        conn.sendall(lines)


def slowloris(conn, stop):
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n":
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.05)


@pytest.mark.parametrize("handler, kind, match", [
    (endless_body, codat.SDKError, "response body exceeds max_body_bytes"),
    (endless_body_without_length, codat.SDKError, "response body exceeds max_body_bytes"),
    (endless_headers, codat.SDKError, "response headers exceed max_body_bytes"),
    (slowloris, codat.Timeout, None),
], ids=["endless-chunked-body", "endless-body-until-close", "endless-headers", "slowloris"])
def test_a_server_that_never_stops_is_cut_off_promptly(handler, kind, match):
    server = RawServer(handler)
    try:
        with codat.Client(server_url=server.url, retries=None, timeout_ms=1500, max_body_bytes=256 * 1024) as c:
            started = time.monotonic()
            with pytest.raises(kind, match=match):
                c.get_access_token("x")
            # cut off by the cap well before the timeout; or by the timeout, not later
            assert time.monotonic() - started < (1.45 if kind is codat.SDKError else 4.0)
            with pytest.raises(kind):  # and again: nothing of the first attempt lingers
                c.get_access_token("x")
    finally:
        server.close()


@pytest.mark.parametrize("data", [
    # a chunk size past 64 bits
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
    # a negative chunk size
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n{}\r\n0\r\n\r\n",
    # two Content-Lengths that disagree
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 19\r\n\r\n"
    b'{"accessToken":"t"}',
    # a status line with a huge status code, and one with no code at all
    b"HTTP/1.1 99999999999999999999 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1  OK\r\nContent-Length: 0\r\n\r\n",
    # a header line without a colon, with a NUL
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nno colon here\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-A: a\x00b\r\nContent-Length: 19\r\n\r\n"
    b'{"accessToken":"t"}',
], ids=["chunk-size-overflow", "negative-chunk", "two-lengths", "huge-status", "no-status", "no-colon", "nul-header"])
def test_framing_tricks_end_in_an_error_or_the_right_token(client, srv, data):
    srv.script("f", raw(data))
    try:
        got = client.get_access_token("f")
    except (codat.SDKError, codat.TransportError):
        pass
    else:
        assert got == {"accessToken": "t"}
    usable(client, srv)


def test_an_unasked_second_response_is_never_taken_for_the_next_answer(client, srv):
    one = b'{"accessToken":"mine"}'
    two = b'{"accessToken":"SMUGGLED"}'
    srv.script("s", raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(one)
                        + one + b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                        % len(two) + two))
    assert client.get_access_token("s") == {"accessToken": "mine"}
    for _ in range(3):
        got = client.get_access_token("next")
        assert got["accessToken"] != "SMUGGLED" and got["accessToken"] in srv.tokens_issued


def test_repeated_header_names_cost_linear_time(client, srv):
    """SDKError.headers joins the values of a repeated name. Joined as they came, each repeat copied the
    growing string: 40,000 repeats (what fits in libcurl's 300 KB of headers) took over a second of CPU with
    the GIL held, on the event loop's I/O thread for async calls."""
    def cost(n):
        data = b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n" + b"x-a:a\r\n" * n + b"\r\n"
        best = float("inf")
        for _ in range(3):
            srv.script("d", raw(data))
            started = time.thread_time()
            with pytest.raises(codat.SDKError) as info:
                client.get_access_token("d")
            best = min(best, time.thread_time() - started)
            assert info.value.headers["x-a"] == ", ".join(["a"] * n)
        return best
    small, large = cost(10_000), cost(40_000)
    assert large < 5 * small + 0.01, (small, large)  # 4x the lines: about 4x the time, not 16x
