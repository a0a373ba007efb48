"""``codat_platform.models.errors``: the exceptions, with the official SDK's names and constructors.

    CodatPlatformError                 message, status_code, body, headers, raw_response
     ├─ ErrorMessage                   + data (ErrorMessageData); also a codat_platform_c.ErrorMessage
     ├─ SDKError                       also a codat_platform_c.SDKError
     └─ ResponseValidationError        a 200 whose body is not the promised model; + cause (a pydantic
                                       ValidationError); also a codat_platform_c.SDKError

So code written for the SDK (``except errors.ErrorMessage as e: e.data.correlation_id``) and code written
for the C client (``except codat_platform_c.ErrorMessage as e: e.correlation_id``) both catch these.
``raw_response`` (and ``__cause__``) is the codat_platform_c exception the core raised. Connection failures
and timeouts are not CodatPlatformError (the SDK leaks raw urllib3 exceptions there): they are
``codat_platform_c.TransportError`` (a ConnectionError) and ``codat_platform_c.Timeout`` (a TimeoutError).
"""
from .codatplatformerror import CaseInsensitiveHeaders, CodatPlatformError
from .errormessage import ErrorMessage, ErrorMessageData
from .no_response_error import NoResponseError
from .responsevalidationerror import ResponseValidationError
from .sdkerror import SDKError

__all__ = [
    "CodatPlatformError", "SDKError", "ErrorMessage", "ErrorMessageData", "NoResponseError",
    "ResponseValidationError",
]
