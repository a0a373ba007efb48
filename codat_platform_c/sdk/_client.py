"""CodatPlatform: the official SDK's call shapes for the access-token operations, on the C client."""
from __future__ import annotations

import _thread
import functools
import warnings
from collections.abc import Mapping
from typing import Any, Callable, Dict, NoReturn, Optional, Tuple, Union

import codat_platform_c as _codat
from pydantic import BaseModel, ValidationError

from . import _delegate
from .models import errors, operations, shared
from .types import UNSET, OptionalNullable
from .utils.retries import RetryConfig, to_core_retries

__all__ = ["CodatPlatform", "Companies", "ConnectionManagement", "SERVERS", "DEFAULT_TIMEOUT_MS"]

SERVERS = [_codat.DEFAULT_SERVER_URL]
DEFAULT_TIMEOUT_MS = 5000  # the SDK's default (per attempt here; per socket read in the SDK)

_CM = "connection_management"
_COMPANY = "company"
_SDK_DEPRECATED = "GET /companies/{companyId}/connectionManagement/accessToken is deprecated."
# The SDK's text first (code that matches on it keeps working), then what changed since it was written.
_DEPRECATED = (_SDK_DEPRECATED + f" Codat retired it on {_codat._core._RETIRED_DATE} (it answers 404 since): use "
               "companies.get_access_token (the C client's get_company_access_token, "
               "GET /companies/{companyId}/accessToken) instead.")
RETIRED_404_NOTE = (f"(Codat retired GET /companies/{{companyId}}/connectionManagement/accessToken on "
                    f"{_codat._core._RETIRED_DATE} and answers 404 there since: use companies.get_access_token, "
                    "GET /companies/{companyId}/accessToken, instead)")

SecuritySource = Union[shared.Security, Mapping[str, str], Callable[[], Any], None]

_MODEL: Dict[str, Any] = {_CM: shared.ConnectionManagementAccessToken, _COMPANY: shared.CompanyAccessToken}
_REQUEST = {_CM: operations.GetConnectionManagementAccessTokenRequest,
            _COMPANY: operations.GetCompanyAccessTokenRequest}
_NO_OPTIONS: Dict[str, Any] = {}
_CORE_HTTP_ERRORS = (_codat.ErrorMessage, _codat.SDKError)


# ---------------------------------------------------------------- results: trusted data, built without re-validation

_new = object.__new__
# pydantic's BaseModel keeps an instance's state in four slots; setting them through their descriptors is
# what model_construct() does, minus its per-field loop, and twice as fast as object.__setattr__ (which
# looks each name up along the model's MRO first).
_slots = BaseModel.__dict__
_set_dict = _slots["__dict__"].__set__
_set_fields_set = _slots["__pydantic_fields_set__"].__set__
_set_extra = _slots["__pydantic_extra__"].__set__
_set_private = _slots["__pydantic_private__"].__set__
_CM_FIELDS = frozenset(("access_token",))


def _trusted(model_type: type, fields: Dict[str, Any], fields_set: frozenset) -> Any:
    model: Any = _new(model_type)
    _set_dict(model, fields)
    _set_fields_set(model, set(fields_set))
    _set_extra(model, None)
    _set_private(model, None)
    return model


_strict_company_token = shared.CompanyAccessToken.__pydantic_validator__.validate_python


def _company_token(value: Any) -> shared.CompanyAccessToken:
    # The common case, the C core's dict with the fields' exact types, goes through pydantic-core in strict
    # mode: one call into Rust that checks and builds the model (fewer instructions than assembling it in
    # Python, callgrind says: 6,500 against 9,000). Anything else (a numeric string, a bool, a missing field,
    # not an object) takes the SDK's lax path, or ends in ResponseValidationError.
    try:
        return _strict_company_token(value, strict=True)  # type: ignore[no-any-return]
    except ValidationError:
        return _validated(_COMPANY, value)  # type: ignore[no-any-return]


