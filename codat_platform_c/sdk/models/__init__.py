"""Models and errors with the official SDK's names: ``from codat_platform_c.sdk.models import shared, errors, operations``."""
from . import errors, operations, shared
from .shared import (
    CompanyAccessToken, ConnectionManagementAccessToken, ErrorValidation, ErrorValidationItem, Security,
)
from .operations import GetCompanyAccessTokenRequest, GetConnectionManagementAccessTokenRequest

__all__ = [
    "shared", "errors", "operations", "CompanyAccessToken", "ConnectionManagementAccessToken", "ErrorValidation",
    "ErrorValidationItem", "Security", "GetCompanyAccessTokenRequest", "GetConnectionManagementAccessTokenRequest",
]
