"""Property tests of the Python API with random inputs (hypothesis): company ids, http_headers, timeout_ms,
RetryConfig fields, server_url, auth_header and api_key.

The promise under test: every input either works against the stand-in or raises TypeError or ValueError
(UnicodeEncodeError, for lone surrogates, is a ValueError) at once, sending nothing; nothing else escapes,
nothing crashes, and the client stays usable. Where a call works, what the stand-in received is exactly what
was given: the company id (percent-encoded on the wire, decoded by the stand-in), the header values, the
Authorization header.

Each expectation is computed by a small model of the documented rules, so a wrong exception type is caught
as surely as a missing one. Known gap: an int outside the C long range (timeout_ms, RetryConfig's ints and
exponent, max_body_bytes) raises OverflowError, an ArithmeticError; it is tolerated for exactly those inputs
(OVERFLOW below) until the binding turns it into ValueError.

Bounded: max_examples 150-400 per test, deadline None, no example database written to the work tree.
"""
import math
import base64
import re
import urllib.parse
import warnings

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

import codat_platform_c as codat
from codat_platform_c.testing import Reply, StandInServer, _magic_reply

LONG_MIN, LONG_MAX = -2**63, 2**63 - 1
OVERFLOW = ()  # the binding turns OverflowError into ValueError (once tolerated here)
TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Headers that change the request's framing or credentials: sending them is allowed, but the stand-in
# would then (rightly) answer something other than a token, or wait for a body that never comes.
# Refused in http_headers: libcurl frames the message and manages the connection itself.
FRAMING_HEADERS = {"content-length", "transfer-encoding", "host", "connection", "keep-alive", "upgrade",
                   "proxy-connection"}
CURL_BLANK = " \t\r\n\v\f"  # libcurl drops a custom header whose value is only these (it then means "remove")

SETTINGS = dict(deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])

ANY_CHAR = st.characters(exclude_categories=())  # every code point, lone surrogates included
EDGE_CHARS = list("aZ09-._~ /%?#\\@:;,+&=\x00\r\n\t\x0b\x0c\x7f\x80\x85\xa0\xff") + [
    "\u2028", "\ufeff", "\ufffd", "é", "€", "\U0001f600", "\udc80", "\ud800", "\U0010ffff"]


@pytest.fixture(scope="module")
def srv():
    with StandInServer(rate_limit=10**9) as s:
        yield s


@pytest.fixture(scope="module")
def client(srv):
    with codat.Client(auth_header="Basic QVBJX0tFWQ==", server_url=srv.url, retries=None) as c:
        yield c


def assert_usable(client, srv):
    srv.script("usable", Reply())
    token = client.get_access_token("usable")
    # "in", not "== [-1]": a request that timed out on our side may still get its token a moment later
    assert list(token) == ["accessToken"] and token["accessToken"] in srv.tokens_issued


def expect(expected, fn, *args, **kwargs):
    """Run fn; `expected` is None (must work: returns its value) or an exception class (or tuple)."""
    if expected is None:
        return fn(*args, **kwargs)
    try:
        fn(*args, **kwargs)
    except expected:
        return None
    except Exception as e:  # pragma: no cover - the failure message
        raise AssertionError(f"expected {expected}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {expected}, but the call worked")


# ---------------------------------------------------------------- company ids

def company_id_error(cid):
    """The exception a str company id must raise, or None."""
    try:
        raw = cid.encode("utf-8")
    except UnicodeEncodeError:
        return UnicodeEncodeError
    if not raw or b"\0" in raw or len(raw) > 1024:
        return ValueError
    return None


def wire_segment(cid):
    if cid in (".", ".."):
        return "%2E" * len(cid)
    return urllib.parse.quote(cid.encode("utf-8"), safe="-._~")


company_ids = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=ANY_CHAR, max_size=40),
    st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=40),
    st.text(alphabet=st.sampled_from(["é", "\U0001f600", "a", "%"]), min_size=240, max_size=300),
)


