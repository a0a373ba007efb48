"""CodatPlatform: the official SDK's call shapes for the access-token operations, on the C client."""
from __future__ import annotations

import _thread
import warnings
from collections.abc import Mapping
from typing import Any, Callable, Dict, Optional, Union

import codat_platform_c as _codat

from . import _delegate
from .models import operations, shared
from .types import UNSET, OptionalNullable
from .utils.retries import RetryConfig, to_core_retries

__all__ = ["CodatPlatform", "Companies", "ConnectionManagement", "SERVERS", "DEFAULT_TIMEOUT_MS",
           "RETIRED_404_NOTE"]

SERVERS = [_codat.DEFAULT_SERVER_URL]
DEFAULT_TIMEOUT_MS = 5000  # the SDK's default (per attempt here; per socket read in the SDK)

from ._results import CM as _CM, COMPANY as _COMPANY, CORE_HTTP_ERRORS as _CORE_HTTP_ERRORS
from ._results import RETIRED_404_NOTE, TO_MODEL as _TO_MODEL, model_or_raise as _model_or_raise
from ._results import ValidationError as _ValidationError, lax_company_token as _lax_company_token
from ._results import strict_company_token as _strict_company_token

_SDK_DEPRECATED = "GET /companies/{companyId}/connectionManagement/accessToken is deprecated."
# The SDK's text first (code that matches on it keeps working), then what changed since it was written.
_DEPRECATED = (_SDK_DEPRECATED + f" Codat retired it on {_codat._core._RETIRED_DATE} (it answers 404 since): use "
               "companies.get_access_token (the C client's get_company_access_token, "
               "GET /companies/{companyId}/accessToken) instead.")

SecuritySource = Union[shared.Security, Mapping[str, str], Callable[[], Any], None]

_REQUEST = {_CM: operations.GetConnectionManagementAccessTokenRequest,
            _COMPANY: operations.GetCompanyAccessTokenRequest}


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


class _Calls:
    """The state a call reads, and the call itself, sync or async: kept off CodatPlatform and its method groups,
    whose __getattr__ (the official SDK's other operations, _delegate) sends every attribute read on them
    through a slow lookup hook (about 300 instructions each, callgrind); on this slotted class reads are plain.
    """

    __slots__ = ("client", "security_source", "has_static_auth", "_auth", "_client_kwargs", "_lock",
                 "company_call")

    def __init__(self, auth: Optional[str], security_source: Optional[Callable[[], Any]],
                 client_kwargs: Dict[str, Any]) -> None:
        self.security_source = security_source
        self.has_static_auth = auth is not None
        self._auth = auth
        self._client_kwargs = client_kwargs
        self._lock = _thread.allocate_lock()
        self._use(_codat.Client(auth, **client_kwargs))

    def _use(self, client: _codat.Client) -> None:
        # The company-token call of the common case (Companies.get_access_token), bound once per client
        # rather than on every call. It knows its client (__self__): a call that raced a reopening still
        # tells a closed client from a bad argument, and then goes through fetch(), which reads self.client.
        self.company_call = client.get_company_access_token
        self.client = client

    def open_client(self) -> _codat.Client:
        """The C client; a new one if the facade was closed (the SDK's stays usable after close too)."""
        client = self.client
        if client.closed:
            with self._lock:
                if self.client.closed:
                    self._use(_codat.Client(self._auth, **self._client_kwargs))
                client = self.client
        return client

    def options(self, which: str, request: Any, retries: Any, server_url: Optional[str],
                timeout_ms: Optional[float], http_headers: Optional[Mapping[str, str]]) -> Dict[str, Any]:
        """The core's keyword options for one call (empty: the client's own settings)."""
        opts: Dict[str, Any] = {}
        if retries is not UNSET:
            opts["retries"] = to_core_retries(retries)
        if server_url is not None:
            opts["server_url"] = server_url
        if timeout_ms is not None:
            opts["timeout_ms"] = timeout_ms
        auth = None
        if self.security_source is not None:
            auth = _auth_from(self.security_source())
        if http_headers or auth is not None:
            headers = dict(http_headers or {})
            if auth is not None or self.has_static_auth:
                # As in the SDK, security wins over an Authorization given in http_headers.
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if auth is not None:
                headers["Authorization"] = auth
            opts["http_headers"] = headers
        return opts

    def fetch(self, which: str, request: Any, retries: Any, server_url: Optional[str],
              timeout_ms: Optional[float], http_headers: Optional[Mapping[str, str]]) -> Any:
        """A blocking call. Its common case (a dict request, no per-call option) reads no option at all and
        makes no keyword dict; the client's closed state is looked at only when the core refuses the call."""
        company_id = request.get("company_id") if type(request) is dict else None
        if type(company_id) is not str:
            company_id = _company_id(which, request)  # every other form, and the errors
        opts = None
        if (retries is not UNSET or server_url is not None or timeout_ms is not None or http_headers
                or self.security_source is not None):
            opts = self.options(which, request, retries, server_url, timeout_ms, http_headers)
        client = self.client
        while True:
            # (the connection-management call without the core's own warning: ours was given already)
            call = client.get_company_access_token if which is _COMPANY else client._connection_management_token
            try:
                value = call(company_id) if opts is None else call(company_id, **opts)
            except _CORE_HTTP_ERRORS as exc:
                return _model_or_raise(which, exc)
            except ValueError:
                if not client.closed:
                    raise  # a bad argument
                client = self.open_client()  # the facade was closed: this call opens new connections
                continue
            return _TO_MODEL[which](value)

    async def fetch_async(self, which: str, request: Any, retries: Any, server_url: Optional[str],
                          timeout_ms: Optional[float], http_headers: Optional[Mapping[str, str]]) -> Any:
        """An awaited call: the same arguments, options and results as fetch(); only the wait differs."""
        company_id = _company_id(which, request)
        opts = self.options(which, request, retries, server_url, timeout_ms, http_headers)
        try:
            value = await self.open_client()._fetch_async(which, company_id, opts)  # type: ignore[attr-defined]
        except _CORE_HTTP_ERRORS as exc:
            return _model_or_raise(which, exc)
        return _TO_MODEL[which](value)


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
        self._server_url = server_url or SERVERS[0]
        self._timeout_ms = timeout_ms if timeout_ms is not None else DEFAULT_TIMEOUT_MS
        self._retry_config = retry_config
        # For the inner official SDK that serves the other operations (_delegate), made on first use.
        self._delegate_config = dict(server_idx=server_idx, url_params=url_params, debug_logger=debug_logger)
        self._client_kwargs: Dict[str, Any] = dict(
            server_url=self._server_url, timeout_ms=self._timeout_ms, retries=to_core_retries(retry_config),
            verify=verify)
        self._auth = auth
        self._calls = _Calls(auth, self._security_source, self._client_kwargs)
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

    @property
    def _client(self) -> _codat.Client:
        """The C client the calls use now."""
        return self._calls.client

    def close(self) -> None:
        """Free the pooled connections (a later call opens new ones)."""
        self._calls.client.close()
        _delegate.close(self)

    def __enter__(self) -> "CodatPlatform":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    async def __aenter__(self) -> "CodatPlatform":
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()


