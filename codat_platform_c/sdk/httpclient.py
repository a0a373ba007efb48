"""``codat_platform.httpclient``: the HTTP client protocols of the official SDK, for import compatibility.

The facade sends through libcurl, not httpx: ``CodatPlatform(client=...)`` raises TypeError (see
docs/sdk_facade.md). These Protocols let annotations written for the SDK keep working; they are
runtime-checkable by method name, and nothing here imports httpx.
"""
from __future__ import annotations

from typing import Any, Optional, Union

from typing_extensions import Protocol, runtime_checkable

__all__ = ["HttpClient", "AsyncHttpClient", "ClientOwner", "close_clients"]


@runtime_checkable
class HttpClient(Protocol):
    def send(self, request: Any, *, stream: bool = False, auth: Any = ..., follow_redirects: Any = ...) -> Any:
        pass

    def build_request(self, method: str, url: Any, **kwargs: Any) -> Any:
        pass

    def close(self) -> None:
        pass


@runtime_checkable
class AsyncHttpClient(Protocol):
    async def send(self, request: Any, *, stream: bool = False, auth: Any = ...,
                   follow_redirects: Any = ...) -> Any:
        pass

    def build_request(self, method: str, url: Any, **kwargs: Any) -> Any:
        pass

    async def aclose(self) -> None:
        pass


class ClientOwner(Protocol):
    client: Union[HttpClient, None]
    async_client: Union[AsyncHttpClient, None]


def close_clients(owner: ClientOwner, sync_client: Union[HttpClient, None],
                  sync_client_supplied: bool, async_client: Union[AsyncHttpClient, None],
                  async_client_supplied: bool) -> None:
    """As in the SDK: close the clients the SDK made itself (not the ones the caller supplied)."""
    owner.client = None
    owner.async_client = None
    if sync_client is not None and not sync_client_supplied:
        try:
            sync_client.close()
        except Exception:  # noqa: BLE001  (closing is best effort, as in the SDK)
            pass
    if async_client is not None and not async_client_supplied:
        import asyncio
        try:
            loop: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        try:
            if loop is None:
                asyncio.run(async_client.aclose())
            else:
                loop.create_task(async_client.aclose())
        except Exception:  # noqa: BLE001
            pass