@settings(max_examples=500, **SETTINGS)
@given(cid=company_ids, company_endpoint=st.booleans())
@example(cid=".", company_endpoint=False)
@example(cid="..", company_endpoint=True)
@example(cid="../../admin", company_endpoint=False)
@example(cid="a" * 1024, company_endpoint=False)
@example(cid="a" * 1025, company_endpoint=False)
@example(cid="é" * 512, company_endpoint=False)
@example(cid="é" * 511 + "ab", company_endpoint=False)
@example(cid="\U0001f600" * 256, company_endpoint=True)
@example(cid="%2F%00", company_endpoint=False)
@example(cid="a\r\nHost: evil", company_endpoint=False)
def test_company_ids_round_trip_or_raise(client, srv, cid, company_endpoint):
    assume(_magic_reply(cid) is None)  # "silence", "status-503" ... are the stand-in's magic ids
    srv.reset()
    call = client.get_company_access_token if company_endpoint else client.get_access_token
    expected = company_id_error(cid)
    event(f"company id: {expected.__name__ if expected else 'sent'}")
    got = expect(expected, call, cid)
    if got is None:
        assert srv.request_count() == 0  # refused before anything was sent
    else:
        assert got["accessToken"] == srv.tokens_issued[-1]
        (req,) = srv.requests
        assert req.company_id == cid  # decoded by the stand-in: exactly the id given
        suffix = "/accessToken" if company_endpoint else "/connectionManagement/accessToken"
        assert req.raw_path == f"/companies/{wire_segment(cid)}{suffix}"
        assert req.endpoint == ("company" if company_endpoint else "connection_management")
    assert_usable(client, srv)


@settings(max_examples=150, **SETTINGS)
@given(cid=st.one_of(st.none(), st.integers(), st.floats(), st.binary(max_size=10), st.lists(st.text(), max_size=2),
                     st.tuples(st.text()), st.dictionaries(st.text(), st.text(), max_size=1), st.builds(object),
                     st.builds(bytearray, st.binary(max_size=4)), st.builds(memoryview, st.binary(max_size=4))))
def test_company_ids_of_other_types_are_type_errors(client, srv, cid):
    srv.reset()
    expect(TypeError, client.get_access_token, cid)
    expect(TypeError, client.get_company_access_token, cid)
    assert srv.request_count() == 0
    assert_usable(client, srv)


# ---------------------------------------------------------------- http_headers

def header_error(headers):
    if headers is None:
        return None
    if not isinstance(headers, dict):
        return TypeError
    for k, v in headers.items():
        if not isinstance(k, str) or not isinstance(v, str):
            return TypeError
        try:
            kb, vb = k.encode(), v.encode()
        except UnicodeEncodeError:
            return UnicodeEncodeError
        if not kb or any(chr(c) not in TOKEN_CHARS for c in kb):
            return ValueError
        if k.lower() in FRAMING_HEADERS:
            return ValueError
        if any(c in b"\r\n\0" for c in vb):
            return ValueError
    return None


header_names = st.one_of(st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=16),
                         st.text(max_size=8), st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=4),
                         st.sampled_from(["Accept", "User-Agent", "X-Request-Id", "Host", "Connection", "Expect",
                                          "Content-Length", "transfer-encoding"]))
header_values = st.one_of(st.text(max_size=40), st.text(alphabet=ANY_CHAR, max_size=20),
                          st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=20))
good_values = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\r\n\x00"), max_size=40)
good_headers = st.dictionaries(st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=16), good_values, max_size=5)
odd_headers = st.one_of(
    st.none(),
    st.dictionaries(st.one_of(header_names, st.integers(), st.binary(max_size=3), st.none()),
                    st.one_of(header_values, st.integers(), st.binary(max_size=3), st.none()), max_size=3),
    st.lists(st.tuples(st.text(max_size=3), st.text(max_size=3)), max_size=2),
    st.text(max_size=5), st.integers(), st.binary(max_size=5),
)
# about 40% well-formed dicts, 40% dicts of random str names and values, 20% anything else
headers_strategy = st.integers(0, 9).flatmap(
    lambda k: good_headers if k < 4 else st.dictionaries(header_names, header_values, max_size=5) if k < 8
    else odd_headers)


