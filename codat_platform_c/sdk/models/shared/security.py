"""``codat_platform.models.shared.security``: how a call authenticates."""
from __future__ import annotations

from pydantic import BaseModel
from typing_extensions import TypedDict

__all__ = ["Security", "SecurityTypedDict"]


class SecurityTypedDict(TypedDict):
    auth_header: str


class Security(BaseModel):
    auth_header: str  # "Basic " and the API key, sent verbatim as Authorization

    # Unlike the SDK's, the key never shows in a repr, a str or a log line (model_dump still has it).
    def __repr__(self) -> str:
        return "Security(auth_header='<redacted>')"

    def __str__(self) -> str:
        return "auth_header='<redacted>'"

    def __repr_args__(self):  # pydantic's rich/devtools reprs go through this
        return [("auth_header", "<redacted>")]
