"""Fault injection: whatever a server or the network does, the caller gets a clear exception or a correct
answer, never a crash, a hang, a silently repaired or truncated token, or a leak; and the client stays
usable afterwards.

Faults come from the stand-in (codat_platform_c.testing): its scripted actions (reset, reset_mid_body,
truncate, drip, drip_head, close_idle, reset_idle, drop) and action="raw", which sends any bytes as the
whole response. Certificates for the TLS cases are made here with the openssl command line tool.
What tests/test_errors.py already covers (plain statuses, redirects 301-308, the 4 MiB cap with a
Content-Length, drop/reset/truncate on a fresh connection) is not repeated.
"""
import asyncio
import ctypes
import gc
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer
from conftest import AUTH, FAST_RETRIES

CT = b"Content-Type: application/json\r\n"
TOKEN_BODY = b'{"accessToken":"t-raw"}'


def raw(data):
    return Reply(action="raw", body=data)


def response(status_line=b"HTTP/1.1 200 OK", headers=CT, body=TOKEN_BODY, length=True):
    """A raw HTTP response; Content-Length is added unless length=False."""
    if length:
        headers += b"Content-Length: %d\r\n" % len(body)
    return status_line + b"\r\n" + headers + b"\r\n" + body


def json_reply(body, status=200):
    return Reply(status=status, body=body, content_type="application/json")


@pytest.fixture
def noretry(server):
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        yield c


def assert_usable(client, server, **options):
    """One good call right after the fault: the client (and its pool) still works."""
    token = client.get_access_token("after-the-fault", **options)
    assert list(token) == ["accessToken"] and token["accessToken"] in server.tokens_issued


def fetch(client, server, *replies, cid="f", **options):
    server.script(cid, *replies)
    return client.get_access_token(cid, **options)


# ---------------------------------------------------------------- broken connections and framing