def _connection_management_token(value: Any) -> shared.ConnectionManagementAccessToken:
    if type(value) is dict:
        token = value.get("accessToken")
        if type(token) is str or token is None:
            return _trusted(shared.ConnectionManagementAccessToken,  # type: ignore[no-any-return]
                            {"access_token": token}, _CM_FIELDS)
    return _validated(_CM, value)  # type: ignore[no-any-return]


_TO_MODEL = {_CM: _connection_management_token, _COMPANY: _company_token}


def _validated(which: str, value: Any) -> Any:
    """The model from a value of unexpected types, through pydantic (lax, as the SDK: "3600" is 3600), or
    ResponseValidationError with the ValidationError as its cause."""
    from pydantic import ValidationError
    model = _MODEL[which]
    try:
        if not isinstance(value, dict):
            return model.model_validate(value)  # fails: the SDK's error for a non-object
        if which == _COMPANY and isinstance(value.get("expiresIn"), bool):
            # pydantic's lax mode reads true as 1 second; the facade refuses it (docs/sdk_facade.md)
            raise ValidationError.from_exception_data(model.__name__, [
                {"type": "int_type", "loc": ("expiresIn",), "input": value["expiresIn"]}])
        return model.from_dict(value)
    except ValidationError as problem:
        raise _invalid_model(value, problem) from problem


def _invalid_model(value: Any, problem: Exception) -> errors.ResponseValidationError:
    """The ResponseValidationError for a 2XX JSON value that does not fit the model (``problem`` says why).
    The C core hands back only the parsed value, so the body is that value serialised again."""
    import json
    try:
        body = json.dumps(value)
    except (TypeError, ValueError):
        body = repr(value)
    return _delegate.bilingual(  # type: ignore[return-value]
        errors.ResponseValidationError("Response validation failed", cause=problem, body=body, status_code=200))


def _validation_error(which: str, exc: BaseException) -> Exception:
    """The pydantic ValidationError for a 200 the C core refused (body not a JSON object, not UTF-8, not
    application/json): pydantic's own verdict on the body when it has one, else one that carries the core's."""
    from pydantic import ValidationError
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
    from pydantic import ValidationError
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
        if which == _CM and status == 404:
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


def _model_or_raise(which: str, exc: BaseException) -> Any:
    status = getattr(exc, "status_code", 0) or 0
    if isinstance(exc, _codat.SDKError) and 200 <= status < 300 and str(exc).startswith(_NO_TOKEN):
        import json
        return _TO_MODEL[which](json.loads(getattr(exc, "body", "")))
    _raise_translated(which, exc)


def _raise_translated(which: str, exc: BaseException) -> NoReturn:
    new = _delegate.bilingual(_translate(which, exc))  # also the official class, if the application imported it
    if isinstance(new, errors.ResponseValidationError):
        raise new from new.cause  # the pydantic ValidationError, as in the SDK (raw_response is the core's)
    raise new from exc


# ---------------------------------------------------------------- arguments

def _company_id(which: str, request: Any) -> str:
    model = _REQUEST[which]
    if type(request) is dict:  # the common case first
        company_id = request.get("company_id", _company_id)
    elif isinstance(request, model):
        company_id = request.company_id  # type: ignore[attr-defined]
    elif isinstance(request, Mapping):
        company_id = request.get("company_id", _company_id)
    else:
        raise ValueError(f"request must be a {model.__name__} or a dict {{'company_id': '...'}}, "
                         f"not {type(request).__name__}")
    if company_id is _company_id:
        raise ValueError(f"request: 'company_id' is required (a {model.__name__} or a dict "
                         "{'company_id': '...'})")
    if type(company_id) is not str:
        raise ValueError(f"request.company_id must be a string, not {type(company_id).__name__}")
    return company_id  # type: ignore[no-any-return]


def _rebuild(cls: Any, config: Dict[str, Any]) -> Any:
    """Unpickling: a fresh facade of the same class, from the configuration __reduce__ took."""
    return cls(**config)


