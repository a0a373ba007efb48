"""The official SDK's sentinel and type aliases (``codat_platform.types``), on the same pydantic base.

``UNSET`` means "not given" where ``None`` is a real value: ``retries=UNSET`` (the default) takes the
SDK-level ``retry_config``; ``ErrorMessageData.validation`` is ``UNSET`` when the error body had no
``validation`` key and ``None`` when it held ``null``. As in the SDK, ``Unset`` is a pydantic model that
serialises to ``UNSET_SENTINEL``, so that a model's serializer can drop UNSET fields while keeping explicit
nulls; ``BaseModel`` is pydantic's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Literal, Optional, TypeVar, Union

from typing_extensions import TypeAlias, TypeAliasType

from pydantic import BaseModel as BaseModel, ConfigDict, model_serializer

__all__ = ["BaseModel", "UNSET", "UNSET_SENTINEL", "Unset", "Nullable", "OptionalNullable", "UnrecognizedInt",
           "UnrecognizedStr"]

# Open enums fall back to the plain scalar, as in the SDK.
UnrecognizedInt: TypeAlias = int
UnrecognizedStr: TypeAlias = str

UNSET_SENTINEL = "~?~unset~?~sentinel~?~"


class Unset(BaseModel):
    """Sentinel distinguishing "not provided" (UNSET) from "explicit None". As a
    pydantic model it serializes to UNSET_SENTINEL, so a model serializer can drop
    UNSET fields from the wire payload while still emitting explicit nulls."""

    # (The SDK's docstring, word for word: it appears in JSON schemas. Here UNSET is also one instance per
    # process: copies and unpickling give it back.)

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @model_serializer(mode="plain")
    def serialize_model(self) -> str:
        return UNSET_SENTINEL

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        return "UNSET"

    def __copy__(self) -> "Unset":
        return self

    def __deepcopy__(self, memo: Optional[Dict[int, Any]] = None) -> "Unset":
        return self


UNSET = Unset()
_Unset = Unset

T = TypeVar("T")

if TYPE_CHECKING:
    Nullable: TypeAlias = Union[T, None]
    OptionalNullable: TypeAlias = Union[Optional[Nullable[T]], _Unset]
else:
    Nullable = TypeAliasType("Nullable", Union[T, None], type_params=(T,))
    OptionalNullable = TypeAliasType("OptionalNullable", Union[Optional[T], _Unset], type_params=(T,))
