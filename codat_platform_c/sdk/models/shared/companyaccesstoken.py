"""``codat_platform.models.shared.companyaccesstoken``: the answer of GET /companies/{companyId}/accessToken."""
from __future__ import annotations

from pydantic import Field
from typing_extensions import NotRequired, TypedDict

from ._base import CodatModel

__all__ = ["CompanyAccessToken", "CompanyAccessTokenTypedDict"]


class CompanyAccessToken(CodatModel):
    # Details of the access token provisioned for a company.
    # (No docstring: the SDK's class has none, so JSON schemas and help() match.)
    expires_in: int = Field(description="The number of seconds until the access token expires.", alias="expiresIn")
    access_token: str = Field(description="The access token for the company.", alias="accessToken")
    token_type: str = Field(description="The type of token.", alias="tokenType")


class CompanyAccessTokenTypedDict(TypedDict):
    """TypedDict variant of CompanyAccessToken, for dict-literal request/response inputs."""
    expires_in: NotRequired[int]
    access_token: NotRequired[str]
    token_type: NotRequired[str]
