"""Stand-in Codat Platform API server, for testing code offline.

``StandInServer`` is a small, fast HTTP/1.1 (optionally HTTPS, and optionally
HTTP/2 over HTTPS) server that imitates the two Codat Platform API endpoints
that hand out company access tokens.  It runs on its own asyncio event loop in
a background daemon thread, so it can be used from ordinary synchronous
tests.  Only the standard library is needed (HTTPS certificates are made with
the ``openssl`` command line tool, or with the ``cryptography`` package when
the tool is missing); ``http2=True`` also needs the ``h2`` package.

Quick start::

    from codat_platform_c.testing import StandInServer, Reply

    with StandInServer() as srv:                 # listens on 127.0.0.1:<free port>
        srv.script("acme", Reply(status=503), Reply(status=503))
        ...  # point your client at srv.url; the first two requests for company
             # "acme" get 503, later ones succeed
        assert srv.request_count("acme") == 3

From a shell::

    python -m codat_platform_c.testing --port 8080 [--tls [--http2]] [--auth-header "Basic abc"]
    curl -s http://127.0.0.1:8080/companies/acme/accessToken
    curl -s http://127.0.0.1:8080/companies/status-429/accessToken

Endpoints
---------
``GET /companies/{companyId}/connectionManagement/accessToken``
    (deprecated endpoint; such a token lasts one hour) -> 200
    ``{"accessToken": "tok-..."}``.  Codat retired it on 2026-10-12; with
    ``StandInServer(retired_connection_management=True)`` (or
    ``--retired-connection-management``) it answers as Codat does since: 404
    ``{"statusCode": 404, "service": "PublicApi", "error": "NotFound",
    "correlationId": "...", "canBeRetried": "Unknown", "detailedErrorCode": 0}``
    to every authorised request, whatever is scripted.
``GET /companies/{companyId}/accessToken``
    (its replacement) -> 200
    ``{"accessToken": "tok-...", "expiresIn": 86400, "tokenType": "Bearer"}``

A few other read-only endpoints answer as Codat's OpenAPI spec describes them, so that an
application that uses more of the SDK than the tokens can be tried too (see ``companies``):

``GET /companies`` (``page``, ``pageSize``) -> 200 a page of Companies
``GET /companies/{companyId}`` -> 200 a Company, 404 for an unknown id
``GET /companies/{companyId}/connections`` (``page``, ``pageSize``) -> 200 a page of Connections
``GET /profile`` -> 200 the Profile

``srv.companies`` (a dict id -> name; two demo companies, ``DEMO_COMPANIES``, to start with and after
``reset()``) is the data they serve; each company has one linked sandbox connection.  Paging follows
``page`` (from 1) and ``pageSize`` (1 to 5000; otherwise 400) with HAL ``_links``.  A ``status-NNN``
company id answers NNN with an ErrorMessage; scripts apply to the token endpoints only.

``companyId`` is one percent-encoded path segment.  The server decodes it
with ``urllib.parse.unquote`` (``a%2Fb`` -> ``a/b``); records keep both the
raw request target and the decoded company id.  Each default success gets a
new token, ``tok-<n>-<16 hex digits>``, where n counts up from 1 for the
life of the server (``reset()`` does not restart it).

Every other path gets 404.  Any method other than GET gets 405 (with
``Allow: GET``).  Query strings are ignored (but recorded).

Headers on every response
-------------------------
``X-Rate-Limit-Limit``
    the ``rate_limit`` constructor argument (default 1000).
``X-Rate-Limit-Remaining``
    a daily counter.  It starts at the limit and goes down by one for each
    authorised request.  It never goes below 0.  It starts again at the
    limit at 00:00 UTC and on ``reset()``.
``X-Rate-Limit-Reset``
    the next 00:00 UTC, as an HTTP-date (``Tue, 02 Jan 2024 00:00:00 GMT``).

By default the counter only feeds these headers.  With
``enforce_rate_limit=True``, requests made after it reaches 0 get a 429
ErrorMessage with ``Retry-After`` (the seconds left until the reset).

JSON responses use ``Content-Type: application/json; charset=utf-8``.  HTTP/1.1
connections stay open (keep-alive) unless the request says
``Connection: close``.  HTTP/1.0 connections stay open only when the request
says ``Connection: keep-alive``.

Errors
------
An error reply has a body shaped like Codat's ErrorMessage::

    {"statusCode": 404, "service": "PublicApi", "error": "...",
     "correlationId": "<32 hex digits>",
     "validation": {"errors": [], "warnings": []},
     "canBeRetried": "Unknown", "detailedErrorCode": 0}

Checks are made in this order:

1. With ``auth_header="Basic ..."``, a request whose ``Authorization`` header
   is not exactly that string gets 401.  It does not use up any of the rate
   limit.
2. With ``enforce_rate_limit=True`` and the counter at 0, the request gets
   429.
3. Any method other than GET gets 405.
4. Any unknown path gets 404; the other read-only endpoints answer here.
5. The scripted replies and magic company ids below.
6. The default success.

Malformed requests get 400.  A request head over 64 KiB gets 431.  A request
body over 1 MiB gets 413.  An HTTP version other than 1.x gets 505.  All
four of these close the connection and are not recorded.

Scripting replies
-----------------
``srv.script(company_id, *replies)`` adds ``Reply`` objects to the queue for
that company id (after decoding).  Each request to either token endpoint for
that company takes the next one.  ``srv.script_default(*replies)`` adds to a
shared queue.  A company uses the shared queue only when its own queue is
empty or it has none.  Each token request gets, in this order:

1. the next reply in the company's own queue,
2. the reply of a magic company id (below),
3. the next reply in the shared queue,
4. the default success.

``Reply(status=200, json=None, body=None, content_type=None, headers=None,
delay_s=0.0, action=None, reason=None)``:

* ``reason``: the HTTP/1.1 status line's reason phrase (Codat sends its own,
  such as ``400 Invalid company``); None: the standard phrase.  HTTP/2 has
  none.

* ``json=obj``: the body is ``obj`` as JSON, with ``Content-Type:
  application/json; charset=utf-8``.  Because ``json=None`` means "not
  given", send a JSON ``null`` with ``body="null",
  content_type="application/json"``.
* ``body=bytes|str``: the body is sent as given (str as UTF-8).  The
  ``content_type`` defaults to ``text/plain; charset=utf-8``.
* Neither given: status 200 gets the default success with a new token.
  Status >= 400 gets an ErrorMessage for that status.  Status 204, 304 and
  1xx get no body.  Any other status gets an empty body.
* ``content_type``: replaces the Content-Type.
* ``headers``: extra response headers, for example ``{"Retry-After": "2"}``.
  A header given here replaces the default header of the same name
  (case-insensitive), Content-Length included.
* ``delay_s``: wait this many seconds before answering.  The wait is
  asynchronous: other connections are served meanwhile.  With
  ``action="drip"`` it means something else (see below).
* ``action``:

  ``"silence"``
      never answer.  Keep reading (and throwing away) whatever the client
      sends until it closes the connection or the server stops.
  ``"drop"``
      after ``delay_s``, close the connection (FIN) without sending anything.
  ``"reset"``
      after ``delay_s``, abort the connection with a TCP RST (``SO_LINGER``
      0, then close).
  ``"drip"``
      send the status line and headers (with the true Content-Length) at
      once.  Then send the body one byte at a time, waiting ``delay_s``
      seconds before each byte (0.05 s if ``delay_s`` is 0).  The whole body
      takes ``len(body) * delay_s``.  The connection stays open afterwards.
  ``"truncate"``
      after ``delay_s``, send the headers with the true Content-Length but
      only the first half of the body, then close.  The client gets fewer
      bytes than Content-Length announced.
  ``"close_after"``
      answer normally with ``Connection: close``, then close the connection.
      The client must open a new connection for its next request.
  ``"close_idle"``
      answer normally *without* ``Connection: close`` (the client is told
      the connection stays open), then close it (FIN) at once, as a server
      whose keep-alive timeout ran out does.  The client's pooled
      connection is dead by its next request.
  ``"reset_idle"``
      like ``"close_idle"``, but abort the connection with a TCP RST.
  ``"reset_mid_body"``
      after ``delay_s``, send the headers (true Content-Length) and the
      first half of the body, wait 0.05 s (so that the client has read the
      headers), then abort with a TCP RST.
  ``"drip_head"``
      like ``"drip"``, but the status line and headers are dripped too, one
      byte every ``delay_s`` (0.05 s if 0): a "slow loris" server.
  ``"raw"``
      after ``delay_s``, send ``body`` verbatim as the *entire* response
      (status line, headers, body: nothing is added, no Content-Length, no
      rate-limit headers), then close the connection (FIN).  ``body`` is
      required.  For garbage status lines, malformed or huge headers,
      HTTP/1.0 bodies delimited by the close, interim 1XX responses, chunked
      bodies, invalid UTF-8 and the like.  For example::

          Reply(action="raw", body=b"HTTP/1.1 100 Continue\\r\\n\\r\\n"
                b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
                b"Content-Length: 2\\r\\n\\r\\n{}")

  A connection closed by the server *before* it answered a request that
  came on a kept-alive connection (``Reply(), Reply(action="drop")``) is
  the keep-alive race every HTTP client must survive.

A redirect is just ``Reply(status=302, headers={"Location": url})``.

Magic company ids (no scripting needed; handy from a shell)
-----------------------------------------------------------
``status-NNN``
    ``Reply(status=NNN)``, for NNN from 100 to 599.  For example
    ``/companies/status-503/accessToken``.
``slow-MS``
    wait MS milliseconds, then succeed (``slow-1500``).
``silence``
    never answer.
``action-drop``, ``action-reset``, ``action-truncate``, ``action-close_after``, ``action-drip``
    (and ``action-`` with any other action above except ``raw``)
    the matching ``Reply(action=...)``.  ``action-drip`` drips the default
    success at 50 ms per byte.

A company's own script queue comes before its magic.

Inspecting traffic
------------------
``srv.requests``
    a snapshot list of ``RecordedRequest``.  Fields: ``method``,
    ``raw_path`` (the request target as sent, query included), ``path``
    (decoded, no query), ``query``, ``company_id`` (decoded, or None),
    ``endpoint`` (``"connection_management"`` | ``"company"`` | None),
    ``headers`` (dict with lower-case names), ``body`` (bytes), ``time``
    (``time.monotonic()`` when the request head had been read),
    ``connection_id`` (the number of the TCP connection it came on, from 1)
    and ``http_version`` (``"1.1"``, ``"1.0"`` or ``"2"``).
``srv.request_count(company_id=None)``
    the number of recorded requests, for all companies or for one.
``srv.connections_opened``
    the number of TCP connections accepted since start or the last
    ``reset()``.  With TLS a connection counts once its handshake has
    finished.  Use it to show that keep-alive connections are reused.
``srv.tokens_issued``
    a snapshot list of the tokens handed out by default successes.
``srv.rate_limit_remaining``
    the current value of the daily counter.
``srv.peak_concurrent_streams``
    the largest number of HTTP/2 streams that were open at once on any one
    connection since start or the last ``reset()`` (0 without HTTP/2).  A
    stream is open from its request headers until its answer has been sent
    or it is reset.  Use it to show that a client multiplexes.
``srv.errors``
    internal server errors, as strings.  It should stay empty.
``srv.reset()``
    clear the scripts, records, tokens, connection count, stream peak and
    errors, and refill the rate-limit counter.  It does not close open
    connections.

Other attributes
----------------
``srv.url``
    ``http://127.0.0.1:PORT``, or ``https://...`` with ``tls=True``.
``srv.port`` and ``srv.host``
    the address the server listens on.  ``host`` should be an IP address
    (a name such as ``localhost`` may bind several sockets; only the first
    one's port is reported).
``srv.ca_path``
    with ``tls=True``: the path of a PEM CA certificate to give clients as
    their CA bundle.  The server's own certificate is signed by this CA and
    names IP:127.0.0.1 and DNS:localhost in its subjectAltName.  Both are
    made when the server starts, in a temporary directory that ``stop()``
    removes.  It is None without TLS.

``StandInServer(tls=True, cert=(cert_path, key_path))`` serves the given
PEM certificate (chain) and key instead, for testing certificate failures
(a wrong host name, an expired certificate); ``srv.ca_path`` is then None
and the files are neither copied nor removed.

HTTP/2
------
``StandInServer(tls=True, http2=True)`` (it needs ``tls=True`` and the ``h2``
package, ``pip install h2``) offers ALPN ``h2`` and ``http/1.1`` in the TLS
handshake.  A connection that picks ``h2`` is served as HTTP/2; any other
(``http/1.1`` or no ALPN) gets the HTTP/1.1 server described above, byte for
byte.  Without ``http2`` only ``http/1.1`` is offered.

Each HTTP/2 stream is one request and goes through the same checks,
scripting, magic ids and records as an HTTP/1.1 request (``http_version``
``"2"``; the ``:authority`` pseudo-header is recorded as ``host`` when the
request has no ``host`` header).  Response headers are the same ones in lower
case, minus ``connection``, ``keep-alive``, ``proxy-connection``,
``transfer-encoding`` and ``upgrade`` (also when a ``Reply`` gives them).
The server advertises ``SETTINGS_MAX_CONCURRENT_STREAMS`` 100, acknowledges
request data as it arrives and sends bodies within the flow-control windows.
``delay_s`` delays only its own stream.  Actions over HTTP/2:

``"silence"``
    never answer that stream; the other streams go on.
``"reset"``
    after ``delay_s``, reset that stream only (RST_STREAM INTERNAL_ERROR).
``"drop"``
    after ``delay_s``, close the whole connection (FIN, no GOAWAY); every
    unanswered stream on it is lost.
``"close_after"``
    answer, then send GOAWAY (NO_ERROR) and close the connection.
``"close_idle"`` / ``"reset_idle"``
    answer, then close the connection (FIN) / abort it (TCP RST), no GOAWAY.
``"drip"``, ``"drip_head"``, ``"truncate"``, ``"reset_mid_body"``, ``"raw"``
    are byte-level HTTP/1.1 faults and are not supported over HTTP/2: the
    server notes an error in ``srv.errors`` (naming the action and the
    stream) and resets the stream with INTERNAL_ERROR.

An answer h2 refuses to send (a 1xx status as the final answer, a header name
or value HTTP/2 does not allow) is handled the same way: noted in
``srv.errors``, stream reset.

A request body over 1 MiB gets 413 (not recorded), then RST_STREAM NO_ERROR.
A client that breaks the HTTP/2 protocol gets GOAWAY and the connection is
closed.

``stop()`` closes every connection at once (silent ones too) and joins the
thread.  Calling it again does nothing.  ``start()`` returns once the
server is listening.  The server can also be used as a context manager.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import email.utils
import http
import json as _json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Set, Tuple, Union

__all__ = ["StandInServer", "Reply", "RecordedRequest", "DEMO_COMPANIES", "serve", "main"]

ACTIONS = frozenset({"silence", "drop", "reset", "drip", "truncate", "close_after",
                     "raw", "drip_head", "reset_mid_body", "close_idle", "reset_idle"})
RESET_MID_BODY_PAUSE_S = 0.05

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_DRIP_INTERVAL_S = 0.05
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"

_TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VERSION_RE = re.compile(r"^HTTP/(\d)\.(\d)$")
_MAGIC_STATUS = re.compile(r"^status-(\d{3})$")
_MAGIC_SLOW = re.compile(r"^slow-(\d{1,9})$")

_ERROR_TEXT = {
    400: "Bad request: the request could not be understood.",
    401: "Unauthorized: the credentials you have supplied are invalid or expired.",
    402: "Payment required.",
    403: "You are not authorized to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    413: "Request body too large.",
    429: "Too many requests: the daily request quota for this client has been used up.",
    431: "Request header fields too large.",
    500: "An unexpected error occurred.",
    502: "Bad gateway.",
    503: "Service unavailable.",
    504: "Gateway timeout.",
    505: "HTTP version not supported.",
}


DEMO_COMPANIES = {"8a210b68-6988-11ed-a1eb-0242ac120002": "Toft stores",
                  "0498e921-9b53-4396-a412-4f2f5983b0a2": "Penhaligon's"}
_PROFILE = {"name": "Stand-in client", "logoUrl": "https://client.codat.io/logo.png",
            "iconUrl": "https://client.codat.io/icon.ico", "redirectUrl": "https://example.com/{companyId}",
            "whiteListUrls": ["https://example.com"], "confirmCompanyName": True}


def _connection(company_id: str) -> Dict[str, Any]:
    """The one sandbox connection every stand-in company has."""
    return {"id": f"{company_id}-sandbox", "integrationId": "a9e28ef4-2a41-4a49-8c2c-6b5e2b5a0f7b",
            "integrationKey": "gbol", "sourceId": "a9e28ef4-2a41-4a49-8c2c-6b5e2b5a0f7b",
            "sourceType": "Accounting", "platformName": "Sandbox",
            "linkUrl": f"https://link-api.codat.io/companies/{company_id}/connections/{company_id}-sandbox/start",
            "status": "Linked", "lastSync": "2024-05-01T12:00:00Z", "created": "2024-01-01T09:00:00Z",
            "dataConnectionErrors": [], "connectionInfo": None}


@dataclasses.dataclass(frozen=True)
class Reply:
    """One scripted answer.  See the module docstring for what each field does."""

    status: int = 200
    json: Any = None
    body: Optional[Union[bytes, str]] = None
    content_type: Optional[str] = None
    headers: Optional[Mapping[str, str]] = None
    delay_s: float = 0.0
    action: Optional[str] = None
    reason: Optional[str] = None

    def __post_init__(self) -> None:
        if not isinstance(self.status, int) or not 100 <= self.status <= 999:
            raise ValueError(f"status must be an int from 100 to 999, not {self.status!r}")
        if self.json is not None and self.body is not None:
            raise ValueError("give json or body, not both")
        if self.body is not None and not isinstance(self.body, (bytes, bytearray, str)):
            raise TypeError("body must be bytes or str")
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError(f"action must be one of {sorted(ACTIONS)}, not {self.action!r}")
        if self.delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        if self.action == "raw" and self.body is None:
            raise ValueError('action="raw" needs body (the whole response, as bytes)')
        if self.reason is not None and (not isinstance(self.reason, str) or
                                        any(c in self.reason for c in "\r\n\0")):
            raise ValueError("reason must be a str without CR, LF or NUL")


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    raw_path: str
    path: str
    query: str
    company_id: Optional[str]
    endpoint: Optional[str]
    headers: dict
    body: bytes
    time: float
    connection_id: int
    http_version: str = "1.1"


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_REASONS = {s.value: s.phrase for s in http.HTTPStatus}


def _reason(status: int) -> str:
    return _REASONS.get(status, "Unknown")


def _magic_reply(company_id: str) -> Optional[Reply]:
    if company_id == "silence":
        return Reply(action="silence")
    m = _MAGIC_STATUS.match(company_id)
    if m:
        status = int(m.group(1))
        if 100 <= status <= 599:
            return Reply(status=status)
        return None
    m = _MAGIC_SLOW.match(company_id)
    if m:
        return Reply(delay_s=int(m.group(1)) / 1000.0)
    if company_id.startswith("action-"):
        action = company_id[len("action-"):]
        if action in ACTIONS and action != "raw":
            return Reply(action=action)
    return None


_h2_module: Any = None


def _import_h2() -> Any:
    """Import the ``h2`` package (only ``http2=True`` needs it) and return it."""
    global _h2_module
    if _h2_module is None:
        try:
            import h2.config  # type: ignore[import-not-found, unused-ignore]
            import h2.connection  # type: ignore[import-not-found, unused-ignore]
            import h2.errors  # type: ignore[import-not-found, unused-ignore]
            import h2.events  # type: ignore[import-not-found, unused-ignore]
            import h2.exceptions  # type: ignore[import-not-found, unused-ignore]
            import h2.settings  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise RuntimeError("StandInServer(http2=True) needs the h2 package: "
                               "pip install h2") from exc
        _h2_module = h2
    return _h2_module


def _run_openssl(args: list, cwd: str) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {proc.stderr.strip()}")


def _make_certs_openssl(directory: str) -> tuple:
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _run_openssl(["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                  "-subj", "/CN=codat-platform-c stand-in test CA",
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"], directory)
    _run_openssl(["req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
                  "-subj", "/CN=localhost"], directory)
    with open(os.path.join(directory, "server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid\n")
    _run_openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                  "-set_serial", str(secrets.randbits(63)), "-days", "2",
                  "-extfile", "server.ext", "-out", "server.pem"], directory)
    return tuple(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key"))


def _make_certs_cryptography(directory: str) -> tuple:
    import datetime
    import ipaddress

    from cryptography import x509  # type: ignore[import-not-found, unused-ignore]
    from cryptography.hazmat.primitives import hashes, serialization  # type: ignore[import-not-found, unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found, unused-ignore]
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # type: ignore[import-not-found, unused-ignore]

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            "codat-platform-c stand-in test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=True, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = tuple(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key"))
    with open(paths[0], "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


def _make_certs(directory: str) -> tuple:
    """Return (ca_path, cert_path, key_path), made with openssl or cryptography."""
    if shutil.which("openssl"):
        return _make_certs_openssl(directory)
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise RuntimeError("tls=True needs the openssl command or the cryptography package")
    return _make_certs_cryptography(directory)


class StandInServer:
    """Stand-in Codat Platform API server.  See the module docstring."""

    def __init__(self, tls: bool = False, auth_header: Optional[str] = None,
                 rate_limit: int = 1000, host: str = "127.0.0.1", port: int = 0,
                 enforce_rate_limit: bool = False, cert: Optional[tuple] = None,
                 http2: bool = False, retired_connection_management: bool = False) -> None:
        if cert is not None and not tls:
            raise ValueError("cert needs tls=True")
        if http2 and not tls:
            raise ValueError("http2=True needs tls=True (HTTP/2 is offered by ALPN in the TLS "
                             "handshake)")
        if http2:
            _import_h2()  # fail now, with a clear message, if the h2 package is missing
        self.tls = bool(tls)
        self.http2 = bool(http2)
        self._given_cert = tuple(cert) if cert is not None else None
        self.auth_header = auth_header
        self.rate_limit = int(rate_limit)
        self.enforce_rate_limit = bool(enforce_rate_limit)
        self.retired_connection_management = bool(retired_connection_management)
        self.host = host
        self.port = int(port)  # the bound port once started
        self._requested_port = int(port)
        self.ca_path: Optional[str] = None
        self._cert_path: Optional[str] = None
        self._key_path: Optional[str] = None
        self._tmpdir: Optional[str] = None

        self._lock = threading.Lock()
        self._lifecycle = threading.Lock()
        self._records: list = []
        self._scripts: dict = {}
        self._default_script: collections.deque = collections.deque()
        self._tokens: list = []
        self._token_counter = 0
        self._connections_opened = 0
        self._connection_ids = 0
        self._peak_streams = 0
        self._errors: list = []
        self._remaining = self.rate_limit
        self._day = -1
        self._reset_value = ""
        self.companies: Dict[str, str] = dict(DEMO_COMPANIES)

        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._server: Optional[asyncio.AbstractServer] = None
        self._conns: set = set()
        self._tasks: set = set()
        self._startup_error: Optional[BaseException] = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "StandInServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._thread else "stopped"
        return f"<StandInServer {state}>"

    @property
    def url(self) -> str:
        if self._thread is None:
            raise RuntimeError("the server is not running")
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def start(self) -> "StandInServer":
        with self._lifecycle:
            if self._thread is not None:
                raise RuntimeError("the server is already running")
            ssl_ctx = None
            alpn = ["h2", "http/1.1"] if self.http2 else ["http/1.1"]
            if self.tls and self._given_cert is not None:
                ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ssl_ctx.load_cert_chain(*self._given_cert)
                ssl_ctx.set_alpn_protocols(alpn)
            elif self.tls:
                self._tmpdir = tempfile.mkdtemp(prefix="codat-standin-")
                try:
                    self.ca_path, self._cert_path, self._key_path = _make_certs(self._tmpdir)
                    ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ssl_ctx.load_cert_chain(self._cert_path, self._key_path)
                    ssl_ctx.set_alpn_protocols(alpn)
                except BaseException:
                    self._remove_tmpdir()
                    raise
            ready = threading.Event()
            self._startup_error = None
            thread = threading.Thread(target=self._run, args=(ready, ssl_ctx),
                                      name="codat-standin-server", daemon=True)
            self._thread = thread
            thread.start()
            ready.wait()
            if self._startup_error is not None:
                thread.join()
                self._thread = None
                self._remove_tmpdir()
                raise self._startup_error
            return self

    def stop(self) -> None:
        with self._lifecycle:
            thread, loop = self._thread, self._loop
            if thread is None:
                return
            if loop is not None:
                try:
                    loop.call_soon_threadsafe(loop.stop)
                except RuntimeError:  # loop already closed
                    pass
            thread.join(timeout=10)
            self._thread = None
            self._remove_tmpdir()

    def _remove_tmpdir(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = None
        self.ca_path = self._cert_path = self._key_path = None

    def _run(self, ready: threading.Event, ssl_ctx: Optional[ssl.SSLContext]) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_exception)
        self._loop = loop
        factory: Any = (lambda: _AlpnDispatch(self)) if self.http2 else (lambda: _Connection(self))
        try:
            server = loop.run_until_complete(loop.create_server(
                factory, self.host, self._requested_port, ssl=ssl_ctx,
                backlog=4096,
                ssl_handshake_timeout=10 if ssl_ctx else None))
        except BaseException as exc:
            self._startup_error = exc
            loop.close()
            self._loop = None
            ready.set()
            return
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                server.close()
                for conn in list(self._conns):
                    conn.closed = True
                    conn.transport.abort()
                tasks = list(self._tasks)
                for task in tasks:
                    task.cancel()
                if tasks:
                    loop.run_until_complete(asyncio.wait(tasks, timeout=2))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                self._conns.clear()
                self._tasks.clear()
                self._server = None
                self._loop = None
                loop.close()

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, (ConnectionError, ssl.SSLError, OSError, asyncio.CancelledError)):
            return  # clients going away or failing the TLS handshake: normal in tests
        with self._lock:
            self._errors.append(f"{context.get('message')}: {exc!r}")

    # ------------------------------------------------------------ public state

    def script(self, company_id: str, *replies: Reply) -> None:
        self._check_replies(replies)
        with self._lock:
            self._scripts.setdefault(company_id, collections.deque()).extend(replies)

    def script_default(self, *replies: Reply) -> None:
        self._check_replies(replies)
        with self._lock:
            self._default_script.extend(replies)

    @staticmethod
    def _check_replies(replies: tuple) -> None:
        for r in replies:
            if not isinstance(r, Reply):
                raise TypeError(f"expected Reply, got {type(r).__name__}")

    @property
    def requests(self) -> list:
        with self._lock:
            return list(self._records)

    def request_count(self, company_id: Optional[str] = None) -> int:
        with self._lock:
            if company_id is None:
                return len(self._records)
            return sum(1 for r in self._records if r.company_id == company_id)

    @property
    def connections_opened(self) -> int:
        with self._lock:
            return self._connections_opened

    @property
    def peak_concurrent_streams(self) -> int:
        with self._lock:
            return self._peak_streams

    def _note_open_streams(self, count: int) -> None:
        with self._lock:
            if count > self._peak_streams:
                self._peak_streams = count

    def _note_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    @property
    def tokens_issued(self) -> list:
        with self._lock:
            return list(self._tokens)

    @property
    def rate_limit_remaining(self) -> int:
        with self._lock:
            self._roll_day()
            return self._remaining

    @property
    def errors(self) -> list:
        with self._lock:
            return list(self._errors)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._default_script.clear()
            self._records.clear()
            self._tokens.clear()
            self._errors.clear()
            self._connections_opened = 0
            self._peak_streams = 0
            self._remaining = self.rate_limit
            self.companies = dict(DEMO_COMPANIES)

    # ------------------------------------------------------------ deciding the answer

    def _roll_day(self) -> None:
        """Refill the daily counter at 00:00 UTC.  Call with self._lock held."""
        day = int(time.time() // 86400)
        if day != self._day:
            if self._day != -1:
                self._remaining = self.rate_limit
            self._day = day
            self._reset_value = email.utils.formatdate((day + 1) * 86400, usegmt=True)

    def _error_body(self, status: int, message: Optional[str] = None) -> bytes:
        return _json.dumps({
            "statusCode": status,
            "service": "PublicApi",
            "error": message or _ERROR_TEXT.get(status) or _reason(status),
            "correlationId": secrets.token_hex(16),
            "validation": {"errors": [], "warnings": []},
            "canBeRetried": "Unknown",
            "detailedErrorCode": 0,
        }).encode()

    def _issue_token(self, endpoint: str) -> bytes:
        with self._lock:
            self._token_counter += 1
            token = f"tok-{self._token_counter}-{random.getrandbits(64):016x}"
            self._tokens.append(token)
        # the token is plain ASCII, so this is the same as json.dumps, only faster
        if endpoint == "company":
            return (f'{{"accessToken": "{token}", "expiresIn": 86400, '
                    f'"tokenType": "Bearer"}}').encode()
        return f'{{"accessToken": "{token}"}}'.encode()

    def _rate_state(self, consume: bool) -> tuple:
        """Return (exhausted, remaining, reset); count the request if consume."""
        with self._lock:
            self._roll_day()
            exhausted = self._remaining <= 0
            if consume and not exhausted:
                self._remaining -= 1
            return exhausted, self._remaining, self._reset_value

    def _retired_body(self) -> bytes:
        """What Codat answers on the retired connection-management endpoint since 2026-10-12."""
        return _json.dumps({
            "statusCode": 404, "service": "PublicApi", "error": "NotFound",
            "correlationId": secrets.token_hex(16), "canBeRetried": "Unknown", "detailedErrorCode": 0,
        }).encode()

    @staticmethod
    def _build_head(status: int, headers: Any, reason: Optional[str] = None) -> bytes:
        lines = [f"{k}: {v}\r\n" for k, v in headers]
        phrase = _reason(status) if reason is None else reason
        return f"HTTP/1.1 {status} {phrase}\r\n{''.join(lines)}\r\n".encode("latin-1")

    def _bad_request_parts(self, status: int,
                           message: str) -> Tuple[List[Tuple[str, str]], bytes]:
        """(headers, body) of the answer to a request that could not be taken."""
        _, remaining, reset = self._rate_state(consume=False)
        body = self._error_body(status, message)
        return [
            ("Content-Type", JSON_CONTENT_TYPE), ("Content-Length", str(len(body))),
            ("X-Rate-Limit-Limit", str(self.rate_limit)),
            ("X-Rate-Limit-Remaining", str(remaining)),
            ("X-Rate-Limit-Reset", reset), ("Connection", "close")], body

    def _bad_request_response(self, status: int, message: str) -> bytes:
        """The answer to a request that could not be parsed (the connection then closes)."""
        headers, body = self._bad_request_parts(status, message)
        return self._build_head(status, headers) + body

    @staticmethod
    def _route(target: str) -> tuple:
        """Return (path, query, endpoint, company_id)."""
        raw, _, query = target.partition("?")
        path = urllib.parse.unquote(raw)
        segs = raw.split("/")
        endpoint = company_id = None
        if len(segs) >= 4 and segs[1] == "companies" and segs[2]:
            if len(segs) == 4 and segs[3] == "accessToken":
                endpoint = "company"
            elif len(segs) == 5 and segs[3] == "connectionManagement" and segs[4] == "accessToken":
                endpoint = "connection_management"
            if endpoint:
                company_id = urllib.parse.unquote(segs[2])
        return path, query, endpoint, company_id

    # ------------------------------------------------------------ other Platform API endpoints
    # Read-only answers shaped as Codat's OpenAPI spec (and the official SDK's models) describe them.
    # ``companies`` (id -> name, two demo companies to start with) is the data they serve; each company
    # has one linked sandbox connection. A ``status-NNN`` company id answers NNN with an ErrorMessage.
    # Scripted replies and the other magic ids apply to the token endpoints only.

    def _platform_answer(self, target: str) -> Tuple[int, bytes]:
        raw, _, query = target.partition("?")
        segs = [urllib.parse.unquote(seg) for seg in raw.split("/")[1:]]
        if segs == ["profile"]:
            return 200, _json.dumps(_PROFILE).encode()
        if not segs or segs[0] != "companies" or len(segs) > 3 or "" in segs:
            return 404, self._error_body(404)
        params = urllib.parse.parse_qs(query)
        if len(segs) == 1:
            return self._page("/companies", params, [self._company(cid) for cid in list(self.companies)])
        company_id = segs[1]
        magic = _MAGIC_STATUS.match(company_id)
        if magic and int(magic.group(1)) >= 400:
            return int(magic.group(1)), self._error_body(int(magic.group(1)))
        if company_id not in self.companies:
            return 404, self._error_body(404, f"Could not find company with ID '{company_id}'.")
        if len(segs) == 2:
            return 200, _json.dumps(self._company(company_id)).encode()
        if segs[2] == "connections":
            return self._page(f"/companies/{company_id}/connections", params, [_connection(company_id)])
        return 404, self._error_body(404)

    def _company(self, company_id: str) -> Dict[str, Any]:
        return {"id": company_id, "name": self.companies.get(company_id, company_id),
                "description": "A stand-in company", "redirect": f"https://link.codat.io/company/{company_id}",
                "lastSync": "2024-05-01T12:00:00Z", "created": "2024-01-01T09:00:00Z",
                "createdByUserName": "stand-in", "products": ["spend-insights"], "tags": {},
                "dataConnections": [_connection(company_id)]}

    def _page(self, path: str, params: Dict[str, List[str]], items: List[Any]) -> Tuple[int, bytes]:
        try:
            page = int(params.get("page", ["1"])[-1])
            size = int(params.get("pageSize", ["100"])[-1])
        except ValueError:
            page = size = 0
        if page < 1 or not 1 <= size <= 5000:
            return 400, self._error_body(400, "page must be 1 or more and pageSize between 1 and 5000.")
        links = {"self": {"href": path}, "current": {"href": f"{path}?page={page}&pageSize={size}"}}
        if page * size < len(items):
            links["next"] = {"href": f"{path}?page={page + 1}&pageSize={size}"}
        if page > 1:
            links["previous"] = {"href": f"{path}?page={page - 1}&pageSize={size}"}
        return 200, _json.dumps({"results": items[(page - 1) * size:page * size], "pageNumber": page,
                                 "pageSize": size, "totalResults": len(items), "_links": links}).encode()

    def _choose_reply(self, company_id: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(company_id)
            if queue:
                return queue.popleft()
        magic = _magic_reply(company_id)
        if magic is not None:
            return magic
        with self._lock:
            if self._default_script:
                return self._default_script.popleft()
        return _DEFAULT_REPLY

    def _plan(self, conn_id: int, method: str, target: str, version: str, headers: dict,
              body: bytes, now: float, keep_alive: bool) -> "_Plan":
        """Record one parsed HTTP/1.x request and work out the answer to it, as bytes."""
        d = self._decide(conn_id, method, target, version, headers, body, now, keep_alive)
        if d.action in ("silence", "raw"):
            return _Plan(d.action, d.delay_s, b"", d.payload, False)
        return _Plan(d.action, d.delay_s, self._build_head(d.status, d.headers, d.reason), d.payload,
                     d.keep_alive)

    def _decide(self, conn_id: int, method: str, target: str, version: str,
                headers: Dict[str, str],
                body: bytes, now: float, keep_alive: bool) -> "_Decision":
        """Record one request (HTTP/1.x or one HTTP/2 stream) and work out the answer to it.
        ``version`` is ``"HTTP/1.0"``, ``"HTTP/1.1"`` or ``"HTTP/2"``."""
        path, query, endpoint, company_id = self._route(target)
        record = RecordedRequest(method=method, raw_path=target, path=path, query=query,
                                 company_id=company_id, endpoint=endpoint, headers=headers,
                                 body=body, time=now, connection_id=conn_id,
                                 http_version=version[5:] if version.startswith("HTTP/")
                                 else version)
        with self._lock:
            self._records.append(record)

        authorised = self.auth_header is None or headers.get("authorization") == self.auth_header
        exhausted, remaining, reset = self._rate_state(consume=authorised)
        extra: list = []
        reply: Optional[Reply] = None
        payload: Optional[bytes]
        ctype: Optional[str] = JSON_CONTENT_TYPE
        if not authorised:
            status, payload = 401, self._error_body(401)
        elif exhausted and self.enforce_rate_limit:
            status, payload = 429, self._error_body(429)
            retry = max(1, (self._day + 1) * 86400 - int(time.time()))
            extra.append(("Retry-After", str(retry)))
        elif method != "GET":
            status, payload = 405, self._error_body(405)
            extra.append(("Allow", "GET"))
        elif endpoint is None:
            status, payload = self._platform_answer(target)
        elif endpoint == "connection_management" and self.retired_connection_management:
            status, payload = 404, self._retired_body()
        else:
            reply = self._choose_reply(company_id)
            status = reply.status
            if reply.action == "silence":
                return _Decision("silence", 0.0, 0, [], b"", False, company_id)
            if reply.action == "raw":
                raw = reply.body.encode() if isinstance(reply.body, str) else bytes(reply.body or b"")
                return _Decision("raw", reply.delay_s, 0, [], raw, False, company_id)
            if reply.json is not None:
                payload = _json.dumps(reply.json).encode()
            elif reply.body is not None:
                payload = reply.body.encode() if isinstance(reply.body, str) else bytes(reply.body)
                ctype = TEXT_CONTENT_TYPE
            elif status == 200:
                payload = self._issue_token(endpoint)
            elif status >= 400:
                payload = self._error_body(
                    status, f"Could not find company with ID '{company_id}'." if status == 404
                    else None)
            elif status in (204, 304) or status < 200:
                payload, ctype = None, None
            else:
                payload, ctype = b"", None
            if reply.content_type is not None:
                ctype = reply.content_type

        action = reply.action if reply is not None else None
        delay = reply.delay_s if reply is not None else 0.0
        if action == "close_after":
            keep_alive = False
        hdrs: dict = {}
        if ctype is not None:
            hdrs["content-type"] = ("Content-Type", ctype)
        if payload is not None:
            hdrs["content-length"] = ("Content-Length", str(len(payload)))
        hdrs["x-rate-limit-limit"] = ("X-Rate-Limit-Limit", str(self.rate_limit))
        hdrs["x-rate-limit-remaining"] = ("X-Rate-Limit-Remaining", str(remaining))
        hdrs["x-rate-limit-reset"] = ("X-Rate-Limit-Reset", reset)
        for k, v in extra:
            hdrs[k.lower()] = (k, v)
        if not keep_alive:
            hdrs["connection"] = ("Connection", "close")
        elif version == "HTTP/1.0":
            hdrs["connection"] = ("Connection", "keep-alive")
        if reply is not None and reply.headers:
            for k, v in reply.headers.items():
                hdrs[k.lower()] = (k, str(v))
        if method == "HEAD" or payload is None:  # a HEAD answer (always a 405 here) has no body
            payload = b""
        return _Decision(action, delay, status, list(hdrs.values()), payload, keep_alive,
                         company_id, reply.reason if reply is not None else None)


class _Decision(NamedTuple):
    """The answer to one request, before it is put in HTTP/1.1 or HTTP/2 form."""
    action: Optional[str]
    delay_s: float
    status: int
    headers: List[Tuple[str, str]]  # names as they are written in HTTP/1.1
    payload: bytes
    keep_alive: bool
    company_id: Optional[str]
    reason: Optional[str] = None  # the HTTP/1.1 status line's phrase; None: the standard one


class _Plan(NamedTuple):
    action: Optional[str]
    delay_s: float
    head: bytes
    payload: bytes
    keep_alive: bool


class _Closing:
    """Counting a new connection in, and closing it politely or with a TCP reset; shared by the HTTP/1.1
    and HTTP/2 servers."""

    closed: bool
    transport: Any
    srv: "StandInServer"
    conn_id: int

    def _register(self, transport: Any) -> None:
        self.transport = transport
        srv = self.srv
        srv._conns.add(self)
        with srv._lock:
            srv._connections_opened += 1
            srv._connection_ids += 1
            self.conn_id = srv._connection_ids

    def _close(self) -> None:
        self.closed = True
        self.transport.close()

    def _abort(self, rst: bool = False) -> None:
        self.closed = True
        if rst:  # SO_LINGER 0: close() sends RST instead of FIN
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
        self.transport.abort()


class _Connection(_Closing, asyncio.Protocol):
    """One client connection.  Quick answers are written straight from
    data_received; delayed, dripped and silent ones run as a task, and the
    connection reads no further requests until that task is done."""

    def __init__(self, server: StandInServer) -> None:
        self.srv = server
        self.transport: Any = None
        self.buf = bytearray()
        self.conn_id = 0
        self.busy = False  # a slow answer is in progress
        self.silenced = False
        self.closed = False
        self.eof = False
        self.paused = False
        self.sent_continue = False
        self.tls = False
        self.task: Optional[asyncio.Task] = None

    # -- asyncio callbacks

    def connection_made(self, transport: Any) -> None:
        self._register(transport)
        self.tls = transport.get_extra_info("sslcontext") is not None

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.closed = True
        self.srv._conns.discard(self)
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        if self.silenced or self.closed:
            return  # a silenced connection throws away whatever the client sends
        self.buf += data
        if self.busy:
            if not self.paused and len(self.buf) > MAX_HEAD_BYTES + MAX_BODY_BYTES:
                self.transport.pause_reading()
                self.paused = True
            return
        self._process()

    def eof_received(self) -> Optional[bool]:
        self.eof = True
        if self.busy and not self.silenced and not self.tls:
            return True  # half-closed by the client: finish the pending answer first
        return None

    # -- request handling

    def _process(self) -> None:
        try:
            while not self.closed and not self.busy:
                try:
                    request = self._next_request()
                except _BadRequest as bad:
                    self.transport.write(self.srv._bad_request_response(bad.status, bad.message))
                    self._close()
                    return
                if request is None:
                    if self.eof:
                        self._close()
                    return
                self._run(self.srv._plan(self.conn_id, *request))
        except Exception as exc:  # a bug in this module: note it, drop this connection
            with self.srv._lock:
                self.srv._errors.append(repr(exc))
            self._abort()

    def _next_request(self) -> Optional[tuple]:
        """Take one complete request off the buffer, or return None if incomplete."""
        buf = self.buf
        while buf[:2] == b"\r\n":
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end + 4 > MAX_HEAD_BYTES:
            if len(buf) > MAX_HEAD_BYTES:
                raise _BadRequest(431, _ERROR_TEXT[431])
            return None
        head_len = end + 4
        method, target, version, headers = _parse_head(bytes(buf[:head_len]))
        body_end = self._body_end(headers, head_len)
        if body_end is None:
            return None
        body = bytes(buf[head_len:body_end])
        if headers.get("transfer-encoding", "").strip().lower() == "chunked":
            body = _dechunk(body)
        del buf[:body_end]
        self.sent_continue = False
        conn_tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        if version == "HTTP/1.0":
            keep_alive = "keep-alive" in conn_tokens
        else:
            keep_alive = "close" not in conn_tokens
        return method, target, version, headers, body, time.monotonic(), keep_alive

    def _body_end(self, headers: dict, start: int) -> Optional[int]:
        """Where the body that starts at ``start`` ends, or None if not all here yet."""
        te = headers.get("transfer-encoding", "").strip().lower()
        cl = headers.get("content-length")
        if (not te or te == "identity") and cl is None:
            return start
        buf = self.buf
        if te and te != "identity":
            if te != "chunked":
                raise _BadRequest(501, "Transfer-Encoding not supported.")
            pos = start
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    if len(buf) - pos > 1024:
                        raise _BadRequest(400, "Bad request: malformed chunk.")
                    return self._wait_for_body(headers)
                try:
                    size = int(bytes(buf[pos:eol]).split(b";")[0].strip(), 16)
                except ValueError:
                    raise _BadRequest(400, "Bad request: malformed chunk size.")
                if size < 0:
                    raise _BadRequest(400, "Bad request: malformed chunk size.")
                if eol - start + size > MAX_BODY_BYTES:
                    raise _BadRequest(413, _ERROR_TEXT[413])
                pos = eol + 2
                if size == 0:
                    while True:  # trailer lines, then an empty line
                        eol = buf.find(b"\r\n", pos)
                        if eol < 0:
                            if len(buf) - pos > MAX_HEAD_BYTES:
                                raise _BadRequest(400, "Bad request: malformed chunk trailer.")
                            return self._wait_for_body(headers)
                        if eol == pos:
                            return eol + 2
                        pos = eol + 2
                if len(buf) < pos + size + 2:
                    return self._wait_for_body(headers)
                if buf[pos + size:pos + size + 2] != b"\r\n":
                    raise _BadRequest(400, "Bad request: malformed chunk.")
                pos += size + 2
        try:
            length = int(cl or "")
        except ValueError:
            raise _BadRequest(400, "Bad request: malformed Content-Length.")
        if length < 0:
            raise _BadRequest(400, "Bad request: malformed Content-Length.")
        if length > MAX_BODY_BYTES:
            raise _BadRequest(413, _ERROR_TEXT[413])
        if len(buf) < start + length:
            return self._wait_for_body(headers)
        return start + length

    def _wait_for_body(self, headers: dict) -> Optional[int]:  # None: the body is not all here yet
        if not self.sent_continue and headers.get("expect", "").lower() == "100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.sent_continue = True
        return None

    def _run(self, plan: _Plan) -> None:
        if plan.action == "silence":
            self.silenced = True
            self.busy = True
            self.buf.clear()
            if self.eof:
                self._close()
            return
        if plan.delay_s > 0 or plan.action in ("drip", "drip_head", "reset_mid_body"):
            self.busy = True
            task = asyncio.get_running_loop().create_task(self._slow(plan))
            self.task = task
            self.srv._tasks.add(task)
            task.add_done_callback(self.srv._tasks.discard)
            return
        self._answer(plan)

    def _answer(self, plan: _Plan) -> None:
        action = plan.action
        if action == "drop":
            self._close()
        elif action == "reset":
            self._abort(rst=True)
        elif action == "truncate":
            self.transport.write(plan.head + plan.payload[: len(plan.payload) // 2])
            self._close()
        elif action == "raw":
            self.transport.write(plan.payload)
            self._close()
        elif action == "close_idle":
            self.transport.write(plan.head + plan.payload)
            self._close()
        elif action == "reset_idle":
            self.transport.write(plan.head + plan.payload)
            self._abort(rst=True)
        else:
            self.transport.write(plan.head + plan.payload)
            if not plan.keep_alive:
                self._close()

    async def _slow(self, plan: _Plan) -> None:
        try:
            if plan.action in ("drip", "drip_head"):
                data = plan.payload
                if plan.action == "drip":
                    self.transport.write(plan.head)
                else:
                    data = plan.head + plan.payload
                interval = plan.delay_s or DEFAULT_DRIP_INTERVAL_S
                for i in range(len(data)):
                    await asyncio.sleep(interval)
                    if self.closed:
                        return
                    self.transport.write(data[i:i + 1])
                if not plan.keep_alive:
                    self._close()
            elif plan.action == "reset_mid_body":
                await asyncio.sleep(plan.delay_s)
                if self.closed:
                    return
                self.transport.write(plan.head + plan.payload[: len(plan.payload) // 2])
                await asyncio.sleep(RESET_MID_BODY_PAUSE_S)
                if not self.closed:
                    self._abort(rst=True)
                return
            else:
                await asyncio.sleep(plan.delay_s)
                if self.closed:
                    return
                self._answer(plan)
        except asyncio.CancelledError:
            return
        finally:
            self.task = None
            self.busy = False
        if self.closed:
            return
        if self.paused:
            self.paused = False
            self.transport.resume_reading()
        self._process()



class _AlpnDispatch(asyncio.Protocol):
    """With ``http2=True``: asyncio calls connection_made once the TLS handshake is over, when
    the protocol the client picked by ALPN is known.  Hand the transport to an HTTP/2 or an
    HTTP/1.1 connection accordingly; this object is then out of the way."""

    def __init__(self, server: StandInServer) -> None:
        self.srv = server

    def connection_made(self, transport: Any) -> None:
        ssl_object = transport.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        proto: asyncio.Protocol = (_H2Connection(self.srv) if alpn == "h2"
                                   else _Connection(self.srv))
        transport.set_protocol(proto)
        proto.connection_made(transport)


# Response headers that HTTP/2 forbids (RFC 9113 section 8.2.2).
_H2_CONNECTION_HEADERS = frozenset({"connection", "keep-alive", "proxy-connection",
                                    "transfer-encoding", "upgrade"})
# Actions that only make sense as bytes on an HTTP/1.1 connection.
_H2_UNSUPPORTED_ACTIONS = frozenset({"drip", "drip_head", "truncate", "reset_mid_body", "raw"})


class _H2Stream:
    """One HTTP/2 request being received."""

    __slots__ = ("headers", "body", "time", "too_big")

    def __init__(self, headers: List[Any], now: float) -> None:
        self.headers = headers
        self.body = bytearray()
        self.time = now
        self.too_big = False


class _H2Connection(_Closing, asyncio.Protocol):
    """One HTTP/2 client connection (built on the ``h2`` package).  Each stream is one request;
    quick answers are sent from data_received, delayed ones from a task per stream."""

    def __init__(self, server: StandInServer) -> None:
        h2 = _import_h2()
        self.h2mod = h2
        self.srv = server
        self.transport: Any = None
        self.conn_id = 0
        self.closed = False
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=config)
        codes = h2.settings.SettingCodes
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values={
            codes.MAX_CONCURRENT_STREAMS: 100,
            codes.MAX_HEADER_LIST_SIZE: MAX_HEAD_BYTES,
        })
        # stream id -> the request being received, until it has ended
        self.receiving: Dict[int, _H2Stream] = {}
        # streams whose request came and whose answer has not all been sent yet
        self.open: Set[int] = set()
        # stream id -> the rest of its answer's body, waiting for flow-control window
        self.pending: Dict[int, bytearray] = {}
        # stream id -> a connection action to run once its answer has all been sent
        self.after: Dict[int, str] = {}
        # stream id -> the task that answers it after Reply.delay_s
        self.tasks: Dict[int, "asyncio.Task[None]"] = {}

    # -- asyncio callbacks

    def connection_made(self, transport: Any) -> None:
        self._register(transport)
        self.h2.initiate_connection()
        self._flush()

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.closed = True
        self.srv._conns.discard(self)
        for task in list(self.tasks.values()):
            task.cancel()
        self.tasks.clear()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        h2 = self.h2mod
        try:
            try:
                events = self.h2.receive_data(data)
            except h2.exceptions.ProtocolError:
                self._flush()  # h2 has queued a GOAWAY naming the error
                self._close()
                return
            for event in events:
                self._event(event)
                if self.closed:
                    return
            self._flush()
        except Exception as exc:  # a bug in this module: note it, drop this connection
            self.srv._note_error(f"HTTP/2 connection {self.conn_id}: {exc!r}")
            self._abort()

    # -- events

    def _event(self, event: Any) -> None:
        ev = self.h2mod.events
        sid = getattr(event, "stream_id", 0)
        if isinstance(event, ev.RequestReceived):
            self.receiving[sid] = _H2Stream(list(event.headers), time.monotonic())
            self.open.add(sid)
            self.srv._note_open_streams(len(self.open))
        elif isinstance(event, ev.DataReceived):
            self.h2.acknowledge_received_data(event.flow_controlled_length, sid)
            stream = self.receiving.get(sid)
            if stream is not None and not stream.too_big:
                stream.body += event.data
                if len(stream.body) > MAX_BODY_BYTES:
                    stream.too_big = True
                    self._refuse_too_big(sid)
        elif isinstance(event, ev.StreamEnded):
            stream = self.receiving.pop(sid, None)
            if stream is not None and not stream.too_big:
                self._request(sid, stream)
        elif isinstance(event, ev.StreamReset):  # the client gave up on this stream
            self._forget(sid)
        elif isinstance(event, (ev.WindowUpdated, ev.RemoteSettingsChanged)):
            self._send_pending()
        elif isinstance(event, ev.ConnectionTerminated):  # GOAWAY from the client
            self._flush()
            self._close()

    def _request(self, sid: int, stream: _H2Stream) -> None:
        pseudo: Dict[str, str] = {}
        headers: Dict[str, str] = {}
        for raw_name, raw_value in stream.headers:
            name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
            if name.startswith(":"):
                pseudo[name] = value
            elif name in headers:
                headers[name] = f"{headers[name]}, {value}"
            else:
                headers[name] = value
        if "host" not in headers and ":authority" in pseudo:
            headers["host"] = pseudo[":authority"]
        d = self.srv._decide(self.conn_id, pseudo.get(":method", ""), pseudo.get(":path", ""),
                             "HTTP/2", headers, bytes(stream.body), stream.time, True)
        if d.action == "silence":
            return  # the stream stays open and unanswered; the others go on
        if d.action in _H2_UNSUPPORTED_ACTIONS:
            self.srv._note_error(
                f"Reply(action={d.action!r}) is an HTTP/1.1 byte-level fault and is not "
                f"supported over HTTP/2 (connection {self.conn_id}, stream {sid}, company "
                f"{d.company_id!r}); the stream was reset with INTERNAL_ERROR")
            self._reset_stream(sid)
            return
        if d.delay_s > 0:
            task = asyncio.get_running_loop().create_task(self._later(sid, d))
            self.tasks[sid] = task
            self.srv._tasks.add(task)
            task.add_done_callback(self.srv._tasks.discard)
            return
        self._answer(sid, d)

    async def _later(self, sid: int, d: _Decision) -> None:
        try:
            await asyncio.sleep(d.delay_s)
        except asyncio.CancelledError:
            return
        finally:
            self.tasks.pop(sid, None)
        if self.closed or sid not in self.open:
            return
        try:
            self._answer(sid, d)
            self._flush()
        except Exception as exc:
            self.srv._note_error(f"HTTP/2 connection {self.conn_id}: {exc!r}")
            self._abort()

    # -- answering

    def _answer(self, sid: int, d: _Decision) -> None:
        action = d.action
        if action == "drop":
            self._flush()
            self._close()
            return
        if action == "reset":
            self._reset_stream(sid)
            return
        headers = [(":status", str(d.status))]
        for name, value in d.headers:
            name = name.lower()
            if name not in _H2_CONNECTION_HEADERS:
                headers.append((name, value))
        try:
            self.h2.send_headers(sid, headers, end_stream=not d.payload)
        except self.h2mod.exceptions.ProtocolError as exc:  # e.g. a 1xx status or a bad header
            self.srv._note_error(f"HTTP/2 stream {sid} (company {d.company_id!r}): cannot send "
                                 f"this answer over HTTP/2: {exc!r}; the stream was reset")
            self._reset_stream(sid)
            return
        if action in ("close_after", "close_idle", "reset_idle"):
            self.after[sid] = action
        if d.payload:
            self.pending[sid] = bytearray(d.payload)
            self._send_pending()
        else:
            self._done(sid)

    def _send_pending(self) -> None:
        """Send as much of the waiting bodies as the flow-control windows allow."""
        for sid in list(self.pending):
            buf = self.pending[sid]
            try:
                while buf:
                    n = min(len(buf), self.h2.local_flow_control_window(sid),
                            self.h2.max_outbound_frame_size)
                    if n <= 0:
                        break
                    self.h2.send_data(sid, bytes(buf[:n]), end_stream=n == len(buf))
                    del buf[:n]
            except self.h2mod.exceptions.StreamClosedError:
                self._forget(sid)
                continue
            if not buf:
                del self.pending[sid]
                self._done(sid)
            if self.closed:
                return

    def _done(self, sid: int) -> None:
        """The whole answer on stream sid has been handed to h2."""
        self.open.discard(sid)
        action = self.after.pop(sid, None)
        if action == "close_after":
            self.h2.close_connection()  # GOAWAY NO_ERROR
            self._flush()
            self._close()
        elif action == "close_idle":
            self._flush()
            self._close()
        elif action == "reset_idle":
            self._flush()
            self._abort(rst=True)

    def _refuse_too_big(self, sid: int) -> None:
        headers, body = self.srv._bad_request_parts(413, _ERROR_TEXT[413])
        h2_headers = [(":status", "413")] + [(k.lower(), v) for k, v in headers
                                             if k.lower() not in _H2_CONNECTION_HEADERS]
        self.h2.send_headers(sid, h2_headers)
        self.h2.send_data(sid, body, end_stream=True)  # 1 KiB at most: within any window
        self.h2.reset_stream(sid, self.h2mod.errors.ErrorCodes.NO_ERROR)
        self._forget(sid)

    def _reset_stream(self, sid: int) -> None:
        try:
            self.h2.reset_stream(sid, self.h2mod.errors.ErrorCodes.INTERNAL_ERROR)
        except self.h2mod.exceptions.StreamClosedError:
            pass
        self._forget(sid)
        self._flush()

    def _forget(self, sid: int) -> None:
        self.receiving.pop(sid, None)
        self.pending.pop(sid, None)
        self.after.pop(sid, None)
        self.open.discard(sid)
        task = self.tasks.pop(sid, None)
        if task is not None:
            task.cancel()

    # -- the connection

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.transport.write(data)



def _parse_head(head: bytes) -> tuple:
    """Parse a request head (ending in a blank line) into (method, target, version, headers)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise _BadRequest(400, "Bad request: malformed request line.")
    method, target, version = parts
    m = _VERSION_RE.match(version)
    if not m or not _TOKEN_CHARS.match(method):
        raise _BadRequest(400, "Bad request: malformed request line.")
    if m.group(1) != "1":
        raise _BadRequest(505, _ERROR_TEXT[505])
    if target.startswith(("http://", "https://")):
        split = urllib.parse.urlsplit(target)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    if not target.startswith("/"):
        raise _BadRequest(400, "Bad request: malformed request target.")
    headers: dict = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN_CHARS.match(name):
            raise _BadRequest(400, "Bad request: malformed header line.")
        name = name.lower()
        value = value.strip(" \t")
        if name in headers:
            headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
    return method, target, version, headers


