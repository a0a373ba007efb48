"""CodatPlatform: the official SDK's call shapes for the access-token operations, on the C client."""
from __future__ import annotations

import _thread
import warnings
from collections.abc import Mapping
from typing import Any, Callable, Dict, Optional, Union

import codat_platform_c as _codat

from .models import errors, operations, shared
from .types import UNSET, OptionalNullable
from .utils import RetryConfig, to_core_retries

__all__ = ["CodatPlatform", "Companies", "ConnectionManagement", "SERVERS", "DEFAULT_TIMEOUT_MS"]

SERVERS = ["https://api.codat.io"]
DEFAULT_TIMEOUT_MS = 5000  # the SDK's default (per attempt here; per socket read in the SDK)

_CM = "connection_management"
_COMPANY = "company"
_DEPRECATED = "GET /companies/{companyId}/connectionManagement/accessToken is deprecated."

_OTHER_GROUPS = frozenset({
    "cors", "connections", "webhooks", "integrations", "refresh_data", "settings", "push_data", "read_data",
    "supplemental_data", "custom_data_type"})

SecuritySource = Union[shared.Security, Mapping[str, str], Callable[[], Any], None]


def _reason(status: int) -> str:
    import http
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "API error occurred"


def _translate(exc: BaseException) -> BaseException:
    """The SDK-style exception for a codat_platform_c ErrorMessage or SDKError."""
    status = getattr(exc, "status_code", None) or 0
    body = getattr(exc, "body", None) or ""
    headers = errors.CaseInsensitiveHeaders(getattr(exc, "headers", None))
    new: errors.CodatPlatformError
    if isinstance(exc, _codat.ErrorMessage):
        data = shared.ErrorMessage.from_dict(exc.data if isinstance(exc.data, Mapping) else {})
        new = errors.ErrorMessage(data, raw_response=exc, body=body, status_code=status, headers=headers)
    elif status == 200:
        new = errors.ResponseValidationError("Response validation failed", raw_response=exc, cause=exc, body=body,
                                             status_code=status, headers=headers)
    elif 200 <= status < 300:
        new = errors.SDKError("Unexpected response received", raw_response=exc, body=body, status_code=status,
                              headers=headers)
    else:
        new = errors.SDKError(_reason(status), raw_response=exc, body=body, status_code=status, headers=headers)
    return new


def _invalid_model(which: str, value: Any, problem: ValueError) -> errors.ResponseValidationError:
    import json
    try:
        body = json.dumps(value)
    except (TypeError, ValueError):
        body = repr(value)
    return errors.ResponseValidationError("Response validation failed", cause=problem, body=body, status_code=200)


def _to_model(which: str, value: Any) -> Any:
    model = shared.ConnectionManagementAccessToken if which == _CM else shared.CompanyAccessToken
    try:
        return model.from_dict(value)
    except ValueError as problem:
        raise _invalid_model(which, value, problem) from problem