def _check_picklable(source: Callable[[], Any]) -> None:
    import pickle
    try:
        pickle.dumps(source)
    except Exception as exc:  # PicklingError, or whatever the callable's own reduction raises
        raise TypeError(
            f"cannot pickle or copy CodatPlatform: its security= callable {getattr(source, '__qualname__', '')!r} "
            "cannot be pickled (a lambda or a function defined inside another one?). Pass a module-level "
            "function, which each worker imports and calls itself, or a shared.Security / "
            "{'auth_header': ...}") from exc


def _auth_from(source: Any) -> Optional[str]:
    if isinstance(source, Mapping):
        value = source.get("auth_header")
    else:
        value = getattr(source, "auth_header", None)
    if value is not None and not isinstance(value, str):
        raise TypeError(f"security.auth_header must be a string, not {type(value).__name__}")
    return value


class CodatPlatform:
    """Drop-in for ``codat_platform.CodatPlatform`` (6.x) for the two access-token operations.

        with CodatPlatform(security=shared.Security(auth_header="Basic ..."), server_url=...) as cp:
            cp.companies.get_access_token(request={"company_id": cid})          # CompanyAccessToken
            cp.connection_management.get(request={"company_id": cid})           # retired endpoint

    Arguments as in the SDK: ``security`` (a shared.Security, a dict {"auth_header": ...}, or a
    zero-argument callable returning one, resolved once per call), ``server_url`` (default
    https://api.codat.io), ``retry_config`` (utils.RetryConfig; UNSET or None: the SDK's default
    backoff), ``timeout_ms`` (per attempt, default 5000; an int or a float). ``server_idx``, ``url_params``
    and ``debug_logger`` are accepted and ignored, as in the SDK; ``async_client`` is ignored with a
    UserWarning, as in the SDK. ``client`` (an httpx.Client) cannot be honoured and raises TypeError.
    ``verify`` (an addition): False, or a CA bundle path, for TLS to a test server.

    Leaving a ``with`` block frees the pooled connections; the object stays usable (a later call opens
    new ones), as the SDK's does.
    """

    def __init__(self, security: SecuritySource = None, server_idx: Optional[int] = None,
                 url_params: Optional[Dict[str, str]] = None, server_url: Optional[str] = None,
                 client: Any = None, async_client: Any = None,
                 retry_config: OptionalNullable[RetryConfig] = UNSET, timeout_ms: Optional[float] = None,
                 debug_logger: Any = None, *, verify: Union[bool, str] = True) -> None:
        if client is not None:
            raise TypeError("codat_platform_c.sdk.CodatPlatform: client= (an httpx.Client) is not supported: "
                            "requests go through libcurl. Use server_url=, timeout_ms= and verify= instead.")
        if async_client is not None:
            warnings.warn("the async_client kwarg is accepted for compatibility but not used: the *_async "
                          "methods run on the C client's own I/O thread", UserWarning, stacklevel=2)
        self._security_source: Optional[Callable[[], Any]] = None
        auth: Optional[str] = None
        if callable(security) and not isinstance(security, (shared.Security, Mapping)):
            self._security_source = security
        elif security is not None:
            auth = _auth_from(security)
        self._has_static_auth = auth is not None
        self._server_url = server_url or SERVERS[0]
        self._timeout_ms = timeout_ms if timeout_ms is not None else DEFAULT_TIMEOUT_MS
        self._retry_config = retry_config
        # For the inner official SDK that serves the other operations (_delegate), made on first use.
        self._delegate_config = dict(server_idx=server_idx, url_params=url_params, debug_logger=debug_logger)
        self._client_kwargs: Dict[str, Any] = dict(
            server_url=self._server_url, timeout_ms=self._timeout_ms, retries=to_core_retries(retry_config),
            verify=verify)
        self._lock = _thread.allocate_lock()
        self._client = _codat.Client(auth, **self._client_kwargs)
        self._auth = auth
        self.companies = Companies(self)
        self.connection_management = ConnectionManagement(self)

    def __getattr__(self, name: str) -> Any:
        # Anything the facade lacks (cp.connections, cp.settings, ...) is the official SDK's (_delegate).
        return _delegate.sdk_attribute(self, name)

    def __repr__(self) -> str:
        return f"<codat_platform_c.sdk.CodatPlatform server_url={self._server_url!r}>"

    # ---- pickling and copying

    def _config(self) -> Dict[str, Any]:
        config: Dict[str, Any] = dict(server_url=self._server_url, timeout_ms=self._timeout_ms,
                                      verify=self._client_kwargs["verify"])
        if self._retry_config is not UNSET:
            config["retry_config"] = self._retry_config
        if self._security_source is not None:
            # Checked with the standard pickle even under cloudpickle (Dask, Ray), so that what pickles
            # does not depend on the engine: by name, each worker resolves the callable in its own process.
            _check_picklable(self._security_source)
            config["security"] = self._security_source
        elif self._auth is not None:
            config["security"] = {"auth_header": self._auth}
        return config

    def __reduce__(self) -> Any:
        """Pickle by configuration, for Dask, Ray or process-pool workers: unpickling calls
        type(self)(**config) and so makes a fresh facade with no connections.

        The pickle CARRIES THE AUTH HEADER in clear when ``security`` is static (a shared.Security or
        a dict), so that the worker can authenticate: the bytes are as secret as the key. A security
        callable travels by name instead (it must be a module-level function; a lambda raises
        TypeError), and each worker calls it. Also carried: server_url, timeout_ms, retry_config,
        verify and the class. A closed facade pickles too, since it stays usable. copy.copy() and
        copy.deepcopy() follow the same rule."""
        return _rebuild, (type(self), self._config())

    def __copy__(self) -> "CodatPlatform":
        return type(self)(**self._config())

    def __deepcopy__(self, memo: Any) -> "CodatPlatform":
        return type(self)(**self._config())

    # ---- life cycle

    def _core(self) -> _codat.Client:
        client = self._client
        if client.closed:
            with self._lock:
                if self._client.closed:
                    self._client = _codat.Client(self._auth, **self._client_kwargs)
                client = self._client
        return client

    def close(self) -> None:
        """Free the pooled connections (a later call opens new ones)."""
        self._client.close()
        _delegate.close(self)

    def __enter__(self) -> "CodatPlatform":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    async def __aenter__(self) -> "CodatPlatform":
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    # ---- calls

    def _options(self, retries: Any, server_url: Optional[str], timeout_ms: Optional[float],
                 http_headers: Optional[Mapping[str, str]]) -> Dict[str, Any]:
        opts: Dict[str, Any] = {}
        if retries is not UNSET:
            opts["retries"] = to_core_retries(retries)
        if server_url is not None:
            opts["server_url"] = server_url
        if timeout_ms is not None:
            opts["timeout_ms"] = timeout_ms
        auth = None
        if self._security_source is not None:
            auth = _auth_from(self._security_source())
        if http_headers or auth is not None:
            headers = dict(http_headers or {})
            if auth is not None or self._has_static_auth:
                # As in the SDK, security wins over an Authorization given in http_headers.
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if auth is not None:
                headers["Authorization"] = auth
            opts["http_headers"] = headers
        return opts

    def _prepare(self, which: str, request: Any, retries: Any, server_url: Optional[str],
                 timeout_ms: Optional[float], http_headers: Optional[Mapping[str, str]],
                 is_async: bool) -> Tuple[Callable[..., Any], str, Dict[str, Any]]:
        """What every call does before the request, sync or async: (the core's method, company id, options)."""
        company_id = request.get("company_id") if type(request) is dict else None  # the common case, inline
        if type(company_id) is not str:
            company_id = _company_id(which, request)  # every other form, and the errors
        if (retries is UNSET and server_url is None and timeout_ms is None and not http_headers
                and self._security_source is None):
            opts = _NO_OPTIONS  # the client's own settings (the common case: no call to _options)
        else:
            opts = self._options(retries, server_url, timeout_ms, http_headers)
        client = self._client
        if client.closed:
            client = self._core()
        if is_async:
            return functools.partial(client._fetch_async, which), company_id, opts  # type: ignore[attr-defined]
        # (the connection-management call without the core's own warning: ours was given already)
        return (client.get_company_access_token if which is _COMPANY else client._connection_management_token,
                company_id, opts)

    def _fetch(self, which: str, request: Any, retries: Any, server_url: Optional[str],
               timeout_ms: Optional[float], http_headers: Optional[Mapping[str, str]]) -> Any:
        call, company_id, opts = self._prepare(which, request, retries, server_url, timeout_ms, http_headers, False)
        try:
            value = call(company_id) if opts is _NO_OPTIONS else call(company_id, **opts)
        except _CORE_HTTP_ERRORS as exc:
            return _model_or_raise(which, exc)
        return _TO_MODEL[which](value)

    async def _fetch_async(self, which: str, request: Any, retries: Any, server_url: Optional[str],
                           timeout_ms: Optional[float], http_headers: Optional[Mapping[str, str]]) -> Any:
        call, company_id, opts = self._prepare(which, request, retries, server_url, timeout_ms, http_headers, True)
        try:
            value = await call(company_id, opts)
        except _CORE_HTTP_ERRORS as exc:
            return _model_or_raise(which, exc)
        return _TO_MODEL[which](value)


