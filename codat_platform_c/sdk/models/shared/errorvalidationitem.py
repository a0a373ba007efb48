"""``codat_platform.models.shared.errorvalidationitem``."""
from __future__ import annotations

from typing import ClassVar, FrozenSet, Optional

from pydantic import Field
from typing_extensions import NotRequired, TypedDict

from ...types import UNSET, UNSET_SENTINEL, OptionalNullable  # noqa: F401  (the SDK's module has them)
from ._base import CodatModel

__all__ = ["ErrorValidationItem", "ErrorValidationItemTypedDict"]


class ErrorValidationItem(CodatModel):
    # ErrorValidationItem
    # (No docstring: the SDK's class has none, so JSON schemas and help() match.)
    _nullable_keys: ClassVar[FrozenSet[str]] = frozenset(
        {"itemId", "item_id", "message", "validatorName", "validator_name"})
    item_id: OptionalNullable[str] = Field(default=UNSET, description="Unique identifier for a validation item.",
                                           alias="itemId")
    message: OptionalNullable[str] = Field(default=UNSET, description="A message outlining validation item's issue.")
    validator_name: OptionalNullable[str] = Field(default=UNSET, description="Name of validator.",
                                                  alias="validatorName")


class ErrorValidationItemTypedDict(TypedDict):
    """TypedDict variant of ErrorValidationItem, for dict-literal request/response inputs."""
    item_id: NotRequired[Optional[str]]
    message: NotRequired[Optional[str]]
    validator_name: NotRequired[Optional[str]]
