"""A drop-in for the official ``codat-platform`` SDK's access-token operations, backed by the C client.

    from codat_platform_c.sdk import CodatPlatform                 # was: from codat_platform import CodatPlatform
    from codat_platform_c.sdk.models import shared, errors, operations
    from codat_platform_c.sdk import utils

    with CodatPlatform(security=shared.Security(auth_header="Basic ...")) as cp:
        res = cp.companies.get_access_token(request={"company_id": cid})
        res.access_token, res.expires_in, res.token_type

Covered: ``companies.get_access_token`` / ``get_access_token_async`` (Codat's live endpoint) and
``connection_management.get`` / ``get_async`` (and the older name ``get_access_token`` /
``get_access_token_async``; the endpoint was retired on 2026-10-12), with the SDK's keyword-only
``request``, ``retries``, ``server_url``, ``timeout_ms`` and ``http_headers``. The models are pydantic v2
models, as in the SDK: this package needs pydantic (``pip install codat_platform_c[sdk]``), which
``import codat_platform_c`` itself never loads. The places where it behaves differently from the SDK on
purpose are listed in docs/sdk_facade.md.
"""
try:
    import pydantic as _pydantic  # noqa: F401
except ImportError as _missing:  # pragma: no cover - depends on the environment
    raise ImportError("codat_platform_c.sdk needs pydantic (its models are pydantic models, as the official "
                      "SDK's): pip install 'codat_platform_c[sdk]'") from _missing

import codat_platform_c as _codat

from . import companies, connection_management, httpclient, models, sdk, types, utils
from ._client import DEFAULT_TIMEOUT_MS, SERVERS, CodatPlatform, Companies, ConnectionManagement
from .models.shared import (
    CompanyAccessToken, ConnectionManagementAccessToken, ErrorMessage, ErrorValidation, ErrorValidationItem,
)
from .utils import BackoffStrategy, RetryConfig

VERSION: str = _codat.__version__
USER_AGENT: str = _codat.USER_AGENT
OPENAPI_DOC_VERSION: str = "3.0.0"  # the Platform API document these two operations come from, as the SDK's
CODAT_GENERATOR_VERSION: str = f"codat_platform_c {_codat.__version__}"  # what made this package: not a generator

__all__ = [
    "CodatPlatform", "Companies", "ConnectionManagement", "RetryConfig", "BackoffStrategy", "SERVERS",
    "DEFAULT_TIMEOUT_MS", "VERSION", "USER_AGENT", "OPENAPI_DOC_VERSION", "CODAT_GENERATOR_VERSION",
    "CompanyAccessToken", "ConnectionManagementAccessToken", "ErrorMessage", "ErrorValidation",
    "ErrorValidationItem", "models", "types", "utils", "sdk", "httpclient", "companies", "connection_management",
]