def _dechunk(data: bytes) -> bytes:
    """Join the chunks of an already-checked chunked body."""
    out: list = []
    pos = 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0].strip(), 16)
        if size == 0:
            return b"".join(out)
        out.append(data[eol + 2:eol + 2 + size])
        pos = eol + 2 + size + 2


_DEFAULT_REPLY = Reply()


# ---------------------------------------------------------------- command line

def serve(host: str = "127.0.0.1", port: int = 8080, tls: bool = False,
          auth_header: Optional[str] = None, rate_limit: int = 1000,
          http2: bool = False, retired_connection_management: bool = False) -> None:
    """Run a stand-in server in the foreground until Ctrl-C (or SIGTERM), printing its URL."""
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
    with StandInServer(tls=tls, auth_header=auth_header, rate_limit=rate_limit,
                       host=host, port=port, http2=http2,
                       retired_connection_management=retired_connection_management) as srv:
        print(f"Codat stand-in server listening on {srv.url}"
              f"{' (HTTP/2 and HTTP/1.1)' if http2 else ''}", flush=True)
        if srv.ca_path:
            print(f"CA certificate: {srv.ca_path}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m codat_platform_c.testing",
        description="Stand-in Codat Platform API server (access-token endpoints).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a fresh test CA")
    parser.add_argument("--http2", action="store_true",
                        help="with --tls: also offer HTTP/2 (ALPN h2; needs pip install h2)")
    parser.add_argument("--auth-header", default=None,
                        help='require this exact Authorization header, e.g. "Basic abc"')
    parser.add_argument("--rate-limit", type=int, default=1000)
    parser.add_argument("--retired-connection-management", action="store_true",
                        help="answer GET /companies/{id}/connectionManagement/accessToken with the 404 "
                             "Codat sends since it retired that endpoint (2026-10-12)")
    args = parser.parse_args(argv)
    if args.http2 and not args.tls:
        parser.error("--http2 needs --tls")
    try:
        serve(args.host, args.port, args.tls, args.auth_header, args.rate_limit, args.http2,
              args.retired_connection_management)
    except (OSError, OverflowError, ValueError, ImportError) as e:  # port in use, bad host, no h2
        print(f"error: cannot serve on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