@settings(max_examples=500, **SETTINGS)
@given(headers=headers_strategy)
@example(headers={"X-A": "a\r\nX-Evil: 1"})
@example(headers={"X-A": "  padded\t"})
@example(headers={"X-A": "\v\f"})
@example(headers={"Accept": ""})
@example(headers={"X-A": "\udc80"})
@example(headers={"X\udc80": "v"})
@example(headers={"X-A": "é\U0001f600\x85\u2028"})
def test_http_headers_are_sent_verbatim_or_refused(client, srv, headers):
    if isinstance(headers, dict):
        assume(not any(isinstance(k, str) and k.lower() == "authorization" for k in headers))
    srv.reset()
    expected = header_error(headers)
    event(f"http_headers: {expected.__name__ if expected else 'sent'}")
    got = expect(expected, client.get_access_token, "h", http_headers=headers)
    if got is None:
        assert srv.request_count() == 0
    else:
        assert got == {"accessToken": srv.tokens_issued[-1]}
        (req,) = srv.requests
        lower = [k.lower() for k in headers or {}]
        for k, v in (headers or {}).items():
            if lower.count(k.lower()) > 1:
                continue  # both sent; the stand-in joins them
            if v.strip(CURL_BLANK) == "":
                assert k.lower() not in req.headers or k.lower() == "host"
            else:
                assert req.headers[k.lower()] == (" " + v).encode().decode("latin-1").strip(" \t")
        assert req.headers.get("authorization") == "Basic QVBJX0tFWQ=="  # never displaced
    assert_usable(client, srv)


# ---------------------------------------------------------------- timeout_ms

def timeout_error(t):
    if t is None:
        return None
    if isinstance(t, float):  # a computed timeout, as the official SDK accepts; fractions round up
        if math.isnan(t) or math.isinf(t) or t <= 0 or math.ceil(t) > LONG_MAX:
            return ValueError
        return None
    if not isinstance(t, int) or isinstance(t, bool):
        return TypeError
    if not LONG_MIN <= t <= LONG_MAX:
        return (ValueError,) + OVERFLOW
    if t <= 0:
        return ValueError
    return None


timeouts = st.one_of(st.none(), st.integers(-5, 5), st.integers(1, 10**7), st.integers(-2**70, 2**70),
                     st.sampled_from([LONG_MAX, LONG_MAX + 1, LONG_MIN, LONG_MIN - 1, 2**31, 2**32, 2**62]),
                     st.booleans(), st.floats(allow_nan=True), st.text(max_size=4), st.binary(max_size=2),
                     st.decimals(allow_nan=False, allow_infinity=False, places=1, max_value=10**6, min_value=-10))


@settings(max_examples=300, **SETTINGS)
@given(t=timeouts, where=st.sampled_from(["call", "client"]))
def test_timeout_ms_values_and_types(client, srv, t, where):
    srv.reset()
    expected = timeout_error(t)
    if expected is None and t is not None and t < 1000:
        expected_ok = (codat.Timeout,)  # 1 ms may really run out against a live server: also fine
    else:
        expected_ok = ()
    try:
        if where == "call":
            got = client.get_access_token("t", timeout_ms=t)
        else:
            with codat.Client(server_url=srv.url, timeout_ms=t, retries=None) as c:
                got = c.get_access_token("t")
    except expected_ok:
        got = "timed out"
    except Exception as e:
        if expected is None or not isinstance(e, expected):
            raise AssertionError(f"timeout_ms={t!r}: unexpected {type(e).__name__}: {e}") from e
        assert srv.request_count() == 0
    else:
        assert expected is None, f"timeout_ms={t!r} should raise {expected}"
        assert got == "timed out" or got["accessToken"] in srv.tokens_issued
    assert_usable(client, srv)


# ---------------------------------------------------------------- RetryConfig

def retry_error(r):
    """The exception retries=r must raise, or None: retry_from_python's rules, in its order."""
    if r is None:
        return None
    if not (hasattr(r, "status_codes") and hasattr(r, "initial_interval_ms")):
        return TypeError
    for name in ("initial_interval_ms", "max_interval_ms", "max_elapsed_ms"):
        v = getattr(r, name)
        if not isinstance(v, int) or isinstance(v, bool):
            return TypeError
        if not LONG_MIN <= v <= LONG_MAX:
            return (ValueError,) + OVERFLOW
        if v < 0:
            return ValueError
    e = r.exponent
    if isinstance(e, (str, bytes)) or e is None or not isinstance(e, (int, float)):
        return TypeError
    try:
        e = float(e)
    except OverflowError:
        return (ValueError,) + OVERFLOW
    if not (e >= 1.0) or e == float("inf"):
        return ValueError
    codes = r.status_codes
    if isinstance(codes, (str, bytes)) or not hasattr(codes, "__iter__"):
        return TypeError if not isinstance(codes, (str, bytes)) else status_items_error(list(codes))
    return status_items_error(list(codes))


