"""What the stand-in can answer: ``Reply`` (one scripted answer), the actions, the magic company ids, the
ErrorMessage bodies, and ``RecordedRequest`` (one request as the server saw it).  docs/standin.md says what
each does."""

from __future__ import annotations

import dataclasses
import http
import json as _json
import re
import secrets
from typing import Any, List, Mapping, NamedTuple, Optional, Tuple, Union

ACTIONS = frozenset({"silence", "drop", "reset", "drip", "truncate", "close_after",
                     "raw", "drip_head", "reset_mid_body", "close_idle", "reset_idle"})
RESET_MID_BODY_PAUSE_S = 0.05

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_DRIP_INTERVAL_S = 0.05
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"

MAGIC_STATUS = re.compile(r"^status-(\d{3})$")
_MAGIC_SLOW = re.compile(r"^slow-(\d{1,9})$")

ERROR_TEXT = {
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

_REASONS = {s.value: s.phrase for s in http.HTTPStatus}


def reason_phrase(status: int) -> str:
    return _REASONS.get(status, "Unknown")


@dataclasses.dataclass(frozen=True)
class Reply:
    """One scripted answer.  docs/standin.md ("Scripting replies") says what each field does."""

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


DEFAULT_REPLY = Reply()


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


class Request(NamedTuple):
    """One parsed request (HTTP/1.x, or one HTTP/2 stream), as the protocols hand it to the server.
    ``version`` is ``"HTTP/1.0"``, ``"HTTP/1.1"`` or ``"HTTP/2"``."""
    conn_id: int
    method: str
    target: str
    version: str
    headers: dict
    body: bytes
    time: float
    keep_alive: bool


class Decision(NamedTuple):
    """The answer to one request, before it is put in HTTP/1.1 or HTTP/2 form."""
    action: Optional[str]
    delay_s: float
    status: int
    headers: List[Tuple[str, str]]  # names as they are written in HTTP/1.1
    payload: bytes
    keep_alive: bool
    company_id: Optional[str]
    reason: Optional[str] = None  # the HTTP/1.1 status line's phrase; None: the standard one


def magic_reply(company_id: str) -> Optional[Reply]:
    """The reply a magic company id (``status-NNN``, ``slow-MS``, ``silence``, ``action-X``) asks for."""
    if company_id == "silence":
        return Reply(action="silence")
    m = MAGIC_STATUS.match(company_id)
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


def error_body(status: int, message: Optional[str] = None) -> bytes:
    """A body shaped like Codat's ErrorMessage."""
    return _json.dumps({
        "statusCode": status,
        "service": "PublicApi",
        "error": message or ERROR_TEXT.get(status) or reason_phrase(status),
        "correlationId": secrets.token_hex(16),
        "validation": {"errors": [], "warnings": []},
        "canBeRetried": "Unknown",
        "detailedErrorCode": 0,
    }).encode()


def retired_body() -> bytes:
    """What Codat answers on the retired connection-management endpoint since 2026-10-12."""
    return _json.dumps({
        "statusCode": 404, "service": "PublicApi", "error": "NotFound",
        "correlationId": secrets.token_hex(16), "canBeRetried": "Unknown", "detailedErrorCode": 0,
    }).encode()


def body_bytes(body: Union[bytes, bytearray, str, None]) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body or b"")
