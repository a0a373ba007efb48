"""Proxies from the environment: the same variables as libcurl (and httpx) use, read when the Client is
made. A plain-HTTP forward proxy on loopback records the absolute-form request lines it is sent."""
import json
import socket
import threading

import pytest

import codat_platform_c as codat
from conftest import AUTH

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "no_proxy", "NO_PROXY")


class RecordingProxy:
    """Answers every request itself (it forwards nothing), with a token naming itself."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.request_lines = []
        self.headers = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                self.request_lines.append(lines[0])
                self.headers.append({k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])})
                body = json.dumps({"accessToken": "via-proxy"}).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                             % len(body) + body)

    def close(self):
        self.sock.close()


@pytest.fixture
def proxy(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    p = RecordingProxy()
    yield p
    p.close()


def dead_url():
    """A loopback URL nobody listens on: reached only through the proxy."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % s.getsockname()[1]


def test_http_proxy_from_the_environment(proxy, monkeypatch):
    target = dead_url()
    monkeypatch.setenv("http_proxy", proxy.url)
    with codat.Client(auth_header=AUTH, server_url=target, retries=None) as c:
        assert c.get_access_token("acme")["accessToken"] == "via-proxy"
        out = c.get_access_tokens([f"b{i}" for i in range(600)], concurrency=8)  # helper threads too
        assert all(v == {"accessToken": "via-proxy"} for v in out.values())
    assert proxy.request_lines[0] == f"GET {target}/companies/acme/connectionManagement/accessToken HTTP/1.1"
    assert len(proxy.request_lines) == 601
    assert proxy.headers[0]["authorization"] == AUTH  # the API's header, sent to the proxy as asked


def test_all_proxy_and_upper_case_names(proxy, monkeypatch):
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    with codat.Client(auth_header=AUTH, server_url=dead_url(), retries=None) as c:
        assert c.get_access_token("acme")["accessToken"] == "via-proxy"


def test_upper_case_HTTP_PROXY_is_ignored(proxy, monkeypatch, server):
    # as libcurl does: a CGI script's HTTP_PROXY comes from the client's "Proxy:" header ("httpoxy")
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        assert c.get_access_token("acme")["accessToken"] != "via-proxy"
    assert proxy.request_lines == [] and server.request_count() == 1


def test_no_proxy_goes_direct(proxy, monkeypatch, server):
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as c:
        assert c.get_access_token("acme")["accessToken"] != "via-proxy"
    assert proxy.request_lines == [] and server.request_count() == 1


def test_the_environment_is_read_when_the_client_is_made(proxy, monkeypatch, server):
    with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as before:
        monkeypatch.setenv("http_proxy", proxy.url)
        assert before.get_access_token("a")["accessToken"] != "via-proxy"
        with codat.Client(auth_header=AUTH, server_url=server.url, retries=None) as after:
            assert after.get_access_token("b")["accessToken"] == "via-proxy"
    assert proxy.request_lines == [f"GET {server.url}/companies/b/connectionManagement/accessToken HTTP/1.1"]


def test_per_call_server_url_picks_the_proxy_for_its_scheme(proxy, monkeypatch, server):
    # https_proxy applies to https:// URLs only; this call is http://, so it goes direct
    monkeypatch.setenv("https_proxy", proxy.url)
    with codat.Client(auth_header=AUTH, retries=None) as c:  # default server is https://api.codat.io
        assert c.get_access_token("acme", server_url=server.url)["accessToken"] != "via-proxy"
    assert proxy.request_lines == []


def test_dead_proxy_is_a_transport_error(proxy, monkeypatch):
    monkeypatch.setenv("http_proxy", dead_url())
    with codat.Client(auth_header=AUTH, server_url=dead_url(), retries=None) as c:
        with pytest.raises(codat.TransportError) as ei:
            c.get_access_token("acme")
        assert AUTH not in str(ei.value)
