"""What every shared model has, as in the official SDK's generated models: pydantic v2 with the JSON names
as aliases (``populate_by_name``: either name builds one), assignment validated, and a serializer that
leaves out None (except for nullable fields) and UNSET, so ``model_dump(by_alias=True)`` and FastAPI's
JSON are the SDK's. ``to_dict``/``to_json``/``to_str``/``from_dict``/``from_json`` as the SDK has them."""
from __future__ import annotations

import json
import pprint
from typing import Any, ClassVar, Dict, FrozenSet, Optional, Tuple

from pydantic import BaseModel, ConfigDict, model_serializer
from typing_extensions import Self

from ...types import UNSET_SENTINEL

__all__ = ["CodatModel"]


class CodatModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, validate_assignment=True, protected_namespaces=())

    # Keys kept in a dump even when None (the SDK's "nullable" fields); both spellings, as in the SDK.
    _nullable_keys: ClassVar[FrozenSet[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _serialize_drop_none(self, handler: Any) -> Dict[str, Any]:
        serialized = handler(self)
        nullable = self._nullable_keys
        return {k: v for k, v in serialized.items()
                if v != UNSET_SENTINEL and (v is not None or k in nullable)}

    def to_str(self) -> str:
        """The model as pprint shows its dump with JSON names."""
        return pprint.pformat(self.model_dump(by_alias=True))

    def to_json(self) -> str:
        """The JSON object (JSON names, None left out)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> Optional[Self]:
        return cls.from_dict(json.loads(json_str))

    def to_dict(self) -> Dict[str, Any]:
        """The JSON object as a dict: JSON names, None left out."""
        return self.model_dump(by_alias=True, exclude_none=True)

    # The JSON names that hold another model, for from_dict: {name: (model, True if a list of them)}.
    _nested_models: ClassVar[Dict[str, Tuple[Any, bool]]] = {}

    @classmethod
    def from_dict(cls, obj: Optional[Dict[str, Any]]) -> Optional[Self]:
        """As the SDK's: only the model's own JSON names (a missing one reads as None), each nested model
        (or list of them) by its own from_dict."""
        if obj is None:
            return None
        if not isinstance(obj, dict):
            return cls.model_validate(obj)
        known = {(f.alias or name): obj.get(f.alias or name) for name, f in cls.model_fields.items()}
        for key, (model, is_list) in cls._nested_models.items():
            value = known.get(key)
            if value is not None:
                known[key] = [model.from_dict(item) for item in value] if is_list else model.from_dict(value)
        return cls.model_validate(known)
