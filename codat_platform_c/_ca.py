"""Where verify=True finds the CA certificates, as Python's ssl module finds them.

The wheel bundles its own libcurl and OpenSSL, built on Debian: their compiled-in CA paths are Debian's, which
RHEL, Fedora, openSUSE and Alpine do not have. So the client looks, in this order: SSL_CERT_FILE, then
SSL_CERT_DIR (the variables OpenSSL, and so Python's ssl, honour), then the system bundles of the common
distributions, then certifi's bundle if certifi is installed. None found: libcurl's own default.
"""
import os

# The PEM bundle each distribution family maintains, most common first (the list Go's crypto/x509 uses).
SYSTEM_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",                 # Debian, Ubuntu, Arch, Gentoo, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",                   # Fedora, RHEL 6+, CentOS
    "/etc/ssl/ca-bundle.pem",                             # openSUSE, SLES
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL 7+, CentOS 7+
    "/etc/ssl/cert.pem",                                  # Alpine, macOS, the BSDs
)


def _readable_file(path):
    return os.path.isfile(path) and os.access(path, os.R_OK)


def default_verify_location():
    """The CA bundle file or certificate directory for verify=True, or None for libcurl's default. What is
    missing or unreadable is passed over, as OpenSSL passes it over for Python's ssl."""
    cert_file = os.environ.get("SSL_CERT_FILE")
    if cert_file and _readable_file(cert_file):
        return cert_file
    # OpenSSL reads SSL_CERT_DIR as a list (like PATH); libcurl takes one directory: the first usable one.
    for cert_dir in os.environ.get("SSL_CERT_DIR", "").split(os.pathsep):
        if cert_dir and os.path.isdir(cert_dir) and os.access(cert_dir, os.R_OK | os.X_OK):
            return cert_dir
    for path in SYSTEM_CA_FILES:
        if _readable_file(path):
            return path
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()