TRANSPORT_FAULTS = {
    # connection reset
    "reset before headers": Reply(action="reset"),
    "reset after headers, mid-body": Reply(action="reset_mid_body"),
    "reset mid-body of a large answer": Reply(action="reset_mid_body", json={"accessToken": "z" * 200_000}),
    # truncated
    "truncated headers": raw(b"HTTP/1.1 200 OK\r\nContent-Type: appl"),
    "headers without their blank line": raw(b"HTTP/1.1 200 OK\r\n" + CT),
    "truncated status line": raw(b"HTTP/1.1 2"),
    "truncated body (Content-Length)": raw(response(body=TOKEN_BODY)[:-5]),
    "truncated chunked body": raw(b"HTTP/1.1 200 OK\r\n" + CT + b"Transfer-Encoding: chunked\r\n\r\n"
                                  b"17\r\n" + TOKEN_BODY),
    "1XX then close": raw(b"HTTP/1.1 100 Continue\r\n\r\n"),
    "101 without an upgrade asked": raw(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"),
    # garbage status lines
    "garbage status line": raw(b"GARBAGE\r\n\r\n"),
    "binary garbage": raw(bytes(range(256)) * 8),
    "NUL bytes only": raw(b"\0" * 64),
    "status not a number": raw(b"HTTP/1.1 abc OK\r\n\r\n"),
    "two-digit status": raw(b"HTTP/1.1 20 OK\r\n\r\n"),
    "four-digit status": raw(b"HTTP/1.1 2000 OK\r\n\r\n"),
    "unknown HTTP version": raw(response(status_line=b"HTTP/7.3 200 OK")),
    "status line only, CRLF missing": raw(b"HTTP/1.1 200 OK"),
    # malformed headers
    "header without colon": raw(response(headers=b"NoColonHere\r\n" + CT)),
    "NUL in a header": raw(response(headers=b"X-A: a\0b\r\n" + CT)),
    "Content-Length not a number": raw(response(headers=CT + b"Content-Length: abc\r\n", length=False)),
    "negative Content-Length": raw(response(headers=CT + b"Content-Length: -5\r\n", length=False)),
    "conflicting Content-Lengths": raw(response(headers=CT + b"Content-Length: 23\r\nContent-Length: 25\r\n",
                                                length=False)),
    "bad chunk size": raw(b"HTTP/1.1 200 OK\r\n" + CT + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    "chunk size overflow": raw(b"HTTP/1.1 200 OK\r\n" + CT + b"Transfer-Encoding: chunked\r\n\r\n"
                               b"ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
    "one 200 KB header line": raw(response(headers=b"X-Big: " + b"a" * 200_000 + b"\r\n" + CT)),
}


def test_header_line_over_libcurls_limit_says_so(noretry, server):
    with pytest.raises(codat.TransportError, match="header line is too long"):
        fetch(noretry, server, TRANSPORT_FAULTS["one 200 KB header line"])
    assert_usable(noretry, server)


@pytest.mark.parametrize("reply", TRANSPORT_FAULTS.values(), ids=TRANSPORT_FAULTS.keys())
def test_transport_faults_raise_transport_error(noretry, server, reply):
    with pytest.raises(codat.TransportError) as info:
        fetch(noretry, server, reply)
    e = info.value
    assert not isinstance(e, codat.Timeout)
    assert e.attempts == 1 and e.curl_code > 0
    assert str(e) and AUTH.split()[1] not in str(e)
    assert_usable(noretry, server)


@pytest.mark.parametrize("reply", [Reply(action="reset"), Reply(action="reset_mid_body"), Reply(action="truncate"),
                                   TRANSPORT_FAULTS["truncated headers"]],
                         ids=["reset", "reset_mid_body", "truncate", "truncated headers"])
def test_broken_answers_are_retried_and_the_answer_is_not_lost(server, reply):
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=FAST_RETRIES) as c:
        server.script("f", reply, reply)
        assert c.get_access_token("f") == {"accessToken": server.tokens_issued[-1]}
    assert server.request_count("f") == 3


# ---------------------------------------------------------------- odd but valid framing: a correct answer

CORRECT_FRAMINGS = {
    "HTTP/1.0 without Content-Length (body until close)": response(b"HTTP/1.0 200 OK", length=False),
    "HTTP/1.1 Connection: close, no Content-Length": response(headers=CT + b"Connection: close\r\n", length=False),
    "100 Continue, then 200": b"HTTP/1.1 100 Continue\r\n\r\n" + response(),
    "102 and 103 with headers, then 200": (b"HTTP/1.1 102 Processing\r\n\r\n"
                                           b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n"
                                           b"X-Rate-Limit-Limit: 5\r\nX-Rate-Limit-Remaining: 4\r\n\r\n" + response()),
    "chunked": (b"HTTP/1.1 200 OK\r\n" + CT + b"Transfer-Encoding: chunked\r\n\r\n"
                b"5\r\n" + TOKEN_BODY[:5] + b"\r\n12\r\n" + TOKEN_BODY[5:] + b"\r\n0\r\nX-Trailer: t\r\n\r\n"),
    "bare LF line ends": b"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 23\n\n" + TOKEN_BODY,
    "obsolete line folding": response(headers=b"X-A: a\r\n  folded\r\n" + CT),
    "HTTP/2 status line on HTTP/1.1": response(status_line=b"HTTP/2 200"),
    "no reason phrase": response(status_line=b"HTTP/1.1 200"),
    "10,000 headers": response(headers=b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) + CT),
    "a 90 KB header line": response(headers=b"X-Big: " + b"b" * 90_000 + b"\r\n" + CT),
    "Content-Type header twice": response(headers=b"Content-Type: text/plain\r\n" + CT),
}


@pytest.mark.parametrize("data", CORRECT_FRAMINGS.values(), ids=CORRECT_FRAMINGS.keys())
def test_odd_but_valid_framing_gives_the_token(noretry, server, data):
    assert fetch(noretry, server, raw(data)) == {"accessToken": "t-raw"}
    assert_usable(noretry, server)


def test_interim_response_headers_are_forgotten(server):
    # The 103's rate-limit figures belong to no final answer; the final one (no rate-limit headers) must
    # not inherit them.
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        assert fetch(c, server, raw(CORRECT_FRAMINGS["102 and 103 with headers, then 200"]))["accessToken"]
        assert c.rate_limit is None
        server.script("f", raw(b"HTTP/1.1 103 Early Hints\r\nX-Echo: interim\r\n\r\n"
                               + response(b"HTTP/1.1 418 Teapot", headers=b"X-Final: yes\r\n", body=b"no")))
        with pytest.raises(codat.SDKError) as info:
            c.get_access_token("f")
        assert info.value.status_code == 418
        assert info.value.headers.get("x-final") == "yes" and "x-echo" not in info.value.headers


def test_stand_in_1xx_without_final_answer_times_out(noretry, server):
    # The stand-in sends "HTTP/1.1 100 Continue" and then waits for the next request: only the timeout
    # ends that, and it does.
    t = time.monotonic()
    with pytest.raises(codat.Timeout):
        fetch(noretry, server, Reply(status=100), timeout_ms=300)
    assert time.monotonic() - t < 2
    assert_usable(noretry, server)


# ---------------------------------------------------------------- statuses the API never promised

@pytest.mark.parametrize("data", [
    response(b"HTTP/1.1 300 Multiple Choices", headers=CT + b"Location: /elsewhere\r\n"),
    response(b"HTTP/1.1 304 Not Modified", headers=b"", body=b""),
    response(b"HTTP/1.1 305 Use Proxy", headers=b"Location: http://127.0.0.1:9/\r\n", body=b""),
    response(b"HTTP/1.1 399 Odd Redirect", headers=CT + b"Location: /x\r\n"),
    response(b"HTTP/1.1 600 Beyond", headers=CT),
    response(b"HTTP/1.1 999 Weird", headers=CT),
], ids=["300", "304", "305", "399", "600", "999"])
def test_unpromised_statuses_are_sdk_errors(noretry, server, data):
    status = int(data.split()[1])
    with pytest.raises(codat.SDKError) as info:
        fetch(noretry, server, raw(data))
    assert info.value.status_code == status and f"status {status}" in str(info.value)
    assert server.request_count() == 1  # no redirect was followed
    assert_usable(noretry, server)


def test_latin1_header_bytes_are_kept(noretry, server):
    body = b'{"statusCode": 404, "error": "gone"}'
    data = response(b"HTTP/1.1 404 Not Found", headers=b"X-Odd: \xff\xfe caf\xe9\r\n" + CT, body=body)
    with pytest.raises(codat.ErrorMessage) as info:
        fetch(noretry, server, raw(data))
    assert info.value.headers["x-odd"] == "\xff\xfe caf\xe9"
    assert info.value.error == "gone"
    assert_usable(noretry, server)


# ---------------------------------------------------------------- the body cap

BIG_TOKEN = b'{"accessToken":"' + b"x" * (5 * 1024 * 1024) + b'"}'


@pytest.mark.parametrize("data", [
    response(b"HTTP/1.0 200 OK", body=BIG_TOKEN, length=False),
    b"HTTP/1.1 200 OK\r\n" + CT + b"Transfer-Encoding: chunked\r\n\r\n"
    + b"".join(b"%x\r\n" % len(BIG_TOKEN[i:i + 65536]) + BIG_TOKEN[i:i + 65536] + b"\r\n"
               for i in range(0, len(BIG_TOKEN), 65536)) + b"0\r\n\r\n",
    response(headers=CT + b"Content-Length: 99999999999999999999\r\n", length=False),
    response(headers=CT + b"Content-Length: 4194305\r\n", body=b"{}", length=False),
], ids=["close-delimited 5 MiB", "chunked 5 MiB", "absurd Content-Length", "Content-Length cap+1"])
def test_over_the_default_cap_is_sdk_error_however_framed(noretry, server, data):
    with pytest.raises(codat.SDKError, match="max_body_bytes") as info:
        fetch(noretry, server, raw(data))
    assert info.value.status_code == 200
    assert len(info.value.body) <= 4 * 1024 * 1024
    assert_usable(noretry, server)


def test_body_exactly_at_the_cap_is_accepted(server):
    cap = 4096
    body = b'{"accessToken":"' + b"y" * (cap - 18) + b'"}'
    assert len(body) == cap
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None, max_body_bytes=cap) as c:
        assert fetch(c, server, raw(response(body=body, length=False)))["accessToken"] == "y" * (cap - 18)
        with pytest.raises(codat.SDKError, match="max_body_bytes"):
            fetch(c, server, raw(response(body=body + b" ", length=False)))
        assert_usable(c, server)


