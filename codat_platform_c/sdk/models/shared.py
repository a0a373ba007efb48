"""Shared models with the official SDK's names and fields (``codat_platform.models.shared``), as light
slotted dataclasses: no pydantic.

Each model has ``to_dict()`` (JSON names, None left out), ``to_json()``, ``model_dump(by_alias=False,
exclude_none=False)`` and the class methods ``from_dict()``/``from_json()``, which check the JSON the way
the facade checks a response (and raise ValueError when it does not fit).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Dict, FrozenSet, Iterator, List, Optional, Union

from ..types import UNSET, OptionalNullable, Unset

__all__ = [
    "Security", "ConnectionManagementAccessToken", "CompanyAccessToken", "ErrorMessage",
    "ErrorValidation", "ErrorValidationItem",
]


# ---------------------------------------------------------------- field checks

_NUMERIC = None  # compiled lazily: importing re is cheap, compiling is not needed for a success


def _lax_int(value: Any, name: str) -> int:
    """An int as the SDK's pydantic (lax mode) reads one: an int, an integral float, or a string of one
    ("3600", " 3600 ", "+36", "3600.0"). Unlike the SDK a bool is refused: true is not a number of seconds."""
    global _NUMERIC
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, str):
        if _NUMERIC is None:
            import re
            _NUMERIC = re.compile(r"[+-]?[0-9]+(?:\.0*)?")
        text = value.strip()
        if _NUMERIC.fullmatch(text):
            return int(text.split(".", 1)[0])
        raise ValueError(f"{name}: expected an integer, got the string {value!r}")
    raise ValueError(f"{name}: expected an integer, got {type(value).__name__}")


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a string, got {type(value).__name__}")
    return value


class _Model:
    """to_dict/to_json/model_dump/from_dict/from_json for the dataclasses below."""

    __slots__ = ()
    _ALIASES: ClassVar[Dict[str, str]] = {}
    _NULLABLE: ClassVar[FrozenSet[str]] = frozenset()

    def model_dump(self, *, by_alias: bool = False, exclude_none: bool = False) -> Dict[str, Any]:
        """The fields as a dict. As in the SDK's models, None is left out (except for a nullable field,
        such as ErrorMessage.validation, unless exclude_none) and UNSET always is."""
        out: Dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if value is UNSET or (value is None and (exclude_none or f.name not in self._NULLABLE)):
                continue
            if isinstance(value, _Model):
                value = value.model_dump(by_alias=by_alias, exclude_none=exclude_none)
            elif isinstance(value, list):
                value = [v.model_dump(by_alias=by_alias, exclude_none=exclude_none) if isinstance(v, _Model) else v
                         for v in value]
            out[self._ALIASES.get(f.name, f.name) if by_alias else f.name] = value
        return out

    def to_dict(self) -> Dict[str, Any]:
        """The JSON object (JSON field names), without None or UNSET fields."""
        return self.model_dump(by_alias=True, exclude_none=True)

    def to_json(self) -> str:
        import json
        return json.dumps(self.to_dict())

    def to_str(self) -> str:
        import pprint
        return pprint.pformat(self.model_dump(by_alias=True))

    @classmethod
    def from_json(cls, json_str: Union[str, bytes]) -> Any:
        import json
        return cls.from_dict(json.loads(json_str))

    @classmethod
    def from_dict(cls, obj: Any) -> Any:  # overridden below
        raise NotImplementedError


@dataclass(slots=True)
class Security(_Model):
    """``auth_header`` is sent verbatim as Authorization: "Basic " + base64 of the API key."""

    auth_header: str

    def __repr__(self) -> str:  # never print the secret
        return "Security(auth_header='<redacted>')"

    @classmethod
    def from_dict(cls, obj: Any) -> "Security":
        if not isinstance(obj, Mapping) or "auth_header" not in obj:
            raise ValueError("Security: expected a mapping with 'auth_header'")
        return cls(auth_header=_str(obj["auth_header"], "auth_header"))


@dataclass(slots=True)
class ConnectionManagementAccessToken(_Model):
    """GET /companies/{companyId}/connectionManagement/accessToken (valid one hour)."""

    access_token: Optional[str] = None
    _ALIASES: ClassVar[Dict[str, str]] = {"access_token": "accessToken"}

    @classmethod
    def from_dict(cls, obj: Any) -> "ConnectionManagementAccessToken":
        if not isinstance(obj, Mapping):
            raise ValueError(f"ConnectionManagementAccessToken: expected a JSON object, got {type(obj).__name__}")
        token = obj.get("accessToken")
        return cls(access_token=None if token is None else _str(token, "accessToken"))


@dataclass(slots=True)
class CompanyAccessToken(_Model):
    """GET /companies/{companyId}/accessToken: all three fields are required."""

    access_token: str
    expires_in: int
    token_type: str
    _ALIASES: ClassVar[Dict[str, str]] = {
        "access_token": "accessToken", "expires_in": "expiresIn", "token_type": "tokenType"}

    @classmethod
    def from_dict(cls, obj: Any) -> "CompanyAccessToken":
        if not isinstance(obj, Mapping):
            raise ValueError(f"CompanyAccessToken: expected a JSON object, got {type(obj).__name__}")
        problems = [f"{k}: field required" for k in ("expiresIn", "accessToken", "tokenType") if obj.get(k) is None]
        if problems:
            raise ValueError("CompanyAccessToken: " + "; ".join(problems))
        return cls(access_token=_str(obj["accessToken"], "accessToken"),
                   expires_in=_lax_int(obj["expiresIn"], "expiresIn"),
                   token_type=_str(obj["tokenType"], "tokenType"))


@dataclass(slots=True, kw_only=True)
class ErrorValidationItem(_Model):
    item_id: OptionalNullable[str] = UNSET
    message: OptionalNullable[str] = UNSET
    validator_name: OptionalNullable[str] = UNSET
    _NULLABLE: ClassVar[FrozenSet[str]] = frozenset({"item_id", "message", "validator_name"})
    _ALIASES: ClassVar[Dict[str, str]] = {"item_id": "itemId", "validator_name": "validatorName"}

    @classmethod
    def from_dict(cls, obj: Any) -> "ErrorValidationItem":
        if not isinstance(obj, Mapping):
            raise ValueError("ErrorValidationItem: expected a JSON object")
        return cls(item_id=obj.get("itemId", UNSET), message=obj.get("message", UNSET),
                   validator_name=obj.get("validatorName", UNSET))


def _items(value: Any) -> Any:
    if isinstance(value, list):
        return [ErrorValidationItem.from_dict(v) if isinstance(v, Mapping) else v for v in value]
    return value


@dataclass(slots=True, kw_only=True)
class ErrorValidation(_Model):
    errors: OptionalNullable[List[ErrorValidationItem]] = UNSET
    warnings: OptionalNullable[List[ErrorValidationItem]] = UNSET
    _NULLABLE: ClassVar[FrozenSet[str]] = frozenset({"errors", "warnings"})

    @classmethod
    def from_dict(cls, obj: Any) -> "ErrorValidation":
        if not isinstance(obj, Mapping):
            raise ValueError("ErrorValidation: expected a JSON object")
        return cls(errors=_items(obj.get("errors", UNSET)), warnings=_items(obj.get("warnings", UNSET)))


@dataclass(slots=True, kw_only=True, repr=False)
class ErrorMessage(_Model, Mapping[str, Any]):
    """The body of a Codat error answer (``errors.ErrorMessage.data``; the SDK calls this class
    ``errors.ErrorMessageData`` too).

    Fields as in the SDK: ``status_code`` (from "statusCode"; numeric strings become int), ``service``,
    ``error``, ``correlation_id``, ``validation`` (an ErrorValidation; None for null; UNSET when absent),
    ``can_be_retried``, ``detailed_error_code``. Values are kept as Codat sent them: unlike the SDK, a
    field of an unexpected type does not turn the ErrorMessage into an SDKError.

    It is also a read-only Mapping of the JSON object as sent (``data["correlationId"]``), so code written
    against ``codat_platform_c.ErrorMessage.data`` (a dict) keeps working.
    """

    status_code: Optional[int] = None
    service: Optional[str] = None
    error: Optional[str] = None
    correlation_id: Optional[str] = None
    validation: OptionalNullable[ErrorValidation] = UNSET
    can_be_retried: Optional[str] = None
    detailed_error_code: Optional[int] = None
    _raw: Dict[str, Any] = field(default_factory=dict, compare=False)
    _NULLABLE: ClassVar[FrozenSet[str]] = frozenset({"validation"})
    _ALIASES: ClassVar[Dict[str, str]] = {
        "status_code": "statusCode", "correlation_id": "correlationId", "can_be_retried": "canBeRetried",
        "detailed_error_code": "detailedErrorCode"}

    @classmethod
    def from_dict(cls, obj: Any) -> "ErrorMessage":
        if not isinstance(obj, Mapping):
            raise ValueError(f"ErrorMessage: expected a JSON object, got {type(obj).__name__}")

        def as_int(key: str) -> Any:
            value = obj.get(key)
            try:
                return None if value is None else _lax_int(value, key)
            except ValueError:
                return value  # kept as sent

        if "validation" not in obj:
            validation: Any = UNSET
        elif isinstance(obj["validation"], Mapping):
            validation = ErrorValidation.from_dict(obj["validation"])
        else:
            validation = obj["validation"]
        return cls(status_code=as_int("statusCode"), service=obj.get("service"), error=obj.get("error"),
                   correlation_id=obj.get("correlationId"), validation=validation,
                   can_be_retried=obj.get("canBeRetried"), detailed_error_code=as_int("detailedErrorCode"),
                   _raw=dict(obj))

    # Mapping over the JSON as sent
    def __getitem__(self, key: str) -> Any:
        return self._raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if not f.name.startswith("_"))
        return f"ErrorMessage({shown})"


# The SDK's errors module names the body class ErrorMessageData.
ErrorMessageData = ErrorMessage
