"""``codat_platform.models.errors.sdkerror``: any HTTP answer the operation does not document."""
from __future__ import annotations

from typing import Any, Mapping, Optional

import codat_platform_c as _codat

from .codatplatformerror import CodatPlatformError

__all__ = ["SDKError", "MAX_MESSAGE_LEN"]

MAX_MESSAGE_LEN = 10_000


class SDKError(CodatPlatformError, _codat.SDKError):
    """An undocumented status (400, 408, 409, 422, 502, 504, ...), an error body that is not a JSON object, a
    3XX (never followed), a 2XX other than 200 without a token. ``str(e)`` is "<reason>: Status <code>. Body:
    <body>" as in the SDK, where the reason is the server's own phrase from the status line (Codat's, such as
    "Invalid company"; the standard phrase over HTTP/2, which has none). Also a codat_platform_c.SDKError."""

    def __init__(self, message: str, raw_response: Optional[Any] = None, body: Optional[str] = None,
                 status_code: Optional[int] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        if status_code is None:
            status_code = getattr(raw_response, "status_code", None) or getattr(raw_response, "status", None) or 0
        shown = body or (getattr(raw_response, "body", None) or getattr(raw_response, "text", None) or "")
        text = f"{message}: " if message else ""
        text += f"Status {status_code}"
        if shown:
            if len(shown) > MAX_MESSAGE_LEN:
                shown = shown[:MAX_MESSAGE_LEN] + f"...and {len(shown) - MAX_MESSAGE_LEN} more chars"
            text += f". Body: {shown}"
        super().__init__(text.strip(), raw_response=raw_response, body=body or "", status_code=status_code,
                         headers=headers)