def test_header_block_over_the_cap_is_sdk_error(server):
    # The header block is buffered (for SDKError.headers) under the same cap.
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None, max_body_bytes=1024) as c:
        with pytest.raises(codat.SDKError, match="max_body_bytes") as info:
            fetch(c, server, raw(response(headers=b"X-Big: " + b"h" * 3000 + b"\r\n" + CT)))
        assert info.value.status_code == 200
        assert_usable(c, server)


# ---------------------------------------------------------------- slow drip vs timeout_ms

def test_drip_slower_than_the_timeout_is_a_timeout(noretry, server):
    # ~40 bytes at 50 ms each (2 s) against 300 ms: each gap is short, the whole is not.
    t = time.monotonic()
    with pytest.raises(codat.Timeout) as info:
        fetch(noretry, server, Reply(action="drip", delay_s=0.05), timeout_ms=300)
    assert 0.25 < time.monotonic() - t < 1.5
    assert info.value.attempts == 1
    assert_usable(noretry, server)


def test_drip_of_the_headers_slower_than_the_timeout_is_a_timeout(noretry, server):
    t = time.monotonic()
    with pytest.raises(codat.Timeout):
        fetch(noretry, server, Reply(action="drip_head", delay_s=0.02), timeout_ms=300)
    assert time.monotonic() - t < 1.5
    assert_usable(noretry, server)


