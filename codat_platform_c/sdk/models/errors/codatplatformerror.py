"""``codat_platform.models.errors.codatplatformerror``: the base of the facade's HTTP errors."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

__all__ = ["CodatPlatformError", "CaseInsensitiveHeaders"]


class CaseInsensitiveHeaders(Dict[str, str]):
    """Response headers with lower-case names; ``[]``, ``get`` and ``in`` ignore case (as the SDK's, which is
    a read-only Mapping; this one is also a dict, so ``json.dumps(e.headers)`` works)."""

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
    ``raw_response``. The constructor has the SDK's signature; ``repr``, ``==`` and ``hash`` are the SDK's
    (a dataclass over those five fields, hashing the first three)."""

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
            status_code = getattr(raw_response, "status_code", None) or getattr(raw_response, "status", None) or 0
        if body is None:
            body = getattr(raw_response, "body", None) or getattr(raw_response, "text", None) or ""
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
        return (f"{type(self).__qualname__}(message={self.message!r}, status_code={self.status_code!r}, "
                f"body={self.body!r}, headers={self.headers!r}, raw_response={self.raw_response!r})")

    def _fields(self) -> tuple:
        return (self.message, self.status_code, self.body, self.headers, self.raw_response)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._fields() == other._fields()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.message, self.status_code, self.body))

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.args, self.__dict__.copy()))
