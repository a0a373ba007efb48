"""``codat_platform.models.shared.errorvalidation``."""
from __future__ import annotations

from typing import Any, ClassVar, Dict, FrozenSet, List, Optional, Tuple

from typing_extensions import NotRequired, Self, TypedDict

from ...types import UNSET, UNSET_SENTINEL, OptionalNullable  # noqa: F401  (the SDK's module has them)
from ._base import CodatModel
from .errorvalidationitem import ErrorValidationItem, ErrorValidationItemTypedDict

__all__ = ["ErrorValidation", "ErrorValidationTypedDict"]


class ErrorValidation(CodatModel):
    # A human-readable object describing validation decisions Codat has made. If an operation has failed because of validation errors, they will be detailed here.
    # (No docstring: the SDK's class has none, so JSON schemas and help() match.)
    _nullable_keys: ClassVar[FrozenSet[str]] = frozenset({"errors", "warnings"})
    _nested_models: ClassVar[Dict[str, Tuple[Any, bool]]] = {"errors": (ErrorValidationItem, True),
                                                             "warnings": (ErrorValidationItem, True)}
    errors: OptionalNullable[List[ErrorValidationItem]] = UNSET
    warnings: OptionalNullable[List[ErrorValidationItem]] = UNSET

    def to_dict(self) -> Dict[str, Any]:
        out = self.model_dump(by_alias=True, exclude_none=True)
        # As the SDK: each item by its own to_dict, and an empty or absent list as []
        for name in ("errors", "warnings"):
            items = [item.to_dict() for item in (getattr(self, name) or []) if item]
            if items:
                out[name] = items
        return out


class ErrorValidationTypedDict(TypedDict):
    """TypedDict variant of ErrorValidation, for dict-literal request/response inputs."""
    errors: NotRequired[Optional[List[ErrorValidationItemTypedDict]]]
    warnings: NotRequired[Optional[List[ErrorValidationItemTypedDict]]]
