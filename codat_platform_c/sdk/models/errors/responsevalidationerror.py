"""``codat_platform.models.errors.responsevalidationerror``: a 200 whose body is not the promised model."""
from __future__ import annotations

from typing import Any, Mapping, Optional

import codat_platform_c as _codat

from .codatplatformerror import CodatPlatformError

__all__ = ["ResponseValidationError"]


class ResponseValidationError(CodatPlatformError, _codat.SDKError):
    """A 200 whose body is not the model the operation promises (not JSON, not an object, JSON null, not
    application/json, or a field missing or of the wrong type). ``str(e)`` is "Response validation failed:
    <cause>"; ``e.cause`` is the pydantic ValidationError, as in the SDK. Also a codat_platform_c.SDKError."""

    def __init__(self, message: str, raw_response: Optional[Any] = None, cause: Optional[Exception] = None,
                 body: str = "", status_code: Optional[int] = None,
                 headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(f"{message}: {cause}", raw_response=raw_response, body=body, status_code=status_code,
                         headers=headers)
        self.__cause__ = cause

    @property
    def cause(self) -> Optional[BaseException]:
        """Normally the underlying pydantic ValidationError."""
        return self.__cause__
