"""``codat_platform.models.errors.no_response_error``."""
from __future__ import annotations

__all__ = ["NoResponseError"]


class NoResponseError(Exception):
    """Exported for import compatibility with the SDK, which never raises it either. A call that got no HTTP
    answer raises codat_platform_c.TransportError (a ConnectionError) or codat_platform_c.Timeout."""

    def __init__(self, message: str = "No response received") -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message