def construct_error(fields):
    """The exception RetryConfig(**fields) must raise, or None: its checks, in its order."""
    for name in ("initial_interval_ms", "max_interval_ms"):
        v = fields[name]
        if not isinstance(v, int) or isinstance(v, bool):
            return TypeError
        if v > LONG_MAX or v < 0:
            return ValueError
    e = fields["exponent"]
    if not isinstance(e, (int, float)):
        return TypeError
    try:
        if not 1.0 <= float(e) < float("inf"):
            return ValueError
    except OverflowError:
        return ValueError
    v = fields["max_elapsed_ms"]
    if not isinstance(v, int) or isinstance(v, bool):
        return TypeError
    if v > LONG_MAX or v < 0:
        return ValueError
    if not isinstance(fields["retry_connection_errors"], int):
        return TypeError
    codes = fields["status_codes"]
    if isinstance(codes, (str, bytes)) or not hasattr(codes, "__iter__"):
        return TypeError
    for code in codes:
        text = str(code) if isinstance(code, int) else code
        if not (isinstance(text, str) and re.fullmatch(r"[1-5]([0-9][0-9]|[xX][xX])", text)):
            return ValueError
    return None


def status_items_error(items):
    for item in items:
        if isinstance(item, int):
            item = str(item)
        if not isinstance(item, str):
            return ValueError
        try:
            raw = item.encode().split(b"\0")[0]
        except UnicodeEncodeError:
            return UnicodeEncodeError
        if not (len(raw) == 3 and raw[:1] in (b"1", b"2", b"3", b"4", b"5")
                and (raw[1:].lower() == b"xx" or raw[1:].isdigit())):
            return ValueError
    return None


def retries_503(r):
    """Whether a 503 is retried under r (its status codes match 503)."""
    return any((str(c) if isinstance(c, int) else c) in ("503", "5XX", "5xx", "5xX", "5Xx") for c in r.status_codes)


good_ints = st.integers(0, 9).flatmap(lambda k: st.integers(0, 60) if k < 7 else st.integers(0, LONG_MAX))
ints = st.one_of(good_ints, good_ints, good_ints, good_ints, good_ints, good_ints, st.integers(-3, 60), st.integers(-2**70, 2**70),
                 st.sampled_from([0, 2**31, LONG_MAX, LONG_MAX + 1, LONG_MIN - 1]),
                 st.booleans(), st.floats(), st.text(max_size=2), st.none())
good_exponents = st.one_of(st.floats(1.0, 1e308), st.integers(1, 10))
exponents = st.one_of(good_exponents, good_exponents, good_exponents, good_exponents,
                      st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 10), st.integers(-2**1100, 2**1100),
                      st.sampled_from([1, 1.0, 1e308, 2**1024, 0.999]), st.text(max_size=2), st.none(), st.booleans())
status_code_items = st.one_of(
    st.sampled_from(["408", "429", "5XX", "5xx", "503", "1XX", "6XX", "XX", "55X", "", "abc", "0", "999", "100",
                     "599", "5X", "4\x0029", "٥٠٣", "\udc80\udc80\udc80"]),
    st.integers(-10, 1000), st.text(max_size=4), st.text(alphabet=ANY_CHAR, max_size=3))
good_codes = st.lists(st.one_of(st.sampled_from(["408", "429", "5XX", "5xx", "503", "1XX", "100", "599"]),
                                st.integers(100, 599)), max_size=4)
status_codes = st.one_of(good_codes, good_codes, good_codes, st.lists(status_code_items, max_size=4), st.tuples(),
                         st.text(max_size=4), st.integers())


