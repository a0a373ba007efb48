"""Request models with the official SDK's names (``codat_platform.models.operations``).

A call takes one of these or a dict with the same key: ``request={"company_id": "..."}``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

__all__ = [
    "GetConnectionManagementAccessTokenRequest", "GetConnectionManagementAccessTokenRequestTypedDict",
    "GetCompanyAccessTokenRequest", "GetCompanyAccessTokenRequestTypedDict",
]


def _check(company_id: object) -> None:
    # The SDK's pydantic raises ValidationError, a ValueError; so does this.
    if not isinstance(company_id, str):
        raise ValueError(f"company_id: expected a string, got {type(company_id).__name__}")


@dataclass(slots=True, kw_only=True)
class GetConnectionManagementAccessTokenRequest:
    company_id: str
    """Unique identifier for a company."""

    def __post_init__(self) -> None:
        _check(self.company_id)


class GetConnectionManagementAccessTokenRequestTypedDict(TypedDict):
    company_id: str


@dataclass(slots=True, kw_only=True)
class GetCompanyAccessTokenRequest:
    company_id: str
    """Unique identifier for a company."""

    def __post_init__(self) -> None:
        _check(self.company_id)


class GetCompanyAccessTokenRequestTypedDict(TypedDict):
    company_id: str
