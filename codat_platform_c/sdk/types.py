"""The UNSET sentinel of the official SDK (``codat_platform.types``), without pydantic.

``UNSET`` means "not given" where ``None`` is a real value: ``retries=UNSET`` (the default) takes the
SDK-level ``retry_config``; ``ErrorMessageData.validation`` is ``UNSET`` when the error body had no
``validation`` key and ``None`` when it held ``null``.
"""
from __future__ import annotations

from typing import Literal, Optional, TypeVar, Union

__all__ = ["UNSET", "Unset", "Nullable", "OptionalNullable"]


class Unset:
    """The type of UNSET. Falsy; one instance per process (copies and unpickling give it back)."""

    __slots__ = ()
    _instance: Optional["Unset"] = None

    def __new__(cls) -> "Unset":
        if cls._instance is None:
            cls._instance = object.__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        return "UNSET"

    def __copy__(self) -> "Unset":
        return self

    def __deepcopy__(self, memo: object) -> "Unset":
        return self


UNSET = Unset()

T = TypeVar("T")
Nullable = Union[T, None]
OptionalNullable = Union[T, None, Unset]
