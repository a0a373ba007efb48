"""HTTPS: verification on by default, a CA bundle, verify=False, and TLS session reuse."""
import pytest

import codat_platform_c as codat
from conftest import AUTH


def test_https_with_ca_bundle(tls_server):
    with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=tls_server.ca_path) as c:
        assert c.get_access_token("x") == {"accessToken": tls_server.tokens_issued[-1]}
        assert c.get_company_access_token("x")["tokenType"] == "Bearer"
        for _ in range(20):
            c.get_access_token("x")
    assert tls_server.connections_opened == 1  # one handshake, then keep-alive


def test_https_localhost_name(tls_server):
    url = tls_server.url.replace("127.0.0.1", "localhost")
    with codat.Client(auth_header=AUTH, server_url=url, verify=tls_server.ca_path) as c:
        assert c.get_access_token("x")["accessToken"]


def test_untrusted_certificate_fails_without_retrying(tls_server):
    with codat.Client(auth_header=AUTH, server_url=tls_server.url) as c:  # system CAs only
        with pytest.raises(codat.TransportError) as info:
            c.get_access_token("x")
    assert info.value.attempts == 1  # a certificate problem does not heal with time
    assert "certificate" in str(info.value).lower() or "SSL" in str(info.value)
    assert tls_server.request_count() == 0


def test_verify_false(tls_server):
    with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=False) as c:
        assert c.get_access_token("x")["accessToken"]


def test_tls_threads_share_sessions(tls_server):
    import threading
    with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=tls_server.ca_path) as c:
        errors = []

        def work():
            try:
                for _ in range(50):
                    c.get_access_token("t")
            except Exception as e:  # pragma: no cover
                errors.append(e)

        ts = [threading.Thread(target=work) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert not errors
    assert tls_server.request_count("t") == 200
