"""HTTPS: verification on by default, a CA bundle, verify=False, and TLS session reuse."""
from pathlib import Path

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


# verify=True finds the CA store as Python's ssl does (codat_platform_c/_ca.py): the wheel's bundled libcurl
# only knows Debian's path. The stand-in's CA lives in a temporary directory, a non-default path.

@pytest.fixture
def no_ca_env(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return monkeypatch


def _trusts(server):
    """A verify=True client's call to server succeeds (True) or fails on the certificate (False)."""
    with codat.Client(auth_header=AUTH, server_url=server.url) as c:
        try:
            return bool(c.get_access_token("x")["accessToken"])
        except codat.TransportError as e:
            assert "certificate" in str(e).lower() or "SSL" in str(e)
            return False


def _hashed_ca_dir(ca_path, directory):
    """A c_rehash-style directory holding the CA as <subject hash>.0, as SSL_CERT_DIR expects."""
    import shutil
    import subprocess
    subject_hash = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", ca_path], check=True,
                                  capture_output=True, text=True).stdout.strip()
    shutil.copy(ca_path, directory / f"{subject_hash}.0")
    return directory


def test_ssl_cert_file_is_honoured(tls_server, no_ca_env):
    assert not _trusts(tls_server)
    no_ca_env.setenv("SSL_CERT_FILE", tls_server.ca_path)
    assert _trusts(tls_server)


def test_ssl_cert_dir_is_honoured(tls_server, no_ca_env, tmp_path):
    no_ca_env.setenv("SSL_CERT_DIR", str(_hashed_ca_dir(tls_server.ca_path, tmp_path)))
    assert _trusts(tls_server)


def test_ssl_cert_dir_may_be_a_list_as_for_openssl(tls_server, no_ca_env, tmp_path):
    ca_dir = _hashed_ca_dir(tls_server.ca_path, tmp_path)
    no_ca_env.setenv("SSL_CERT_DIR", f"{tmp_path / 'absent'}:{ca_dir}")
    assert _trusts(tls_server)


def test_ssl_cert_file_comes_before_ssl_cert_dir(tls_server, no_ca_env, tmp_path):
    no_ca_env.setenv("SSL_CERT_FILE", tls_server.ca_path)
    no_ca_env.setenv("SSL_CERT_DIR", str(tmp_path))  # empty: would not trust the stand-in
    assert _trusts(tls_server)


def test_missing_ssl_cert_file_is_skipped_as_ssl_does(tls_server, no_ca_env, tmp_path):
    no_ca_env.setenv("SSL_CERT_FILE", str(tmp_path / "absent.pem"))
    no_ca_env.setenv("SSL_CERT_DIR", str(_hashed_ca_dir(tls_server.ca_path, tmp_path)))
    assert _trusts(tls_server)


def test_verify_path_overrides_the_environment(tls_server, no_ca_env):
    no_ca_env.setenv("SSL_CERT_FILE", tls_server.ca_path)
    from codat_platform_c.testing import StandInServer
    with StandInServer(tls=True) as other:  # its own, different CA
        with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=other.ca_path) as c:
            with pytest.raises(codat.TransportError):
                c.get_access_token("x")
    with codat.Client(auth_header=AUTH, server_url=tls_server.url, verify=False) as c:
        assert c.get_access_token("x")["accessToken"]


def test_verify_may_be_a_certificate_directory(tls_server, tmp_path):
    with codat.Client(auth_header=AUTH, server_url=tls_server.url,
                      verify=str(_hashed_ca_dir(tls_server.ca_path, tmp_path))) as c:
        assert c.get_access_token("x")["accessToken"]
    with pytest.raises(FileNotFoundError, match="not a readable file or directory"):
        codat.Client(auth_header=AUTH, verify=str(tmp_path / "absent"))


def test_system_bundle_of_another_distribution(tls_server, no_ca_env, tmp_path):
    # As on RHEL: no Debian bundle, the system's at /etc/pki/tls/certs/ca-bundle.crt (here a temporary path).
    from codat_platform_c import _ca
    rhel_bundle = tmp_path / "ca-bundle.crt"
    rhel_bundle.write_text(Path(tls_server.ca_path).read_text())
    no_ca_env.setattr(_ca, "SYSTEM_CA_FILES", (str(tmp_path / "absent.crt"), str(rhel_bundle)))
    assert _ca.default_verify_location() == str(rhel_bundle)
    assert _trusts(tls_server)


def test_certifi_is_the_last_resort(no_ca_env):
    from codat_platform_c import _ca
    no_ca_env.setattr(_ca, "SYSTEM_CA_FILES", ())
    certifi = pytest.importorskip("certifi")
    assert _ca.default_verify_location() == certifi.where()
    no_ca_env.setitem(__import__("sys").modules, "certifi", None)  # as if not installed
    assert _ca.default_verify_location() is None
