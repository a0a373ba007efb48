"""``codat_platform.models.shared.errormessage``: the body of a Codat error answer (``errors.ErrorMessage.data``,
also named ``errors.ErrorMessageData``)."""
from __future__ import annotations

from typing import Any, ClassVar, Dict, FrozenSet, Optional, Tuple

from pydantic import Field
from typing_extensions import NotRequired, Self, TypedDict

from ...types import UNSET, UNSET_SENTINEL, OptionalNullable  # noqa: F401  (the SDK's module has them)
from ._base import CodatModel
from .errorvalidation import ErrorValidation, ErrorValidationTypedDict

__all__ = ["ErrorMessage", "ErrorMessageTypedDict"]


class ErrorMessage(CodatModel):
    # ErrorMessage
    # (No docstring: the SDK's class has none, so JSON schemas and help() match.)
    _nullable_keys: ClassVar[FrozenSet[str]] = frozenset({"validation"})
    _nested_models: ClassVar[Dict[str, Tuple[Any, bool]]] = {"validation": (ErrorValidation, False)}
    status_code: Optional[int] = Field(default=None, description="The HTTP status code returned by the error.",
                                       alias="statusCode")
    service: Optional[str] = Field(default=None, description="Codat's service the returned the error.")
    error: Optional[str] = Field(default=None, description="A brief description of the error.")
    correlation_id: Optional[str] = Field(
        default=None, description="Unique identifier used to propagate to all downstream services and determine "
        "the source of the error.", alias="correlationId")
    validation: OptionalNullable[ErrorValidation] = UNSET
    can_be_retried: Optional[str] = Field(
        default=None, description="`True` if the error occurred transiently and can be retried.",
        alias="canBeRetried")
    detailed_error_code: Optional[int] = Field(
        default=None, description="Machine readable error code used to automate processes based on the code "
        "returned.", alias="detailedErrorCode")

    def to_dict(self) -> Dict[str, Any]:
        out = self.model_dump(by_alias=True, exclude_none=True)
        if self.validation:
            out["validation"] = self.validation.to_dict()
        return out


class ErrorMessageTypedDict(TypedDict):
    """TypedDict variant of ErrorMessage, for dict-literal request/response inputs."""
    status_code: NotRequired[Optional[int]]
    service: NotRequired[Optional[str]]
    error: NotRequired[Optional[str]]
    correlation_id: NotRequired[Optional[str]]
    validation: NotRequired[Optional[ErrorValidationTypedDict]]
    can_be_retried: NotRequired[Optional[str]]
    detailed_error_code: NotRequired[Optional[int]]
