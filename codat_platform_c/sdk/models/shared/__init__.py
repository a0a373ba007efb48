"""``codat_platform.models.shared`` for the access-token operations: the official SDK's pydantic models,
names, fields and aliases. Every other shared model of the SDK belongs to operations this package does not
cover (see docs/sdk_facade.md)."""
from .companyaccesstoken import CompanyAccessToken, CompanyAccessTokenTypedDict
from .connectionmanagementaccesstoken import ConnectionManagementAccessToken, ConnectionManagementAccessTokenTypedDict
from .errormessage import ErrorMessage, ErrorMessageTypedDict
from .errorvalidation import ErrorValidation, ErrorValidationTypedDict
from .errorvalidationitem import ErrorValidationItem, ErrorValidationItemTypedDict
from .security import Security, SecurityTypedDict

__all__ = [
    "CompanyAccessToken", "CompanyAccessTokenTypedDict", "ConnectionManagementAccessToken",
    "ConnectionManagementAccessTokenTypedDict", "ErrorMessage", "ErrorMessageTypedDict", "ErrorValidation",
    "ErrorValidationTypedDict", "ErrorValidationItem", "ErrorValidationItemTypedDict", "Security",
    "SecurityTypedDict",
]