def _company_id(which: str, request: Any) -> str:
    model = (operations.GetConnectionManagementAccessTokenRequest if which == _CM
             else operations.GetCompanyAccessTokenRequest)
    if isinstance(request, model):
        company_id = request.company_id
    elif isinstance(request, Mapping):
        if "company_id" not in request:
            raise ValueError(f"request: 'company_id' is required (a {model.__name__} or a dict "
                             "{'company_id': '...'})")
        company_id = request["company_id"]
    else:
        raise ValueError(f"request must be a {model.__name__} or a dict {{'company_id': '...'}}, "
                         f"not {type(request).__name__}")
    if not isinstance(company_id, str):
        raise ValueError(f"request.company_id must be a string, not {type(company_id).__name__}")
    return company_id


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
            cp.connection_management.get(request={"company_id": cid})           # deprecated endpoint

    Arguments as in the SDK: ``security`` (a shared.Security, a dict {"auth_header": ...}, or a
    zero-argument callable returning one, resolved once per call), ``server_url`` (default
    https://api.codat.io), ``retry_config`` (utils.RetryConfig; UNSET or None: the SDK's default
    backoff), ``timeout_ms`` (per attempt, default 5000). ``server_idx``, ``url_params`` and
    ``debug_logger`` are accepted and ignored, as in the SDK; ``async_client`` is ignored with a
    UserWarning, as in the SDK. ``client`` (an httpx.Client) cannot be honoured and raises TypeError.
    ``verify`` (an addition): False, or a CA bundle path, for TLS to a test server.

    Leaving a ``with`` block frees the pooled connections; the object stays usable (a later call opens
    new ones), as the SDK's does.
    """

    def __init__(self, security: SecuritySource = None, server_idx: Optional[int] = None,
                 url_params: Optional[Dict[str, str]] = None, server_url: Optional[str] = None,
                 client: Any = None, async_client: Any = None,
                 retry_config: OptionalNullable[RetryConfig] = UNSET, timeout_ms: Optional[int] = None,
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
        self._client_kwargs: Dict[str, Any] = dict(
            server_url=self._server_url, timeout_ms=self._timeout_ms, retries=to_core_retries(retry_config),
            verify=verify)
        self._lock = _thread.allocate_lock()
        self._client = _codat.Client(auth, **self._client_kwargs)
        self._auth = auth
        self.companies = Companies(self)
        self.connection_management = ConnectionManagement(self)

    def __getattr__(self, name: str) -> Any:
        if name in _OTHER_GROUPS:
            raise AttributeError(f"codat_platform_c.sdk.CodatPlatform covers only the access-token operations; "
                                 f"'{name}' needs the official codat_platform SDK")
        raise AttributeError(f"'CodatPlatform' object has no attribute '{name}'")

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

    def __enter__(self) -> "CodatPlatform":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    async def __aenter__(self) -> "CodatPlatform":
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    # ---- calls

    def _options(self, retries: Any, server_url: Optional[str], timeout_ms: Optional[int],
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

    def _fetch(self, which: str, request: Any, retries: Any, server_url: Optional[str],
               timeout_ms: Optional[int], http_headers: Optional[Mapping[str, str]]) -> Any:
        company_id = _company_id(which, request)
        opts = self._options(retries, server_url, timeout_ms, http_headers)
        client = self._core()
        try:
            if which == _CM:
                value = client.get_access_token(company_id, **opts)
            else:
                value = client.get_company_access_token(company_id, **opts)
        except (_codat.ErrorMessage, _codat.SDKError) as exc:
            raise _translate(exc) from exc
        return _to_model(which, value)

    async def _fetch_async(self, which: str, request: Any, retries: Any, server_url: Optional[str],
                           timeout_ms: Optional[int], http_headers: Optional[Mapping[str, str]]) -> Any:
        company_id = _company_id(which, request)
        opts = self._options(retries, server_url, timeout_ms, http_headers)
        client = self._core()
        try:
            if which == _CM:
                value = await client.get_access_token_async(company_id, **opts)
            else:
                value = await client.get_company_access_token_async(company_id, **opts)
        except (_codat.ErrorMessage, _codat.SDKError) as exc:
            raise _translate(exc) from exc
        return _to_model(which, value)


class _Group:
    __slots__ = ("_sdk",)

    def __init__(self, sdk: CodatPlatform) -> None:
        self._sdk = sdk

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"'{type(self).__name__}' has no '{name}' in codat_platform_c.sdk, which covers only "
                             "the access-token operations; use the official codat_platform SDK for the rest")


class ConnectionManagement(_Group):
    """GET /companies/{companyId}/connectionManagement/accessToken, deprecated by Codat in favour of
    ``companies.get_access_token``. Every method warns DeprecationWarning, as the SDK's ``get`` does."""

    __slots__ = ()

    def get(self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                    operations.GetConnectionManagementAccessTokenRequestTypedDict],
            retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
            timeout_ms: Optional[int] = None,
            http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        """(Deprecated) Get access token (old): the token is valid one hour, for this company only."""
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return self._sdk._fetch(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    def get_access_token(self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                                 operations.GetConnectionManagementAccessTokenRequestTypedDict],
                         retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                         timeout_ms: Optional[int] = None,
                         http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        """The name older SDKs (and Codat's docs) give to ``get``."""
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return self._sdk._fetch(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_async(self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                                operations.GetConnectionManagementAccessTokenRequestTypedDict],
                        retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                        timeout_ms: Optional[int] = None,
                        http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return await self._sdk._fetch_async(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_access_token_async(
            self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                    operations.GetConnectionManagementAccessTokenRequestTypedDict],
            retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
            timeout_ms: Optional[int] = None,
            http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return await self._sdk._fetch_async(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]


class Companies(_Group):
    """GET /companies/{companyId}/accessToken (the replacement endpoint; the token is valid one day)."""

    __slots__ = ()

    def get_access_token(self, *, request: Union[operations.GetCompanyAccessTokenRequest,
                                                 operations.GetCompanyAccessTokenRequestTypedDict],
                         retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                         timeout_ms: Optional[int] = None,
                         http_headers: Optional[Mapping[str, str]] = None) -> shared.CompanyAccessToken:
        """Get company access token: accessToken, expiresIn (seconds) and tokenType."""
        return self._sdk._fetch(_COMPANY, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_access_token_async(
            self, *, request: Union[operations.GetCompanyAccessTokenRequest,
                                    operations.GetCompanyAccessTokenRequestTypedDict],
            retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
            timeout_ms: Optional[int] = None,
            http_headers: Optional[Mapping[str, str]] = None) -> shared.CompanyAccessToken:
        return await self._sdk._fetch_async(_COMPANY, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]