def test_drip_within_the_timeout_succeeds(noretry, server):
    token = fetch(noretry, server, Reply(action="drip", delay_s=0.005), timeout_ms=5000)
    assert token == {"accessToken": server.tokens_issued[-1]}
    assert_usable(noretry, server)


def test_dripped_timeout_is_retried_then_answered(server):
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=FAST_RETRIES, timeout_ms=300) as c:
        assert fetch(c, server, Reply(action="drip", delay_s=0.05)) == {"accessToken": server.tokens_issued[-1]}
    assert server.request_count("f") == 2


# ---------------------------------------------------------------- content types

@pytest.mark.parametrize("content_type", [
    None, "", "text/html", "text/json", "application/jsonp", "application/json-seq", "application/x-json",
    "application/problem+json", "application/json5", "json", "application", "*/*", "application/octet-stream",
])
def test_wrong_content_type_on_2xx_is_sdk_error(noretry, server, content_type):
    headers = b"" if content_type is None else b"Content-Type: %s\r\n" % content_type.encode()
    with pytest.raises(codat.SDKError) as info:
        fetch(noretry, server, raw(response(headers=headers)))
    assert info.value.status_code == 200
    assert info.value.body == TOKEN_BODY.decode()  # the body is reported, never returned as a token
    assert_usable(noretry, server)


# ---------------------------------------------------------------- invalid UTF-8 and JSON escapes

BAD_UTF8 = {
    "0xFF byte": b"\xff",
    "lone continuation byte": b"\x80",
    "overlong slash": b"\xc0\xaf",
    "overlong NUL": b"\xc0\x80",
    "UTF-8 encoded surrogate": b"\xed\xa0\x80",
    "past U+10FFFF": b"\xf4\x90\x80\x80",
    "five-byte form": b"\xf8\x88\x80\x80\x80",
    "cut-off sequence": b"\xe2\x82",
    "Latin-1 e-acute": b"caf\xe9",
}


