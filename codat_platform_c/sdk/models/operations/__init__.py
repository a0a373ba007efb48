"""``codat_platform.models.operations`` for the access-token operations: the request models.

A call takes one of these or a dict with the same key: ``request={"company_id": "..."}``.
"""
from .get_company_access_token import GetCompanyAccessTokenRequest, GetCompanyAccessTokenRequestTypedDict
from .get_connection_management_access_token import (
    GetConnectionManagementAccessTokenRequest, GetConnectionManagementAccessTokenRequestTypedDict,
)

__all__ = [
    "GetCompanyAccessTokenRequest", "GetCompanyAccessTokenRequestTypedDict",
    "GetConnectionManagementAccessTokenRequest", "GetConnectionManagementAccessTokenRequestTypedDict",
]
