"""Exceptions with the official SDK's names (``codat_platform.models.errors``).

    CodatPlatformError                 message, status_code, body, headers, raw_response
     ├─ ErrorMessage                   + data (ErrorMessageData); also a codat_platform_c.ErrorMessage
     ├─ SDKError                       also a codat_platform_c.SDKError
     └─ ResponseValidationError        a 200 whose body is not the promised model; + cause;
                                       also a codat_platform_c.SDKError

So code written for the SDK (``except errors.ErrorMessage as e: e.data.correlation_id``) and code written
for the C client (``except codat_platform_c.ErrorMessage as e: e.correlation_id``) both catch these.
``raw_response`` (and ``__cause__``) is the codat_platform_c exception the core raised; ``headers`` is a
dict with lower-case names whose lookups ignore case.

Connection failures and timeouts are NOT CodatPlatformError (the SDK leaks raw urllib3/httpx exceptions
there): they are ``codat_platform_c.TransportError`` (a ConnectionError) and ``codat_platform_c.Timeout``
(a TransportError and a TimeoutError).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

import codat_platform_c as _codat

from .shared import ErrorMessage as ErrorMessageData

__all__ = [
    "CodatPlatformError", "SDKError", "ErrorMessage", "ErrorMessageData", "NoResponseError",
    "ResponseValidationError", "CaseInsensitiveHeaders",
]

MAX_MESSAGE_LEN = 10_000


class CaseInsensitiveHeaders(Dict[str, str]):
    """A dict of response headers with lower-case names; ``[]``, ``get`` and ``in`` ignore case."""

    def __init__(self, data: Optional[Mapping[str, str]] = None) -> None:
        super().__init__({str(k).lower(): v for k, v in dict(data or {}).items()})

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(str(key).lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(str(key).lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(str(key).lower(), default)

    def __repr__(self) -> str:
        return f"CaseInsensitiveHeaders({dict(self)!r})"


def _rebuild(cls: type, args: Tuple[Any, ...], state: Dict[str, Any]) -> BaseException:
    exc: BaseException = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class CodatPlatformError(Exception):
    """Base of the HTTP errors: ``message`` (also ``str(e)``), ``status_code``, ``body``, ``headers``,
    ``raw_response``. The constructor has the SDK's argument order."""

    message: str
    status_code: int
    body: str
    headers: CaseInsensitiveHeaders
    raw_response: Optional[Any]
    retry_after: Optional[float]
    """Seconds the server asked to wait (Retry-After), or None."""
    attempts: Optional[int]
    """How many requests the call made, or None when not known."""

    def __init__(self, message: str, raw_response: Optional[Any] = None, body: Optional[str] = None,
                 status_code: Optional[int] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        if status_code is None:
            status_code = getattr(raw_response, "status_code", None) or 0
        if body is None:
            body = getattr(raw_response, "body", None) or ""
        if headers is None:
            headers = getattr(raw_response, "headers", None)
        self.message = message
        self.status_code = status_code
        self.body = body or ""
        self.headers = headers if isinstance(headers, CaseInsensitiveHeaders) else CaseInsensitiveHeaders(headers)
        self.raw_response = raw_response
        self.retry_after = getattr(raw_response, "retry_after", None)
        self.attempts = getattr(raw_response, "attempts", None)
        Exception.__init__(self, message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(message={self.message!r}, status_code={self.status_code!r}, "
                f"body={self.body!r}, headers={self.headers!r}, raw_response={self.raw_response!r})")

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.args, self.__dict__.copy()))


class SDKError(CodatPlatformError, _codat.SDKError):
    """Any other HTTP answer: an undocumented status (400, 408, 409, 422, 502, 504, ...), an error body
    that is not a JSON object, a 3XX (never followed), a 2XX other than 200 without a token.
    ``str(e)`` is "<reason>: Status <code>. Body: <body>" as in the SDK (the reason is the standard
    phrase of the status)."""

    def __init__(self, message: str, raw_response: Optional[Any] = None, body: Optional[str] = None,
                 status_code: Optional[int] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        if status_code is None:
            status_code = getattr(raw_response, "status_code", None) or 0
        shown = body if body is not None else (getattr(raw_response, "body", None) or "")
        text = f"{message}: " if message else ""
        text += f"Status {status_code}"
        if shown:
            if len(shown) > MAX_MESSAGE_LEN:
                shown = shown[:MAX_MESSAGE_LEN] + f"...and {len(shown) - MAX_MESSAGE_LEN} more chars"
            text += f". Body: {shown}"
        super().__init__(text.strip(), raw_response=raw_response, body=body, status_code=status_code,
                         headers=headers)


class ErrorMessage(CodatPlatformError, _codat.ErrorMessage):
    """Codat answered 401, 402, 403, 404, 429, 500 or 503 with its JSON error object. ``str(e)`` is the
    body, as in the SDK; ``e.data`` is the parsed ErrorMessageData. The codat_platform_c attributes
    (service, error, correlation_id, validation as a dict, can_be_retried, detailed_error_code,
    retry_after, attempts) are there too."""

    data: ErrorMessageData

    def __init__(self, data: ErrorMessageData, raw_response: Optional[Any] = None, body: Optional[str] = None,
                 status_code: Optional[int] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        message = body or (data.to_json() if isinstance(data, ErrorMessageData) else str(data))
        super().__init__(message, raw_response=raw_response, body=body, status_code=status_code, headers=headers)
        self.data = data
        raw: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.service = raw.get("service")
        self.error = raw.get("error")
        self.correlation_id = raw.get("correlationId")
        self.validation = raw.get("validation")
        self.can_be_retried = raw.get("canBeRetried")
        self.detailed_error_code = raw.get("detailedErrorCode")


class ResponseValidationError(CodatPlatformError, _codat.SDKError):
    """A 200 whose body is not the model the operation promises (not JSON, not an object, not
    application/json, JSON null, or a CompanyAccessToken field missing or of the wrong type).
    ``str(e)`` is "Response validation failed: <cause>"; ``e.cause`` is the underlying error."""

    def __init__(self, message: str, raw_response: Optional[Any] = None, cause: Optional[BaseException] = None,
                 body: str = "", status_code: Optional[int] = None,
                 headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(f"{message}: {cause}", raw_response=raw_response, body=body, status_code=status_code,
                         headers=headers)
        self.__cause__ = cause

    @property
    def cause(self) -> Optional[BaseException]:
        return self.__cause__


class NoResponseError(Exception):
    """Exported for import compatibility with the SDK, which never raises it either. A call that got no
    HTTP answer raises codat_platform_c.TransportError or codat_platform_c.Timeout."""

    def __init__(self, message: str = "No response received") -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message
