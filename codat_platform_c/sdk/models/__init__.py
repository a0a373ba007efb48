"""Models and errors with the official SDK's names: ``from codat_platform_c.sdk.models import shared, errors, operations``."""
from . import errors, operations, shared
from .operations import GetCompanyAccessTokenRequest, GetConnectionManagementAccessTokenRequest
from .shared import (
    CompanyAccessToken, ConnectionManagementAccessToken, ErrorMessage, ErrorValidation, ErrorValidationItem,
    Security,
)

__all__ = [
    "shared", "errors", "operations", "CompanyAccessToken", "ConnectionManagementAccessToken", "ErrorMessage",
    "ErrorValidation", "ErrorValidationItem", "Security", "GetCompanyAccessTokenRequest",
    "GetConnectionManagementAccessTokenRequest",
]