class _Group:
    """A method group. No __slots__: tests patch its methods (mock.patch.object, monkeypatch.setattr)."""

    def __init__(self, sdk: CodatPlatform) -> None:
        self._sdk = sdk

    def __getattr__(self, name: str) -> Any:
        # The group's other operations (companies.list, ...) are the official SDK's (_delegate).
        return _delegate.group_attribute(self, name)


class ConnectionManagement(_Group):
    """GET /companies/{companyId}/connectionManagement/accessToken, retired by Codat on 2026-10-12 in favour of
    ``companies.get_access_token``. Every method warns DeprecationWarning (the SDK's text, then the
    retirement), and a 404 from it says what to call instead."""

    def get(self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                    operations.GetConnectionManagementAccessTokenRequestTypedDict],
            retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
            timeout_ms: Optional[float] = None,
            http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        """(Deprecated) Get access token (old): the token is valid one hour, for this company only."""
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return self._sdk._fetch(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    def get_access_token(self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                                 operations.GetConnectionManagementAccessTokenRequestTypedDict],
                         retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                         timeout_ms: Optional[float] = None,
                         http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        """The name older SDKs (and Codat's docs) give to ``get``."""
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return self._sdk._fetch(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_async(self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                                operations.GetConnectionManagementAccessTokenRequestTypedDict],
                        retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                        timeout_ms: Optional[float] = None,
                        http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return await self._sdk._fetch_async(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_access_token_async(
            self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                    operations.GetConnectionManagementAccessTokenRequestTypedDict],
            retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
            timeout_ms: Optional[float] = None,
            http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return await self._sdk._fetch_async(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]


class Companies(_Group):
    """GET /companies/{companyId}/accessToken (Codat's live endpoint; the token is valid one day)."""

    def get_access_token(self, *, request: Union[operations.GetCompanyAccessTokenRequest,
                                                 operations.GetCompanyAccessTokenRequestTypedDict],
                         retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                         timeout_ms: Optional[float] = None,
                         http_headers: Optional[Mapping[str, str]] = None) -> shared.CompanyAccessToken:
        """Get company access token: accessToken, expiresIn (seconds) and tokenType."""
        return self._sdk._fetch(_COMPANY, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_access_token_async(
            self, *, request: Union[operations.GetCompanyAccessTokenRequest,
                                    operations.GetCompanyAccessTokenRequestTypedDict],
            retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
            timeout_ms: Optional[float] = None,
            http_headers: Optional[Mapping[str, str]] = None) -> shared.CompanyAccessToken:
        return await self._sdk._fetch_async(_COMPANY, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]