@st.composite
def retry_configs(draw):
    kind = ["init"] * 6 + ["raw"] * 2 + ["none", "other"]
    kind = kind[draw(st.integers(0, 9))]
    if kind == "none":
        return None
    if kind == "other":
        return draw(st.one_of(st.integers(), st.text(max_size=3), st.just(object()), st.dictionaries(st.text(), st.integers(), max_size=1)))
    if draw(st.integers(0, 9)) < 5:  # half the time every field is well-formed
        i, e, c = good_ints, good_exponents, good_codes
    else:
        i, e, c = ints, exponents, status_codes
    fields = dict(initial_interval_ms=draw(i), max_interval_ms=draw(i), exponent=draw(e),
                  max_elapsed_ms=draw(i),
                  retry_connection_errors=draw(st.one_of(st.booleans(), st.none(), st.integers(), st.text(max_size=2))),
                  status_codes=draw(c))
    if kind == "init":
        expected = construct_error(fields)
        if expected is None:
            return codat.RetryConfig(**fields)
        # RetryConfig() refuses what a call would refuse, at once and naming the field; the same fields
        # set afterwards (below) must still be refused by the call.
        with pytest.raises(expected):
            codat.RetryConfig(**fields)
    r = codat.RetryConfig()
    for k, v in fields.items():  # attributes set afterwards skip __init__'s str() of each status code
        setattr(r, k, v)
    return r


@settings(max_examples=500, **SETTINGS)
@given(r=retry_configs(), where=st.sampled_from(["call", "client"]))
@example(r=codat.RetryConfig(initial_interval_ms=LONG_MAX, max_interval_ms=LONG_MAX, exponent=1e308,
                             max_elapsed_ms=LONG_MAX), where="call")
@example(r=codat.RetryConfig(initial_interval_ms=0, max_interval_ms=0, max_elapsed_ms=0), where="call")
def test_retry_config_fields(client, srv, r, where):
    srv.reset()
    expected = retry_error(r)
    event(f"retries: {getattr(expected, '__name__', expected) if expected else 'valid'}")
    # When the config is valid and its waits are short, script one 503 first to run the retry path too.
    small = (expected is None and r is not None and r.initial_interval_ms <= 50 and r.max_interval_ms <= 50
             and r.max_elapsed_ms <= 5000)
    if small:
        event("retries: a 503 scripted first")
        srv.script("r", Reply(status=503))
    try:
        if where == "call":
            got = client.get_access_token("r", retries=r)
        else:
            with codat.Client(server_url=srv.url, retries=r) as c:
                got = c.get_access_token("r")
    except codat.ErrorMessage as e:
        assert small and e.status_code == 503, f"retries={r!r}: {e!r}"
        # not retried: the status is not in the list, or the first wait would pass the budget
        assert not retries_503(r) or r.max_elapsed_ms < 1000
        assert srv.request_count() == 1
    except Exception as e:
        if expected is None or not isinstance(e, expected):
            raise AssertionError(f"retries={r!r}: unexpected {type(e).__name__}: {e}") from e
        assert srv.request_count() == 0
    else:
        assert expected is None, f"retries={r!r} should raise {expected}"
        assert got == {"accessToken": srv.tokens_issued[-1]}
        assert srv.request_count() == (2 if small else 1)
        if small:
            assert retries_503(r)
    assert_usable(client, srv)


# ---------------------------------------------------------------- server_url

def url_shape_ok(u):
    """The promised shape of any accepted server_url (what the validator guarantees)."""
    try:
        u.encode()
    except UnicodeEncodeError:
        return False
    low = u.lower()
    if not (low.startswith("http://") or low.startswith("https://")):
        return False
    if any(ord(c) <= 0x20 or ord(c) == 0x7f or c in "?#" for c in u):
        return False
    authority = u.split("://", 1)[1].split("/", 1)[0]
    return bool(authority) and "@" not in authority and not authority.startswith(":")


@settings(max_examples=500, **SETTINGS)
@given(u=st.one_of(st.text(max_size=30), st.text(alphabet=st.sampled_from(EDGE_CHARS + list("htps:/[]1")), max_size=20),
                   st.builds(lambda s, rest: s + rest, st.sampled_from(["http://", "https://", "HTTP://", "hTtPs://", "http:/", "ftp://", ""]),
                             st.text(max_size=25))))
@example(u="http://127.0.0.1:99999")
@example(u="http://127.0.0.1:-1")
@example(u="http://[::1")
@example(u="http://h:8080:9090")
@example(u="http://h{x}")
@example(u="http://user@h")
@example(u="http://\udc80")
@example(u="http://a\x00b")
def test_server_url_validation_without_network(u):
    # Only the constructor: it validates and connects nowhere, so any host name is safe here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plain http:// to a remote host warns
        try:
            c = codat.Client(server_url=u, retries=None)
        except (TypeError, ValueError):
            event("server_url: refused")
            return
    event("server_url: accepted")
    c.close()
    assert url_shape_ok(u), f"accepted {u!r}"


