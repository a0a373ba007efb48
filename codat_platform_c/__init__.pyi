"""Type stubs for codat_platform_c (the package's public names)."""
import os
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Literal

from . import _core
from ._core import (
    DEFAULT_CONCURRENCY as DEFAULT_CONCURRENCY,
    DEFAULT_SERVER_URL as DEFAULT_SERVER_URL,
    LIBCURL_VERSION as LIBCURL_VERSION,
    USER_AGENT as USER_AGENT,
    CodatError as CodatError,
    ErrorMessage as ErrorMessage,
    SDKError as SDKError,
    Timeout as Timeout,
    TransportError as TransportError,
    __version__ as __version__,
)

__all__: list[str]

class RetryConfig:
    initial_interval_ms: int
    max_interval_ms: int
    exponent: float
    max_elapsed_ms: int
    retry_connection_errors: bool
    status_codes: tuple[str, ...]
    def __init__(
        self,
        initial_interval_ms: int = 500,
        max_interval_ms: int = 60000,
        exponent: float = 1.5,
        max_elapsed_ms: int = 3600000,
        retry_connection_errors: bool = True,
        status_codes: Iterable[str | int] = ("408", "429", "5XX"),
    ) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Client(_core.Client):
    company_concurrency_limit: int
    def __init__(
        self,
        auth_header: str | None = None,
        *,
        api_key: str | None = None,
        server_url: str = ...,
        timeout_ms: float | None = None,
        retries: RetryConfig | None = ...,
        verify: bool | str | bytes | os.PathLike[str] | os.PathLike[bytes] = True,
        max_body_bytes: int | None = None,
        batch_concurrency: int | None = None,
        cache: bool = False,
        cache_margin_s: float | None = None,
        company_concurrency_limit: int | None = None,
    ) -> None: ...
    def __enter__(self) -> "Client": ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    def __copy__(self) -> "Client": ...
    def __deepcopy__(self, memo: Any) -> "Client": ...
    async def get_access_token_async(
        self,
        company_id: str,
        *,
        timeout_ms: float | None = ...,
        retries: RetryConfig | None = ...,
        server_url: str | None = None,
        http_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]: ...
    async def get_company_access_token_async(
        self,
        company_id: str,
        *,
        timeout_ms: float | None = ...,
        retries: RetryConfig | None = ...,
        server_url: str | None = None,
        http_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]: ...
    def invalidate(self, company_id: str | None = None) -> None: ...

def default_client() -> Client: ...
def get_access_token(
    company_id: str,
    *,
    timeout_ms: float | None = ...,
    retries: RetryConfig | None = ...,
    server_url: str | None = None,
    http_headers: Mapping[str, str] | None = None,
) -> dict[str, Any]: ...
def get_company_access_token(
    company_id: str,
    *,
    timeout_ms: float | None = ...,
    retries: RetryConfig | None = ...,
    server_url: str | None = None,
    http_headers: Mapping[str, str] | None = None,
) -> dict[str, Any]: ...
