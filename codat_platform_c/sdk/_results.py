"""What a call returns or raises: the C core's JSON value as the SDK's pydantic model, the core's exception as
the SDK's. Shared by the blocking and the async calls (sdk/_client.py)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Dict, NoReturn, Optional

import codat_platform_c as _codat
from pydantic import ValidationError

from . import _delegate
from .models import errors, shared
from .types import UNSET

__all__ = ["CM", "COMPANY", "CORE_HTTP_ERRORS", "RETIRED_404_NOTE", "TO_MODEL", "model_or_raise"]

CM = "connection_management"
COMPANY = "company"
CORE_HTTP_ERRORS = (_codat.ErrorMessage, _codat.SDKError)
RETIRED_404_NOTE = (f"(Codat retired GET /companies/{{companyId}}/connectionManagement/accessToken on "
                    f"{_codat._core._RETIRED_DATE} and answers 404 there since: use companies.get_access_token, "
                    "GET /companies/{companyId}/accessToken, instead)")

_MODEL: Dict[str, Any] = {CM: shared.ConnectionManagementAccessToken, COMPANY: shared.CompanyAccessToken}


# ---------------------------------------------------------------- results: trusted data, built without re-validation

# The common case, the C core's dict with the fields' exact types, goes through the model's own pydantic-core
# validator in strict mode: one call into Rust that checks the types and builds a true instance of the model
# (fields set, no extra, no private). Assembling the instance in Python instead (object.__new__, then
# __dict__, __pydantic_fields_set__, __pydantic_extra__ and __pydantic_private__ through their descriptors)
# costs more, not less: 8,300 instructions against 6,300 (callgrind, with the objects' deallocation), 1.8
# against 1.5 us; model_construct() 6.8 us. (A second validator with strict in its core schema's config, to
# save the keyword's 200 instructions, is not the same: it takes true for an int.)
strict_company_token = shared.CompanyAccessToken.__pydantic_validator__.validate_python
_strict_cm_token = shared.ConnectionManagementAccessToken.__pydantic_validator__.validate_python


def lax_company_token(value: Any, response: Optional[BaseException] = None) -> shared.CompanyAccessToken:
    """What the strict validator refused (a numeric string, a bool, a missing field, not an object): the
    SDK's lax path, or ResponseValidationError."""
    return _validated(COMPANY, value, response)  # type: ignore[no-any-return]


def _company_token(value: Any, response: Optional[BaseException] = None) -> shared.CompanyAccessToken:
    try:
        return strict_company_token(value, strict=True)  # type: ignore[no-any-return]
    except ValidationError:
        return lax_company_token(value, response)


def _connection_management_token(value: Any,
                                 response: Optional[BaseException] = None) -> shared.ConnectionManagementAccessToken:
    try:
        return _strict_cm_token(value, strict=True)  # type: ignore[no-any-return]
    except ValidationError:
        return _validated(CM, value, response)  # type: ignore[no-any-return]


# The model for a 2XX's JSON value (with the core's exception when the core refused the value itself).
TO_MODEL: Dict[str, Callable[..., Any]] = {CM: _connection_management_token, COMPANY: _company_token}


def _validated(which: str, value: Any, response: Optional[BaseException]) -> Any:
    """The model from a value of unexpected types, through pydantic (lax, as the SDK: "3600" is 3600), or
    ResponseValidationError with the ValidationError as its cause."""
    model = _MODEL[which]
    try:
        if not isinstance(value, dict):
            return model.model_validate(value)  # fails: the SDK's error for a non-object
        if which == COMPANY and isinstance(value.get("expiresIn"), bool):
            # pydantic's lax mode reads true as 1 second; the facade refuses it (docs/sdk_facade.md)
            raise ValidationError.from_exception_data(model.__name__, [
                {"type": "int_type", "loc": ("expiresIn",), "input": value["expiresIn"]}])
        return model.from_dict(value)
    except ValidationError as problem:
        raise _invalid_model(value, problem, response) from problem