@settings(max_examples=150, **SETTINGS)
@given(u=st.one_of(st.integers(), st.binary(max_size=8), st.floats(), st.lists(st.text(max_size=3), max_size=2)))
def test_server_url_of_other_types(client, srv, u):
    srv.reset()
    expect(TypeError, codat.Client, server_url=u)
    expect(TypeError, client.get_access_token, "u", server_url=u)
    assert srv.request_count() == 0


@settings(max_examples=500, **SETTINGS)
@given(scheme=st.sampled_from(["http", "HTTP", "Http", "hTTp"]),
       host=st.sampled_from(["127.0.0.1", "localhost", "LOCALHOST"]),
       suffix=st.one_of(st.sampled_from(["", "/", "//", "///", "/companies/..", "/a/..", "/./", "/%2e/", "/x", "/?",
                                         "/#", "/ ", "/\t", "/@x", "/%", "/%zz", "/é", ":", ":0", ":65536", "/..;/"]),
                        st.text(max_size=12).map(lambda s: "/" + s),
                        st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=6).map(lambda s: "/" + s)))
def test_server_url_pointing_at_the_stand_in(client, srv, scheme, host, suffix):
    # Every URL here names the stand-in (loopback, its port); what follows the port is random. The call
    # raises TypeError/ValueError before sending, or the stand-in answers (a token, or 404 for a path
    # that does not lead to the endpoint): never a transport error, and nothing goes anywhere else.
    url = f"{scheme}://{host}:{srv.port}{suffix}"
    srv.reset()
    for attempt in ("call", "client"):
        try:
            if attempt == "call":
                got = client.get_access_token("u", server_url=url)
            else:
                with codat.Client(server_url=url, retries=None) as c:
                    got = c.get_access_token("u")
        except (TypeError, ValueError):
            assert srv.request_count() == 0
            assert not url_shape_ok(url) or suffix.startswith(":"), f"refused {url!r}"
            continue
        except codat.ErrorMessage as e:
            event("stand-in server_url: 404")
            assert e.status_code == 404, url
            assert suffix.strip("/") != "", url  # the plain base URL always reaches the endpoint
        else:
            event("stand-in server_url: token")
            assert got == {"accessToken": srv.tokens_issued[-1]}
        assert srv.request_count() >= 1 and srv.requests[-1].company_id in ("u", None)
        srv.reset()
    assert_usable(client, srv)


# ---------------------------------------------------------------- credentials

@settings(max_examples=300, **SETTINGS)
@given(secret=st.one_of(st.text(max_size=30), st.text(alphabet=ANY_CHAR, max_size=10),
                        st.text(alphabet=st.sampled_from(EDGE_CHARS), max_size=10),
                        st.none(), st.integers(), st.binary(max_size=4)),
       as_key=st.booleans())
@example(secret="Basic abc\r\nX-Evil: 1", as_key=False)
@example(secret=" ", as_key=False)
@example(secret="ключ", as_key=True)
def test_auth_header_and_api_key(srv, secret, as_key):
    srv.reset()
    kw = {"api_key" if as_key else "auth_header": secret}
    if secret is None:
        expected = None
    elif not isinstance(secret, str):
        expected = TypeError
    else:
        try:
            raw = secret.encode()
            # A blank one is refused too: libcurl would send no Authorization at all.
            expected = (ValueError if (not raw or any(c in b"\r\n\0" for c in raw) or secret.strip(CURL_BLANK) == "")
                        else None)
        except UnicodeEncodeError:
            expected = UnicodeEncodeError
    c = expect(expected, codat.Client, server_url=srv.url, retries=None, **kw)
    if c is None:
        return
    with c:
        assert c.get_access_token("a") == {"accessToken": srv.tokens_issued[-1]}
        sent = srv.requests[-1].headers.get("authorization")
        if secret is None:
            assert sent is None
        elif as_key:
            assert sent == "Basic " + base64.b64encode(secret.encode()).decode()
        else:
            assert sent == (" " + secret).encode().decode("latin-1").strip(" \t")
        if secret is not None and len(secret) >= 12:
            assert secret not in repr(c).replace(srv.url, "")
