"""No credential ever surfaces, however a hostile or careless server echoes it back.

Credentials: the client's auth header, an Authorization passed per call in http_headers, the SDK facade's
security= callable's header, and the plain key given as api_key= (with what it gives away: its base64 form,
the whole header, the credential part). Echoes: literal, and in every escape a reader would decode
(JSON \\uXXXX in either case, \\/, surrogate-free mixes, %XX, HTML character references), in the body,
in the headers, in X-Rate-Limit-Reset. Places: str(e), repr(e), e.args, every attribute, the body decoded
every way, the returned dict, client.rate_limit, log records at DEBUG, warnings, tracebacks, the CLI's
output.
"""
import asyncio
import base64
import html
import json
import logging
import os
import subprocess
import sys
import traceback
import urllib.parse
import warnings

import pytest

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer

# "+", "/" and "=" in the base64 credential, so that every escape style has something to escape; the key
# itself holds characters JSON, URLs and HTML escape, and a non-ASCII one.
KEY = "sk_live_>>?é-Rx"
CRED = base64.b64encode(KEY.encode()).decode()
AUTH = "Basic " + CRED
assert "+" in CRED and "/" in CRED and CRED.endswith("=")
OTHER_KEY = "per-call+key/Ω-123456"
OTHER_AUTH = "Basic " + base64.b64encode(OTHER_KEY.encode()).decode()


def forms(auth):
    """What must never be seen: the header, its credential and the key it encodes."""
    cred = auth.split(" ", 1)[1]
    return [auth, cred, cred.rstrip("="), base64.b64decode(cred).decode()]


def u_all(s, upper=True):
    return "".join(f"\\u{ord(c):04X}" if upper else f"\\u{ord(c):04x}" for c in s)


def u_some(s):
    """System.Text.Json's default: '+' (and any non-ASCII character) as \\u escapes, the rest literal."""
    return "".join(f"\\u{ord(c):04X}" if c in "+&<>'" or ord(c) > 127 else c for c in s)


def slashes(s):
    return s.replace("/", "\\/")


def mixed(s):
    out = []
    for i, c in enumerate(s):
        if ord(c) > 127:
            out.append(f"\\u{ord(c):04x}")
        elif i % 3 == 0:
            out.append(f"\\u{ord(c):04x}")
        elif i % 3 == 1 and c == "/":
            out.append("\\/")
        else:
            out.append(c)
    return "".join(out)


def percent(s):
    return urllib.parse.quote(s, safe="")


def html_refs(s):
    return "".join(f"&#{ord(c)};" if i % 2 else f"&#x{ord(c):x};" for i, c in enumerate(s))


JSON_ESCAPES = {"literal": lambda s: s, "u-upper-some": u_some, "u-all-upper": u_all,
                "u-all-lower": lambda s: u_all(s, False), "solidus": slashes, "mixed": mixed,
                "u-then-solidus": lambda s: slashes(u_some(s))}
TEXT_ESCAPES = {"percent": percent, "html": html_refs, "plus-entity": lambda s: s.replace("+", "&plus;")}


def views(value):
    """Every way a user could read value: as is, and each decoding of it."""
    text = value if isinstance(value, str) else repr(value)
    out = [text, urllib.parse.unquote(text), html.unescape(text)]
    try:
        out.append(json.dumps(json.loads(text), ensure_ascii=False))
    except (ValueError, TypeError):
        pass
    try:
        out.append(json.loads(f'"{text}"'))
    except ValueError:
        pass
    return out