@pytest.mark.parametrize("bad", BAD_UTF8.values(), ids=BAD_UTF8.keys())
def test_invalid_utf8_token_is_sdk_error_not_repaired(noretry, server, bad):
    body = b'{"accessToken": "tok' + bad + b'en"}'
    with pytest.raises(codat.SDKError) as info:
        fetch(noretry, server, json_reply(body))
    assert info.value.status_code == 200
    assert "expected a JSON object" in str(info.value)
    # an error body (ErrorMessage status) with broken bytes is an SDKError too, never a parsed object
    with pytest.raises(codat.SDKError) as info:
        fetch(noretry, server, json_reply(b'{"statusCode": 404, "error": "' + bad + b'"}', status=404))
    assert not isinstance(info.value, codat.ErrorMessage)
    assert_usable(noretry, server)


@pytest.mark.parametrize("body", [
    r'{"accessToken": "abc\u0000def"}',          # cJSON would cut the token at the NUL
    r'{"access\u0000Token": "abc"}',             # or the key
    r'{"accessToken": "\ud800"}',                # lone high surrogate escape
    r'{"accessToken": "\udc00x"}',               # lone low surrogate escape
    r'{"accessToken": "\ud800\u0041"}',          # high surrogate + non-surrogate
], ids=["NUL in value", "NUL in key", "lone high", "lone low", "broken pair"])
def test_json_escapes_that_cannot_round_trip_are_sdk_errors(noretry, server, body):
    with pytest.raises(codat.SDKError) as info:
        fetch(noretry, server, json_reply(body))
    assert info.value.body == body
    assert_usable(noretry, server)


@pytest.mark.parametrize("body", [
    r'{"accessToken": "\ud83d\ude00 \u00e9 \\u0000 \"q\" \/ \b\f\n\r\t"}',
    '{"accessToken": "\U0001f600 caf\u00e9 \u2028"}',
    r'{"accessToken": "\u0001\u001f\u007f"}',
])
def test_json_escapes_that_round_trip_are_exact(noretry, server, body):
    assert fetch(noretry, server, json_reply(body.encode())) == json.loads(body)


# ---------------------------------------------------------------- deeply nested and duplicate-key JSON

