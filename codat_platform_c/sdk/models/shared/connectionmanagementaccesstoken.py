"""``codat_platform.models.shared.connectionmanagementaccesstoken``: the answer of the retired
GET /companies/{companyId}/connectionManagement/accessToken."""
from __future__ import annotations

from typing import Optional

from pydantic import Field
from typing_extensions import NotRequired, TypedDict

from ._base import CodatModel

__all__ = ["ConnectionManagementAccessToken", "ConnectionManagementAccessTokenTypedDict"]


class ConnectionManagementAccessToken(CodatModel):
    # ConnectionManagementAccessToken
    # (No docstring: the SDK's class has none, so JSON schemas and help() match.)
    access_token: Optional[str] = Field(
        default=None, description="Access token that allows SMBs to manage connections that have access to their data.",
        alias="accessToken")


class ConnectionManagementAccessTokenTypedDict(TypedDict):
    """TypedDict variant of ConnectionManagementAccessToken, for dict-literal request/response inputs."""
    access_token: NotRequired[Optional[str]]