class _Group:
    """A method group. No __slots__: tests patch its methods (mock.patch.object, monkeypatch.setattr)."""

    def __init__(self, sdk: CodatPlatform) -> None:
        self._sdk = sdk
        self._calls = sdk._calls  # (one slow attribute read per call: see _Calls)

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
        return self._calls.fetch(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    def get_access_token(self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                                 operations.GetConnectionManagementAccessTokenRequestTypedDict],
                         retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                         timeout_ms: Optional[float] = None,
                         http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        """The name older SDKs (and Codat's docs) give to ``get``."""
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return self._calls.fetch(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_async(self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                                operations.GetConnectionManagementAccessTokenRequestTypedDict],
                        retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                        timeout_ms: Optional[float] = None,
                        http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return await self._calls.fetch_async(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_access_token_async(
            self, *, request: Union[operations.GetConnectionManagementAccessTokenRequest,
                                    operations.GetConnectionManagementAccessTokenRequestTypedDict],
            retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
            timeout_ms: Optional[float] = None,
            http_headers: Optional[Mapping[str, str]] = None) -> shared.ConnectionManagementAccessToken:
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        return await self._calls.fetch_async(_CM, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]


class Companies(_Group):
    """GET /companies/{companyId}/accessToken (Codat's live endpoint; the token is valid one day)."""

    def get_access_token(self, *, request: Union[operations.GetCompanyAccessTokenRequest,
                                                 operations.GetCompanyAccessTokenRequestTypedDict],
                         retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
                         timeout_ms: Optional[float] = None,
                         http_headers: Optional[Mapping[str, str]] = None) -> shared.CompanyAccessToken:
        """Get company access token: accessToken, expiresIn (seconds) and tokenType."""
        calls = self._calls
        # The common case (a dict request, no per-call option, an answer of the exact types) inlined: no
        # Python frame between this method and the core, nor between the core and pydantic-core's strict
        # validator, which builds the model; everything else goes through _Calls.fetch.
        if (type(request) is dict and retries is UNSET and server_url is None and timeout_ms is None
                and not http_headers and calls.security_source is None):
            try:
                company_id = request["company_id"]  # (cheaper than .get(); a missing key is fetch()'s error)
            except KeyError:
                company_id = None
            if type(company_id) is str:
                call = calls.company_call
                try:
                    value = call(company_id)
                except _CORE_HTTP_ERRORS as exc:
                    return _model_or_raise(_COMPANY, exc)  # type: ignore[no-any-return]
                except ValueError:
                    if not call.__self__.closed:  # type: ignore[attr-defined]
                        raise  # a bad argument
                    # the facade was closed: fetch() opens new connections
                    return calls.fetch(_COMPANY, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]
                try:
                    return _strict_company_token(value, strict=True)  # type: ignore[no-any-return]
                except _ValidationError:  # (not _TO_MODEL's, which would run the strict validator again)
                    return _lax_company_token(value)
        return calls.fetch(_COMPANY, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]

    async def get_access_token_async(
            self, *, request: Union[operations.GetCompanyAccessTokenRequest,
                                    operations.GetCompanyAccessTokenRequestTypedDict],
            retries: OptionalNullable[RetryConfig] = UNSET, server_url: Optional[str] = None,
            timeout_ms: Optional[float] = None,
            http_headers: Optional[Mapping[str, str]] = None) -> shared.CompanyAccessToken:
        return await self._calls.fetch_async(_COMPANY, request, retries, server_url, timeout_ms, http_headers)  # type: ignore[no-any-return]