def _invalid_model(value: Any, problem: Exception,
                   response: Optional[BaseException] = None) -> errors.ResponseValidationError:
    """The ResponseValidationError for a 2XX JSON value that does not fit the model (``problem`` says why).
    ``response`` is the core's exception when the core itself refused the value (no accessToken string): it
    has the answer as sent (body, status, headers), which the error then carries, as the SDK's does. When the
    core accepted the value it hands back only the parsed value, so the body is that value serialised again."""
    if response is not None:
        return _delegate.bilingual(errors.ResponseValidationError(  # type: ignore[return-value]
            "Response validation failed", raw_response=response, cause=problem,
            body=getattr(response, "body", None) or "", status_code=getattr(response, "status_code", 200),
            headers=errors.CaseInsensitiveHeaders(getattr(response, "headers", None))))
    import json
    try:
        body = json.dumps(value)
    except (TypeError, ValueError):
        body = repr(value)
    return _delegate.bilingual(  # type: ignore[return-value]
        errors.ResponseValidationError("Response validation failed", cause=problem, body=body, status_code=200))


# ---------------------------------------------------------------- errors

def _validation_error(which: str, exc: BaseException) -> Exception:
    """The pydantic ValidationError for a 200 the C core refused (body not a JSON object, not UTF-8, not
    application/json): pydantic's own verdict on the body when it has one, else one that carries the core's."""
    model = _MODEL[which]
    body = getattr(exc, "body", None) or ""
    try:
        model.model_validate_json(body)
    except ValidationError as problem:
        return problem
    return ValidationError.from_exception_data(model.__name__, [
        {"type": "value_error", "loc": (), "input": body, "ctx": {"error": ValueError(str(exc))}}])


def _error_data(sent: Any) -> shared.ErrorMessage:
    """ErrorMessageData from Codat's JSON error object. A field of an unexpected type does not lose the error
    (unlike the SDK, which then raises SDKError): the values are kept as sent."""
    Data = shared.ErrorMessage
    if not isinstance(sent, Mapping):
        sent = {}
    try:
        return Data.model_validate(sent)
    except ValidationError:
        pass
    fields: Dict[str, Any] = {}
    for name, field in Data.model_fields.items():
        key = field.alias or name
        if key in sent:
            fields[name] = sent[key]
    validation = sent.get("validation", UNSET)
    if isinstance(validation, Mapping):
        try:
            fields["validation"] = shared.ErrorValidation.model_validate(validation)
        except ValidationError:
            pass
    return Data.model_construct(**fields)


def _standard_reason(status: int) -> str:
    import http
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "API error occurred"


def _translate(which: str, exc: BaseException) -> BaseException:
    """The SDK-style exception for a codat_platform_c ErrorMessage or SDKError."""
    status = getattr(exc, "status_code", None) or 0
    body = getattr(exc, "body", None) or ""
    headers = errors.CaseInsensitiveHeaders(getattr(exc, "headers", None))
    if isinstance(exc, _codat.ErrorMessage):
        new: errors.CodatPlatformError = errors.ErrorMessage(
            _error_data(getattr(exc, "data", None)), raw_response=exc, body=body, status_code=status, headers=headers)
        if which == CM and status == 404:
            # Since Codat retired the endpoint every call to it ends here: say so (the body stays as sent).
            new.message = f"{new.message}\n{RETIRED_404_NOTE}"
            new.args = (new.message,)
        return new
    if status == 200:
        return errors.ResponseValidationError("Response validation failed", raw_response=exc,
                                              cause=_validation_error(which, exc), body=body, status_code=status,
                                              headers=headers)
    if 200 <= status < 300:
        return errors.SDKError("Unexpected response received", raw_response=exc, body=body, status_code=status,
                               headers=headers)
    # As the SDK: the server's own reason phrase (Codat's "Invalid company"), the standard one over HTTP/2
    reason = getattr(exc, "reason", None) or _standard_reason(status)
    return errors.SDKError(reason, raw_response=exc, body=body, status_code=status, headers=headers)


# The core refuses a 2XX without an accessToken string (SDKError with this message); the SDK's
# ConnectionManagementAccessToken allows that, so the model decides here, from the same body.
_NO_TOKEN = "the answer holds no accessToken string"


def model_or_raise(which: str, exc: BaseException) -> Any:
    """What a call gives for the core's exception: the model when the SDK's model accepts the answer the core
    refused, else the SDK's exception, raised."""
    status = getattr(exc, "status_code", 0) or 0
    if isinstance(exc, _codat.SDKError) and 200 <= status < 300 and str(exc).startswith(_NO_TOKEN):
        import json
        return TO_MODEL[which](json.loads(getattr(exc, "body", "")), exc)
    new = _delegate.bilingual(_translate(which, exc))  # also the official class, if the application imported it
    if isinstance(new, errors.ResponseValidationError):
        raise new from new.cause  # the pydantic ValidationError, as in the SDK (raw_response is the core's)
    raise new from exc