def surfaces(exc):
    """Every place an exception shows something."""
    seen = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    seen += [repr(v) for v in vars(exc).values()]
    for name in ("body", "error", "data", "headers", "correlation_id", "validation"):
        v = getattr(exc, name, None)
        if v is not None:
            seen += views(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    seen += [repr(n) for n in getattr(exc, "__notes__", [])]
    return seen


def assert_hidden(places, secrets):
    for place in places:
        for secret in secrets:
            assert secret not in place, f"{secret!r} in {place[:300]!r}"


@pytest.fixture(scope="module")
def srv():
    with StandInServer() as s:
        yield s


@pytest.fixture
def client(srv):
    srv.reset()
    with codat.Client(auth_header=AUTH, server_url=srv.url, retries=None) as c:
        yield c


def error_reply(text, status=401):
    body = '{"statusCode": %d, "service": "PublicApi", "error": "%s", "correlationId": "c-%s", ' \
           '"validation": {"errors": [{"item": "%s", "message": "%s"}]}, "%s": 1}' % (
               status, text, text, text, text, text)
    return Reply(status=status, body=body, content_type="application/json")


@pytest.mark.parametrize("escape", sorted(JSON_ESCAPES))
@pytest.mark.parametrize("status", [401, 400, 200])
def test_escaped_echo_in_a_json_body_is_redacted(client, srv, escape, status):
    """401: ErrorMessage (e.data, e.error...); 400: SDKError; 200: an object without a token string."""
    enc = JSON_ESCAPES[escape]
    text = f"you sent {enc(AUTH)}; API key {enc(KEY)} is revoked; credential {enc(CRED)}"
    srv.script("e", error_reply(text, status))
    with pytest.raises(codat.SDKError if status != 401 else codat.ErrorMessage) as info:
        client.get_access_token("e")
    assert_hidden(surfaces(info.value), forms(AUTH))
    assert "[REDACTED]" in info.value.body
    if status == 401:
        assert info.value.error.startswith("you sent [REDACTED]; API key [REDACTED] is revoked")
    assert client.get_access_token("fine")["accessToken"]


@pytest.mark.parametrize("escape", sorted(TEXT_ESCAPES))
def test_url_and_html_escaped_echo_in_a_text_body_and_headers(client, srv, escape):
    enc = TEXT_ESCAPES[escape]
    srv.script("e", Reply(status=502, body=f"<p>Authorization: {enc(AUTH)}</p><p>{enc(KEY)}</p>",
                          content_type="text/html", headers={"X-Echo": enc(AUTH), "X-Key": enc(CRED)}))
    with pytest.raises(codat.SDKError) as info:
        client.get_access_token("e")
    assert_hidden(surfaces(info.value), forms(AUTH))
    assert info.value.headers["x-echo"] == "[REDACTED]"


def test_escape_only_the_parser_resolves_is_redacted_in_decoded_strings(client, srv):
    """A doubly escaped echo: the raw text holds "\\\\u002B", the decoded string "\\u002B", which a reader
    decodes once more by eye."""
    doubly = u_some(AUTH).replace("\\", "\\\\")
    srv.script("e", error_reply(doubly))
    with pytest.raises(codat.ErrorMessage) as info:
        client.get_access_token("e")
    e = info.value
    assert_hidden([json.loads(f'"{e.error}"'), json.loads(f'"{e.data["error"]}"')], forms(AUTH))


def test_echo_in_a_successful_answer_is_redacted(client, srv):
    srv.script("s", Reply(body='{"accessToken": "tok-1", "debug": "%s", "%s": 2}' % (u_some(AUTH), mixed(KEY)),
                          content_type="application/json"))
    got = client.get_access_token("s")
    assert got["accessToken"] == "tok-1" and got["debug"] == "[REDACTED]"
    assert_hidden([json.dumps(got, ensure_ascii=False)], forms(AUTH))


def test_per_call_authorization_is_redacted(srv):
    srv.reset()
    with codat.Client(server_url=srv.url, retries=None) as c, \
            codat.Client(auth_header=AUTH, server_url=srv.url, retries=None) as with_own:
        for client in (c, with_own):
            for header in ("Authorization", "authorization", "Proxy-Authorization"):
                srv.script("e", error_reply(f"{u_some(OTHER_AUTH)} {slashes(OTHER_KEY)} {u_all(AUTH)}"))
                with pytest.raises(codat.ErrorMessage) as info:
                    client.get_access_token("e", http_headers={header: OTHER_AUTH})
                # The client's own credential is hidden too, even when the call replaced it.
                assert_hidden(surfaces(info.value), forms(OTHER_AUTH) + (forms(AUTH) if client is with_own else []))


def test_per_call_authorization_is_redacted_in_batches_and_async(srv):
    srv.reset()
    with codat.Client(server_url=srv.url, retries=None) as c:
        srv.script("b", error_reply(mixed(OTHER_AUTH)))
        results = c.get_access_tokens(["b", "ok"], http_headers={"Authorization": OTHER_AUTH})
        assert isinstance(results["b"], codat.ErrorMessage) and results["ok"]["accessToken"]
        assert_hidden(surfaces(results["b"]), forms(OTHER_AUTH))
        srv.script("a", error_reply(u_all(OTHER_KEY), status=503))

        async def go():
            return await c.get_access_token_async("a", http_headers={"Authorization": OTHER_AUTH})
        with pytest.raises(codat.ErrorMessage) as info:
            asyncio.run(go())
        assert_hidden(surfaces(info.value), forms(OTHER_AUTH))


def test_api_key_and_its_forms_are_redacted(srv):
    srv.reset()
    with codat.Client(api_key=KEY, server_url=srv.url, retries=None) as c:
        srv.script("k", error_reply(f"API key {KEY} is revoked ({slashes(CRED)}, {u_some(AUTH)})", 403))
        with pytest.raises(codat.ErrorMessage) as info:
            c.get_access_token("k")
        assert info.value.error == "API key [REDACTED] is revoked ([REDACTED], [REDACTED])"
        assert_hidden(surfaces(info.value), forms(AUTH) + [KEY])


def test_sdk_facade_security_callable_is_redacted(srv):
    from codat_platform_c.sdk import CodatPlatform
    from codat_platform_c.sdk.models import errors, shared
    srv.reset()
    calls = []

    def rotating():
        calls.append(1)
        return shared.Security(auth_header=OTHER_AUTH)

    with CodatPlatform(security=rotating, server_url=srv.url, retry_config=None) as cp:
        srv.script("f", error_reply(f"{u_some(OTHER_AUTH)} {mixed(OTHER_KEY)}", 401))
        with pytest.raises(errors.ErrorMessage) as info:
            cp.companies.get_access_token(request={"company_id": "f"}, retries=None)
        e = info.value
        places = [str(e), repr(e), repr(e.args), e.body, repr(e.data), repr(e.headers),
                  "".join(traceback.format_exception(e))] + surfaces(e.raw_response)
        assert_hidden(places, forms(OTHER_AUTH))
        # A 200 whose model fails carries the body too.
        srv.script("g", Reply(body='{"accessToken": "t", "expiresIn": "%s", "tokenType": "B"}' % u_some(OTHER_AUTH),
                              content_type="application/json"))
        with pytest.raises(errors.ResponseValidationError) as info:
            cp.companies.get_access_token(request={"company_id": "g"}, retries=None)
        assert_hidden([str(info.value), info.value.body, repr(info.value.args)], forms(OTHER_AUTH))
    assert calls


def test_rate_limit_reset_never_holds_a_secret(client, srv):
    for echo in (AUTH, u_some(CRED), KEY, "x" * 60 + AUTH):  # the last: past the 63-byte buffer
        srv.script("r", Reply(json={"accessToken": "t"}, headers={"X-Rate-Limit-Reset": echo}))
        client.get_access_token("r")
        reset = client.rate_limit["reset"]
        assert_hidden(views(reset), forms(AUTH) + [AUTH[:30], CRED[:20]])
        assert reset == "[REDACTED]"


def test_debug_logs_warnings_and_repr_never_hold_a_secret(srv):
    srv.reset()
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("codat_platform_c")
    keep, old_level = Keep(), logger.level
    logger.addHandler(keep)
    logger.setLevel(logging.DEBUG)
    try:
        places = run_logged_calls(srv)
    finally:
        logger.removeHandler(keep)
        logger.setLevel(old_level)
    # failures that are raised log at DEBUG (issue 12: no WARNING for an error the caller gets), retries at INFO
    assert {r.levelno for r in records} >= {logging.DEBUG, logging.INFO}
    places += [r.getMessage() for r in records]
    assert_hidden(places, forms(AUTH))


def run_logged_calls(srv):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with codat.Client(auth_header=AUTH, server_url=srv.url,
                          retries=codat.RetryConfig(initial_interval_ms=1, max_interval_ms=2,
                                                    max_elapsed_ms=2000)) as c:
            srv.script("l", error_reply(u_some(AUTH), 503), error_reply(KEY, 500), error_reply(CRED, 404))
            with pytest.raises(codat.ErrorMessage):
                c.get_access_token("l", http_headers={"X-Note": "n"})
            text = repr(c)
        codat.Client(auth_header=AUTH, server_url="http://example.invalid").close()  # warns: plain http
    places = [str(x.message) for x in w] + [text]
    assert any("unencrypted" in p for p in places)
    return places


def test_cli_never_prints_a_secret_and_prints_one_line(srv):
    srv.reset()
    srv.script("c", error_reply(f"bad {u_some(AUTH)}\\n\\u001b[31mred {KEY}", 401))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODAT_")}
    env["CODAT_API_KEY"] = KEY
    r = subprocess.run([sys.executable, "-m", "codat_platform_c", "token", "c", "--server-url", srv.url,
                        "--no-retries"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "\x1b" not in r.stderr  # the server's terminal escape is shown, not obeyed
    assert_hidden(views(r.stderr), forms(AUTH))


def test_a_body_cut_at_max_body_bytes_never_ends_in_part_of_a_secret():
    """The cap cuts the body between two reads; the first may end inside an echo, which must not show."""
    import socket
    import threading
    import time
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    url = "http://127.0.0.1:%d" % lsock.getsockname()[1]
    echo = u_some(AUTH)
    first = ("x" * (1000 - len(echo) // 2) + echo[:len(echo) // 2]).encode()

    def serve():
        conn, _ = lsock.accept()
        with conn:
            while b"\r\n\r\n" not in conn.recv(65536):
                pass
            # no length: the body runs until the connection closes, so nothing refuses it up front
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + first)
            time.sleep(0.2)
            try:
                conn.sendall(echo[len(echo) // 2:].encode() + b"y" * 3000)
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    try:
        with codat.Client(auth_header=AUTH, server_url=url, retries=None, max_body_bytes=1024) as c:
            with pytest.raises(codat.SDKError, match="max_body_bytes") as info:
                c.get_access_token("cut")
        body = info.value.body
        assert body.startswith("x" * 100) and body.endswith("[REDACTED]")
        # no tail of the body spells even the first few characters of the credential
        assert_hidden(views(body), [CRED[:6], AUTH[:12]])
    finally:
        lsock.close()


def test_proxy_credentials_are_redacted(monkeypatch):
    """http_proxy=http://user:password@proxy: libcurl sends Proxy-Authorization; a proxy's 407 page that
    echoes it (or the password) must not show it."""
    import socket
    import threading
    password = "pr0xy+pass/word"
    header = "Basic " + base64.b64encode(f"agent:{password}".encode()).decode()
    seen = []
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)

    def serve():
        conn, _ = lsock.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(65536)
            sent = [ln.split(":", 1)[1].strip() for ln in head.decode("latin-1").split("\r\n")
                    if ln.lower().startswith("proxy-authorization:")]
            seen.extend(sent)
            body = f"<p>bad credentials {u_some(sent[0]) if sent else ''} for agent:{percent(password)}</p>".encode()
            conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Type: text/html\r\n"
                         b"Content-Length: %d\r\nX-Echo: %s\r\n\r\n" % (len(body), (sent[0] if sent else "").encode())
                         + body)

    threading.Thread(target=serve, daemon=True).start()
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                 "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", "http://agent:%s@127.0.0.1:%d" % (percent(password),
                                                                      lsock.getsockname()[1]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # plain http to a non-loopback name (through the proxy)
            c = codat.Client(server_url="http://api.example.invalid", retries=None)
        with c, pytest.raises(codat.SDKError) as info:
            c.get_access_token("p")
    finally:
        lsock.close()
    assert seen == [header]  # the proxy did get them
    assert info.value.status_code == 407
    assert_hidden(surfaces(info.value), [header, header.split()[1], password, f"agent:{password}"])
