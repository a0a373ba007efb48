"""``codat_platform.models.operations.get_connection_management_access_token``: the request of connection_management.get."""
from __future__ import annotations

from typing import Any, Dict

from pydantic import BaseModel, Field, model_serializer
from typing_extensions import Annotated, TypedDict

__all__ = ["GetConnectionManagementAccessTokenRequest", "GetConnectionManagementAccessTokenRequestTypedDict"]


class GetConnectionManagementAccessTokenRequestTypedDict(TypedDict):
    """TypedDict variant of GetConnectionManagementAccessTokenRequest, for dict-literal request inputs."""
    company_id: Annotated[str, Field(description="Unique identifier for a company.")]


class GetConnectionManagementAccessTokenRequest(BaseModel):
    """Request envelope for get_connection_management_access_token."""
    company_id: Annotated[str, Field(description="Unique identifier for a company.")]

    @model_serializer(mode="wrap")
    def _serialize_drop_none(self, handler: Any) -> Dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}
