"""``codat_platform.models.errors.errormessage``: Codat's documented error answer."""
from __future__ import annotations

from typing import Any, Mapping, Optional

import codat_platform_c as _codat

from ..shared.errormessage import ErrorMessage as ErrorMessageData
from .codatplatformerror import CodatPlatformError

__all__ = ["ErrorMessage", "ErrorMessageData"]


class ErrorMessage(CodatPlatformError, _codat.ErrorMessage):
    """Codat answered 401, 402, 403, 404, 429, 500 or 503 with its JSON error object. ``str(e)`` is the body,
    as in the SDK; ``e.data`` is the ErrorMessageData model. The codat_platform_c.ErrorMessage attributes
    (service, error, correlation_id, validation as sent, can_be_retried, detailed_error_code, retry_after,
    attempts) are there too, so either family's ``except`` catches it."""

    data: ErrorMessageData  # type: ignore[assignment]  # (the C client's is the dict as sent)

    def __init__(self, data: ErrorMessageData, raw_response: Optional[Any] = None, body: Optional[str] = None,
                 status_code: Optional[int] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        message = body or str(data)
        super().__init__(message, raw_response=raw_response, body=body, status_code=status_code, headers=headers)
        self.data = data
        sent: Any = getattr(raw_response, "data", None)  # the JSON object as Codat sent it, from the core
        if not isinstance(sent, Mapping):
            sent = data.model_dump(by_alias=True) if isinstance(data, ErrorMessageData) else {}
        self.service = sent.get("service")
        self.error = sent.get("error")
        self.correlation_id = sent.get("correlationId")
        self.validation = sent.get("validation")
        self.can_be_retried = sent.get("canBeRetried")
        self.detailed_error_code = sent.get("detailedErrorCode")
