"""Type stubs for the C extension codat_platform_c._core."""
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Protocol, TypedDict, final

__version__: str
USER_AGENT: str
LIBCURL_VERSION: str
DEFAULT_SERVER_URL: str
DEFAULT_CONCURRENCY: int
_RETIRED_WARNING: str
_RETIRED_DATE: str

class _RetryLike(Protocol):
    initial_interval_ms: int
    max_interval_ms: int
    exponent: float
    max_elapsed_ms: int
    retry_connection_errors: bool
    status_codes: Iterable[str | int]

class _RateLimit(TypedDict):  # the shape of Client.rate_limit; a stub-only name
    limit: int | None
    remaining: int | None
    reset: str | None

class CodatError(Exception): ...

class ErrorMessage(CodatError):
    status_code: int
    reason: str
    body: str
    headers: dict[str, str]
    data: dict[str, Any]
    service: str | None
    error: str | None
    correlation_id: str | None
    validation: dict[str, Any] | None
    can_be_retried: str | None
    detailed_error_code: int | None
    retry_after: float | None
    attempts: int

class SDKError(CodatError):
    status_code: int
    reason: str
    body: str
    headers: dict[str, str]
    retry_after: float | None
    attempts: int

class TransportError(CodatError, ConnectionError):
    attempts: int
    curl_code: int

class Timeout(TransportError, TimeoutError): ...

_Endpoint = Literal["connection_management", "company"]
_Unset = Any  # options left out use the client's settings

class Client:
    def __init__(
        self,
        auth_header: str | None = None,
        *,
        api_key: str | None = None,
        server_url: str = ...,
        timeout_ms: float | None = None,
        retries: _RetryLike | None = ...,
        verify: bool | str | bytes | os.PathLike[str] | os.PathLike[bytes] = True,
        max_body_bytes: int | None = None,
        batch_concurrency: int | None = None,
    ) -> None: ...
    def get_access_token(
        self,
        company_id: str,
        /,
        *,
        timeout_ms: float | None = ...,
        retries: _RetryLike | None = ...,
        server_url: str | None = None,
        http_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]: ...
    def get_company_access_token(
        self,
        company_id: str,
        /,
        *,
        timeout_ms: float | None = ...,
        retries: _RetryLike | None = ...,
        server_url: str | None = None,
        http_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]: ...
    def get_access_tokens(
        self,
        company_ids: Iterable[str],
        /,
        *,
        concurrency: int | None = None,
        endpoint: _Endpoint = "connection_management",
        progress: Callable[[int, int], object] | None = None,
        threads: int | None = None,
        timeout_ms: float | None = ...,
        retries: _RetryLike | None = ...,
        server_url: str | None = None,
        http_headers: Mapping[str, str] | None = None,
    ) -> dict[str, dict[str, Any] | BaseException]: ...
    def _submit_async(
        self, endpoint: _Endpoint, company_id: str, callback: Callable[[Any, int], object], /, **options: Any
    ) -> int: ...
    def _cancel_async(self, call_id: int, /) -> None: ...
    def _check_batch_args(self, company_ids: Iterable[str], /, **options: Any) -> list[str]: ...
    def _connection_management_token(
        self,
        company_id: str,
        /,
        *,
        timeout_ms: float | None = ...,
        retries: _RetryLike | None = ...,
        server_url: str | None = None,
        http_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]: ...
    def _reduce_config(self) -> dict[str, Any]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Client": ...
    def __exit__(self, *exc_info: object) -> bool: ...
    @property
    def rate_limit(self) -> _RateLimit | None: ...
    @property
    def server_url(self) -> str: ...
    @property
    def closed(self) -> bool: ...

@final
class _LoopDriver:
    """The async calls of one Client on one asyncio event loop (private: Client makes one per loop)."""
    def __init__(self, client: Client, loop: Any, /) -> None: ...
    def submit(self, endpoint: _Endpoint, company_id: str, future: Any, /, **options: Any) -> int: ...
    def cancel(self, call_id: int, /) -> None: ...
    def close(self) -> None: ...
    @property
    def calls(self) -> int: ...