DEPTH = 100_000
NESTED = {
    "arrays in an object": '{"a":' + "[" * DEPTH + "]" * DEPTH + "}",
    "objects": '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "unclosed arrays": '{"a":' + "[" * DEPTH,
    "unclosed objects": '{"a":' * DEPTH,
    "just past cJSON's limit (1001)": '{"a":' + "[" * 1000 + "]" * 1000 + "}",
}


@pytest.mark.parametrize("body", NESTED.values(), ids=NESTED.keys())
def test_deeply_nested_json_is_refused_without_crashing(noretry, server, body):
    with pytest.raises(codat.SDKError) as info:
        fetch(noretry, server, json_reply(body))
    assert info.value.status_code == 200
    with pytest.raises(codat.SDKError) as info:  # an error status takes the same parser
        fetch(noretry, server, json_reply(body, status=500))
    assert not isinstance(info.value, codat.ErrorMessage)
    assert_usable(noretry, server)


def test_nesting_within_the_limit_converts_exactly(noretry, server):
    body = '{"a":' + "[" * 998 + "{}" + "]" * 998 + ', "accessToken": "deep"}'  # 1000 levels in all
    got = fetch(noretry, server, json_reply(body))
    assert got["accessToken"] == "deep"
    depth, node = 0, got["a"]
    while isinstance(node, list):
        depth, node = depth + 1, node[0]
    assert depth == 998 and node == {}


@pytest.mark.parametrize("body", [
    '{"accessToken": "first", "accessToken": "last"}',
    '{"accessToken": "a", "expiresIn": 1, "accessToken": "b", "expiresIn": 2, "tokenType": "Bearer"}',
    '{"accessToken": "t", "x": {"k": 1, "k": 2}, "x": {"k": 3, "k": [1, {"d": 0, "d": 1}]}}',
])
def test_duplicate_keys_last_wins_like_json_loads(noretry, server, body):
    got = fetch(noretry, server, json_reply(body))
    assert got == json.loads(body)
    assert list(got) == list(json.loads(body))  # and the key order is json.loads's too


def test_duplicate_keys_in_an_error_message(noretry, server):
    body = '{"statusCode": 404, "error": "first", "correlationId": "c1", "error": "second"}'
    with pytest.raises(codat.ErrorMessage) as info:
        fetch(noretry, server, json_reply(body, status=404))
    assert info.value.data == json.loads(body)
    assert info.value.error == "second" and "second" in str(info.value)


# ---------------------------------------------------------------- kept-alive connections the server closed

@pytest.mark.parametrize("action", ["close_idle", "reset_idle"])
def test_server_closing_idle_connections_is_invisible(server, action):
    # The server says nothing (no "Connection: close") and closes every connection after its answer.
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        for i in range(20):
            server.script("k", Reply(action=action))
            assert c.get_access_token("k") == {"accessToken": server.tokens_issued[-1]}
            if i % 5 == 0:
                time.sleep(0.02)  # sometimes the close has long arrived, sometimes only just
    assert server.request_count("k") == 20
    assert server.connections_opened == 20


@pytest.mark.parametrize("action", ["drop", "reset"])
def test_keep_alive_race_is_retried_even_without_retries(server, action):
    # The request goes out on the kept connection and the server closes it unanswered (its keep-alive
    # timeout fired at the same moment): the client must resend on a fresh connection, with retries off.
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        server.script("k", Reply(), Reply(action=action))
        first = c.get_access_token("k")["accessToken"]
        second = c.get_access_token("k")["accessToken"]
        assert first != second == server.tokens_issued[-1]
    assert server.request_count("k") == 3
    assert server.connections_opened == 2


def test_keep_alive_race_async_and_batch(server):
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        async def twice():
            await c.get_access_token_async("a")
            return await c.get_access_token_async("a")
        server.script("a", Reply(), Reply(action="drop"))
        assert asyncio.run(twice()) == {"accessToken": server.tokens_issued[-1]}

        c.get_access_tokens(["b"])  # warm the batch engine's connection
        server.script("b", Reply(action="reset"))
        out = c.get_access_tokens(["b"])
        assert out == {"b": {"accessToken": server.tokens_issued[-1]}}


# ---------------------------------------------------------------- TLS certificate failures

def _openssl(args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def bad_certs(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    d = str(tmp_path_factory.mktemp("faultcerts"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
              "-subj", "/CN=fault-injection test CA",
              "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    for name, san, days in [("wronghost", "DNS:wrong-host.invalid", "2"),
                            ("expired", "IP:127.0.0.1,DNS:localhost", "-1")]:  # notAfter = yesterday
        _openssl(["req", "-new", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}"], d)
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(f"basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName={san}\n")
        _openssl(["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
                  str(int.from_bytes(os.urandom(8), "big") >> 1), "-days", days, "-extfile", f"{name}.ext",
                  "-out", f"{name}.pem"], d)
    return {"ca": os.path.join(d, "ca.pem"),
            "wronghost": (os.path.join(d, "wronghost.pem"), os.path.join(d, "wronghost.key")),
            "expired": (os.path.join(d, "expired.pem"), os.path.join(d, "expired.key"))}


@pytest.mark.parametrize("kind,reason", [("wronghost", "subject name|host name|does not match"),
                                         ("expired", "expired")])
def test_bad_certificates_fail_unless_verify_false(bad_certs, server, kind, reason):
    with StandInServer(tls=True, cert=bad_certs[kind], auth_header=AUTH) as tls:
        # Even with the right CA bundle, and with retries on: one attempt, a clear error, nothing sent.
        with codat.Client(auth_header=AUTH, server_url=tls.url, verify=bad_certs["ca"]) as c:
            with pytest.raises(codat.TransportError, match=reason) as info:
                c.get_access_token("x")
            assert info.value.attempts == 1
            assert tls.request_count() == 0  # the Authorization header never left
            assert_usable(c, server, server_url=server.url)  # the same client, another server
        with codat.Client(auth_header=AUTH, server_url=tls.url) as c:  # system CAs
            with pytest.raises(codat.TransportError):
                c.get_access_token("x")
        with codat.Client(auth_header=AUTH, server_url=tls.url, verify=False) as c:
            assert c.get_access_token("x") == {"accessToken": tls.tokens_issued[-1]}


def test_tls_server_speaking_garbage(bad_certs):
    # A TLS server whose HTTP is broken: the failures stay clean over TLS too.
    with StandInServer(tls=True, cert=bad_certs["expired"]) as tls, \
            codat.Client(server_url=tls.url, verify=False, retries=None) as c:
        for reply in (raw(b"GARBAGE\r\n\r\n"), Reply(action="reset_mid_body"), Reply(action="truncate")):
            tls.script("x", reply)
            with pytest.raises(codat.TransportError):
                c.get_access_token("x")
        tls.script("x", Reply(), Reply(action="drop"))
        c.get_access_token("x")
        assert c.get_access_token("x") == {"accessToken": tls.tokens_issued[-1]}


# ---------------------------------------------------------------- no leak on the error paths

def c_heap_bytes():
    """Bytes in use in the C heap (glibc), which sys.getallocatedblocks() does not see: the core's own
    malloc'd buffers, libcurl's and cJSON's. 0 where mallinfo2 is missing (or ASan replaced malloc)."""
    try:
        libc = ctypes.CDLL(None)
        fn = libc.mallinfo2
    except (OSError, AttributeError):
        return 0

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")]
    fn.restype = MallInfo2
    m = fn()
    return m.uordblks + m.hblkhd


LEAK_CASES = {
    "garbage status line": (raw(b"GARBAGE\r\n\r\n"), {}),
    "closed mid-body": (Reply(action="truncate", json={"accessToken": "r" * 4000}), {}),
    "invalid UTF-8": (json_reply(b'{"accessToken": "a\xffb", "pad": "' + b"p" * 2000 + b'"}'), {}),
    "NUL escape": (json_reply(r'{"accessToken": "a\u0000b"}'), {}),
    "100,000 levels": (json_reply("[" * DEPTH), {}),
    "body over the cap": (raw(response(b"HTTP/1.0 200 OK", body=b"{" + b" " * 8000, length=False)),
                          {"max_body_bytes": 4096}),
    "headers over the cap": (raw(response(headers=b"X-Big: " + b"h" * 3000 + b"\r\n" + CT)),
                             {"max_body_bytes": 1024}),
    "duplicate keys (success)": (json_reply('{"accessToken": "a", "accessToken": "b", "x": [1, {"y": 2}]}'), {}),
    "interim 1XX (success)": (raw(CORRECT_FRAMINGS["102 and 103 with headers, then 200"]), {}),
    "keep-alive race (success)": (Reply(action="drop"), {}),
    "timeout": (Reply(action="silence"), {"timeout_ms": 1}),
}


@pytest.mark.parametrize("reply,client_kw", LEAK_CASES.values(), ids=LEAK_CASES.keys())
def test_no_leak_on_fault_paths(reply, client_kw):
    with StandInServer(rate_limit=10**9) as srv, \
            codat.Client(server_url=srv.url, retries=None, **client_kw) as c:
        cid = "leak-check"

        def rounds(n):
            for _ in range(n):
                if reply.action == "drop":  # the race needs a kept connection: answer once, then drop
                    srv.script(cid, Reply(), reply)
                    c.get_access_token(cid)
                else:
                    srv.script(cid, reply)
                try:
                    c.get_access_token(cid)
                except codat.CodatError:
                    pass
            srv.reset()
            gc.collect()
            return sys.getallocatedblocks(), c_heap_bytes(), sys.getrefcount(cid), sys.getrefcount(c)

        rounds(200)
        before = rounds(400)
        after = rounds(1200)
    # a leak of one object a call would keep 1200; other tests' leftovers (caches warming) make some noise
    assert after[0] - before[0] < 400, f"{after[0] - before[0]} Python blocks kept over 1200 calls"
    # 64 KiB of slack for allocator noise (the stand-in's buffers live in this process too); a leak of
    # even 64 bytes a call would be 75 KiB.
    assert after[1] - before[1] < 64 * 1024, f"C heap grew {after[1] - before[1]} bytes over 1200 calls"
    assert after[2:] == before[2:]
