"""A token, as the API promises it: the request on the wire and the value returned."""
import base64
import re

import codat_platform_c as codat
from conftest import AUTH

CID = "8a210b68-6988-11ed-a1eb-0242ac120002"


def test_connection_management_token(client, server):
    token = client.get_access_token(CID)
    assert token == {"accessToken": server.tokens_issued[-1]}
    req = server.requests[-1]
    assert req.method == "GET"
    assert req.raw_path == f"/companies/{CID}/connectionManagement/accessToken"
    assert req.endpoint == "connection_management"


def test_company_token(client, server):
    token = client.get_company_access_token(CID)
    assert token == {"accessToken": server.tokens_issued[-1], "expiresIn": 86400, "tokenType": "Bearer"}
    assert isinstance(token["expiresIn"], int)
    assert server.requests[-1].raw_path == f"/companies/{CID}/accessToken"


def test_headers_sent(client, server):
    client.get_access_token(CID)
    h = server.requests[-1].headers
    assert h["authorization"] == AUTH
    assert h["accept"] == "application/json"
    assert re.fullmatch(r"codat-platform-c/\S+ libcurl/\S+ python/\d+\.\d+\.\d+", h["user-agent"])
    assert h["user-agent"] == codat.USER_AGENT


def test_auth_header_sent_verbatim(server):
    odd = "Bearer  some.token-with spaces"
    with codat.Client(auth_header=odd, server_url=server.url, retries=None) as c:
        try:
            c.get_access_token("x")
        except codat.ErrorMessage as e:
            assert e.status_code == 401  # the stand-in expects AUTH
    assert server.requests[-1].headers["authorization"] == odd


def test_api_key_builds_basic_header(server):
    with codat.Client(api_key="API_KEY", server_url=server.url) as c:
        assert c.get_access_token("x")["accessToken"]
    assert server.requests[-1].headers["authorization"] == "Basic " + base64.b64encode(b"API_KEY").decode()


def test_api_key_base64_all_lengths(server):
    # Padding cases: key length mod 3 = 0, 1, 2, and a non-ASCII key (UTF-8 bytes).
    for key in ("abc", "abcd", "abcde", "ключ"):
        with codat.Client(api_key=key, server_url=server.url, retries=None) as c:
            try:
                c.get_access_token("x")
            except codat.ErrorMessage:
                pass
        want = "Basic " + base64.b64encode(key.encode()).decode()
        assert server.requests[-1].headers["authorization"] == want


def test_tokens_are_fresh_each_call(client, server):
    a = client.get_access_token(CID)["accessToken"]
    b = client.get_access_token(CID)["accessToken"]
    assert a != b and [a, b] == server.tokens_issued[-2:]


def test_company_id_is_one_encoded_segment(client, server):
    for hostile, encoded in [
        ("../admin", "..%2Fadmin"),
        ("a/b", "a%2Fb"),
        ("..", "%2E%2E"),
        ("x?y=1#z", "x%3Fy%3D1%23z"),
        ("100%", "100%25"),
        ("sp ace", "sp%20ace"),
        ("é", "%C3%A9"),
        ("a\r\nX-Evil: 1", "a%0D%0AX-Evil%3A%201"),
    ]:
        client.get_access_token(hostile)
        req = server.requests[-1]
        assert req.raw_path == f"/companies/{encoded}/connectionManagement/accessToken"
        assert req.company_id == hostile
        assert "x-evil" not in req.headers


def test_server_url_trailing_slash_and_path_prefix(server):
    with codat.Client(auth_header=AUTH, server_url=server.url + "/") as c:
        c.get_access_token("x")
    assert server.requests[-1].raw_path == "/companies/x/connectionManagement/accessToken"


def test_per_call_server_url_and_headers(client, server):
    client.get_access_token("x", server_url=server.url, http_headers={"X-Request-Id": "r1"})
    assert server.requests[-1].headers["x-request-id"] == "r1"
    assert server.requests[-1].headers["authorization"] == AUTH


def test_per_call_headers_override_accept(client, server):
    client.get_access_token("x", http_headers={"Accept": "application/json;v=2"})
    assert server.requests[-1].headers["accept"] == "application/json;v=2"


def test_rate_limit_figures(client, server):
    assert client.rate_limit is None
    client.get_access_token("x")
    rl = client.rate_limit
    assert rl["limit"] == 1000
    assert rl["remaining"] == server.rate_limit_remaining
    assert rl["reset"].endswith("GMT")
    client.get_access_token("x")
    assert client.rate_limit["remaining"] == rl["remaining"] - 1


def test_context_manager_and_close(server):
    with codat.Client(auth_header=AUTH, server_url=server.url) as c:
        c.get_access_token("x")
        assert not c.closed
    assert c.closed
    try:
        c.get_access_token("x")
    except ValueError as e:
        assert "closed" in str(e)
    else:
        raise AssertionError("a closed client must raise")
    c.close()  # idempotent


def test_module_level_default_client(server, monkeypatch):
    monkeypatch.setenv("CODAT_AUTH_HEADER", AUTH)
    monkeypatch.setenv("CODAT_SERVER_URL", server.url)
    monkeypatch.setattr(codat, "_default", None)
    assert codat.get_access_token("x") == {"accessToken": server.tokens_issued[-1]}
    assert codat.get_company_access_token("x")["tokenType"] == "Bearer"
    assert codat.default_client() is codat.default_client()
    codat.default_client().close()


def test_module_level_default_client_api_key(server, monkeypatch):
    monkeypatch.delenv("CODAT_AUTH_HEADER", raising=False)
    monkeypatch.setenv("CODAT_API_KEY", "API_KEY")
    monkeypatch.setenv("CODAT_SERVER_URL", server.url)
    monkeypatch.setattr(codat, "_default", None)
    assert codat.get_access_token("x")["accessToken"] == server.tokens_issued[-1]
    codat.default_client().close()


def test_keep_alive_reuses_one_connection(client, server):
    for _ in range(50):
        client.get_access_token("x")
    assert server.connections_opened == 1


def test_reconnects_after_server_closes(client, server):
    from codat_platform_c.testing import Reply
    server.script("x", Reply(action="close_after"))
    client.get_access_token("x")
    client.get_access_token("x")  # the kept connection is gone: a fresh one, no error
    assert server.connections_opened == 2
    assert server.request_count("x") == 2


def test_version_and_user_agent():
    assert codat.__version__ == codat._core.__version__
    assert codat.USER_AGENT.startswith(f"codat-platform-c/{codat.__version__} libcurl/{codat.LIBCURL_VERSION}")
