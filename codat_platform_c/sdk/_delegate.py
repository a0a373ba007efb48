"""The rest of the official SDK behind the facade.

``codat_platform_c.sdk.CodatPlatform`` implements the two access-token operations on the C core. Every other
operation and attribute (``cp.companies.list``, ``cp.connections``, ``cp.settings.get_profile``, ...) is served
by an inner ``codat_platform.CodatPlatform`` that is made, with the facade's configuration, the first time one is
used: a process that only fetches tokens never imports the official SDK (about half a second of imports).

Two things keep one application working across both paths:

- ``facade_error`` turns what a delegated operation raises into the facade's own exception classes
  (``errors.ErrorMessage``, ``errors.SDKError``, ... with the same fields and ``data``; urllib3's connection
  errors into ``codat_platform_c.TransportError`` / ``Timeout``), so one ``except`` clause serves both paths.
- Arguments written with the facade's names (``utils.RetryConfig``, ``types.UNSET``) are turned into the
  official SDK's before the call, as its methods validate them with pydantic.

Models returned by delegated operations are the official SDK's own. The facade's ``models.shared`` and
``models.operations`` modules also hand out, on first use, the official classes they do not define
(``shared.Company``, ``operations.ListCompaniesRequest``, ...), so code that builds request models keeps
working after the import swap.
"""
from __future__ import annotations

import _thread
import sys
from typing import Any, Callable, Dict, Optional

import codat_platform_c as _codat

from .models import errors, operations, shared
from .types import UNSET

INSTALL_HINT = "pip install codat-platform"

# The official SDK's sub-SDKs; the facade implements part of the first two itself.
OFFICIAL_GROUPS = frozenset({
    "companies", "connection_management", "cors", "connections", "webhooks", "integrations", "refresh_data",
    "settings", "push_data", "read_data", "supplemental_data", "custom_data_type"})
_FACADE_GROUPS = {"Companies": "companies", "ConnectionManagement": "connection_management"}

_creation_lock = _thread.allocate_lock()


def _official_module(what: str) -> Any:
    """``codat_platform``, imported now if it was not; AttributeError naming the install command if missing."""
    try:
        import codat_platform
        return codat_platform
    except ImportError as exc:
        raise AttributeError(f"{what} is not implemented by codat_platform_c.sdk, which covers the access-token "
                             f"operations; the rest is served by the official SDK when it is installed "
                             f"({INSTALL_HINT})") from exc


class _ResolvedSecurity:
    """What the official SDK's security hook reads (``auth_header``), without showing it in a repr."""

    __slots__ = ("auth_header",)

    def __init__(self, auth_header: Optional[str]) -> None:
        self.auth_header = auth_header

    def __repr__(self) -> str:
        return "Security(auth_header='<redacted>')"


def _official_retries(config: Any) -> Any:
    """The official RetryConfig for a facade (or official) one; None for UNSET/None (the default backoff)."""
    if config is None or config is UNSET or type(config).__name__ == "Unset":
        return None
    from codat_platform.utils.retries import BackoffStrategy, RetryConfig
    if isinstance(config, RetryConfig):
        return config
    b = getattr(config, "backoff", None)
    backoff = None if b is None else BackoffStrategy(b.initial_interval, b.max_interval, b.exponent,
                                                     b.max_elapsed_time)
    return RetryConfig(getattr(config, "strategy", "backoff"), backoff,
                       getattr(config, "retry_connection_errors", True))


def _make_official(sdk: Any) -> Any:
    """An official CodatPlatform configured as the facade ``sdk`` is."""
    official = _official_module("this operation")
    from ._client import _auth_from
    source = sdk._security_source
    security: Any
    if source is not None:
        def security() -> _ResolvedSecurity:  # resolved before every request, as the official SDK does
            return _ResolvedSecurity(_auth_from(source()))
    elif sdk._auth is not None:
        security = _ResolvedSecurity(sdk._auth)
    else:
        security = None
    config: Dict[str, Any] = sdk._delegate_config
    retry_config = _official_retries(sdk._retry_config)
    inner = official.CodatPlatform(
        security=security, server_idx=config["server_idx"], url_params=config["url_params"],
        server_url=sdk._server_url.rstrip("/"), timeout_ms=sdk._timeout_ms, debug_logger=config["debug_logger"],
        **({} if retry_config is None else {"retry_config": retry_config}))
    verify = sdk._client_kwargs.get("verify", True)
    if verify is not True:  # the facade's verify= (False, or a CA bundle) holds for delegated calls too
        from codat_platform import rest
        api_client = inner._api_client
        api_client.configuration.verify_ssl = bool(verify)
        api_client.configuration.ssl_ca_cert = verify if isinstance(verify, str) else None
        api_client.rest_client = rest.RESTClientObject(api_client.configuration)
    return inner


class _Delegate:
    """The inner official SDK of one facade, and the wrapped groups and methods handed out from it."""

    __slots__ = ("official", "_cache")

    def __init__(self, official: Any) -> None:
        self.official = official
        self._cache: Dict[Any, Any] = {}

    def wrapped(self, key: Any, make: Callable[[], Any]) -> Any:
        value = self._cache.get(key)
        if value is None:
            value = self._cache.setdefault(key, make())
        return value


def _delegate_of(sdk: Any) -> _Delegate:
    holder: Optional[_Delegate] = sdk.__dict__.get("_delegate")
    if holder is None:
        with _creation_lock:
            holder = sdk.__dict__.get("_delegate")
            if holder is None:
                holder = _Delegate(_make_official(sdk))
                sdk.__dict__["_delegate"] = holder
    return holder


def official_sdk(sdk: Any) -> Any:
    """The inner official ``codat_platform.CodatPlatform`` of a facade (made now if it was not)."""
    return _delegate_of(sdk).official


def close(sdk: Any) -> None:
    holder: Optional[_Delegate] = sdk.__dict__.get("_delegate")
    if holder is not None:
        holder.official.__exit__(None, None, None)


# ---------------------------------------------------------------- attribute look-ups (the hooks)

def sdk_attribute(sdk: Any, name: str) -> Any:
    """``CodatPlatform.__getattr__``: a sub-SDK or attribute of the official SDK that the facade lacks."""
    if name.startswith("_"):  # private names, and the dunder probes of copy/pickle/inspect, stay local
        raise AttributeError(f"'CodatPlatform' object has no attribute '{name}'")
    holder = _delegate_of_or_explain(sdk, f"'{name}'")
    try:
        value = getattr(holder.official, name)
    except AttributeError:
        raise AttributeError(f"'CodatPlatform' object has no attribute '{name}' (nor has the official SDK's)") \
            from None
    return _wrap(holder, name, value)


def group_attribute(group: Any, name: str) -> Any:
    """``Companies.__getattr__`` / ``ConnectionManagement.__getattr__``: an operation the facade lacks."""
    kind = type(group).__name__
    if name.startswith("_"):
        raise AttributeError(f"'{kind}' object has no attribute '{name}'")
    group_name = _FACADE_GROUPS.get(kind, kind)
    holder = _delegate_of_or_explain(group._sdk, f"'{group_name}.{name}'")
    try:
        value = getattr(getattr(holder.official, group_name), name)
    except AttributeError:
        raise AttributeError(f"'{kind}' object has no attribute '{name}' (nor has the official SDK's)") from None
    return _wrap(holder, f"{group_name}.{name}", value)


def _delegate_of_or_explain(sdk: Any, what: str) -> _Delegate:
    if "_delegate" not in sdk.__dict__:
        _official_module(what)  # the clear AttributeError when the official SDK is not installed
    return _delegate_of(sdk)


def _wrap(holder: _Delegate, key: str, value: Any) -> Any:
    """Official sub-SDKs come back as proxies, their methods with the facade's errors; data as it is."""
    module = getattr(type(value), "__module__", "") or ""
    if module.startswith("codat_platform.api."):
        return holder.wrapped(key, lambda: _Group(holder, key, value))
    if callable(value) and not isinstance(value, type):
        return holder.wrapped(key, lambda: _with_facade_errors(value))
    return value


class _Group:
    """A sub-SDK of the inner official SDK (``cp.connections``, ``cp.settings``, ...) whose operations raise
    the facade's errors. Attributes set on it (``mock.patch.object``) shadow the official ones."""

    def __init__(self, holder: _Delegate, key: str, official_group: Any) -> None:
        self._holder = holder
        self._key = key
        self._official = official_group

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # (also before __init__ ran, as in copy and unpickling: no recursion)
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        return _wrap(self._holder, f"{self._key}.{name}", getattr(self._official, name))

    def __dir__(self) -> Any:
        return [n for n in dir(self._official) if not n.startswith("_")]

    def __repr__(self) -> str:
        return f"<codat_platform_c.sdk delegated {self._key} -> {type(self._official).__module__}>"


def _facade_kwargs(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    if "retries" in kwargs:
        retries = kwargs["retries"]
        if retries is UNSET or type(retries).__name__ == "Unset":
            del kwargs["retries"]  # either SDK's UNSET: the SDK-level retry_config
        elif retries is not None:
            kwargs["retries"] = _official_retries(retries)
    return kwargs


def _with_facade_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    import functools
    import inspect
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **_facade_kwargs(kwargs))
            except Exception as exc:
                mapped = facade_error(exc)
                if mapped is None:
                    raise
                raise mapped from mapped.__cause__
        return call_async

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **_facade_kwargs(kwargs))
        except Exception as exc:
            mapped = facade_error(exc)
            if mapped is None:
                raise
            raise mapped from mapped.__cause__
    return call


# ---------------------------------------------------------------- the one error mapping

def facade_error(exc: BaseException) -> Optional[BaseException]:
    """The facade's exception for one raised by the official SDK, or None to let it through as it is.

    The fields (message, status_code, body, headers, raw_response, data, cause) are carried over, so
    ``str(e)`` and ``e.data.correlation_id`` read as the official error would. ``__cause__`` is the official
    error (for ResponseValidationError its cause, the pydantic ValidationError, as in the official SDK)."""
    official = sys.modules.get("codat_platform.models.errors")
    new: Optional[BaseException] = None
    if official is not None and isinstance(exc, official.CodatPlatformError):
        fields = dict(raw_response=exc.raw_response, status_code=exc.status_code, headers=dict(exc.headers))
        if isinstance(exc, official.ErrorMessage):
            new = errors.ErrorMessage(_error_data(exc), body=exc.body, **fields)
        elif isinstance(exc, official.ResponseValidationError):
            new = errors.ResponseValidationError("Response validation failed", cause=exc.cause, body=exc.body,
                                                 **fields)
        elif isinstance(exc, official.SDKError):
            new = errors.SDKError(exc.message, body=exc.body, **fields)
        else:
            new = errors.CodatPlatformError(exc.message, body=exc.body, **fields)
        object.__setattr__(new, "message", exc.message)  # the official text as it is: not composed twice
        new.args = exc.args
        if not isinstance(exc, official.ResponseValidationError):
            new.__cause__ = exc
    elif official is not None and isinstance(exc, official.NoResponseError):
        new = errors.NoResponseError(exc.message)
        new.__cause__ = exc
    else:
        urllib3 = sys.modules.get("urllib3.exceptions")
        if urllib3 is not None and isinstance(exc, urllib3.HTTPError):
            # urllib3's NewConnectionError (refused, unreachable) subclasses its TimeoutError: not a timeout
            timed_out = any(isinstance(e, urllib3.TimeoutError) and not isinstance(e, urllib3.NewConnectionError)
                            for e in (exc, getattr(exc, "reason", None)))
            new = (_codat.Timeout if timed_out else _codat.TransportError)(str(exc))
            new.__cause__ = exc
    return None if new is None else bilingual(new)


_BILINGUAL: Dict[type, type] = {}


def bilingual(exc: BaseException) -> BaseException:
    """Close the partial-swap trap: once the application has imported the official SDK's errors (so it may
    be catching ``codat_platform.models.errors.ErrorMessage``), a facade error also becomes an instance of the
    official class of the same name, for both paths. The class is a subclass of both (its name, fields and
    ``data`` stay the facade's); it pickles as the facade class. Without the official errors imported this
    is one dict look-up."""
    official = sys.modules.get("codat_platform.models.errors")
    cls = type(exc)
    if (official is None or "_facade_class" in cls.__dict__
            or not issubclass(cls, (errors.CodatPlatformError, errors.NoResponseError))):
        return exc
    dual = _BILINGUAL.get(cls)
    if dual is None:
        theirs = getattr(official, cls.__name__, None)
        if not (isinstance(theirs, type) and issubclass(theirs, BaseException)):
            return exc
        dual = _BILINGUAL.setdefault(cls, type(cls.__name__, (cls, theirs), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__,
            "_facade_class": cls,
            # the facade's identity semantics, not the official dataclass's field-wise == and hash
            "__eq__": object.__eq__, "__ne__": object.__ne__, "__hash__": object.__hash__,
            "__reduce__": _reduce_as_facade}))
    exc.__class__ = dual
    return exc


def _reduce_as_facade(exc: Any) -> Any:
    return _rebuild_as, (type(exc)._facade_class, exc.args, exc.__dict__.copy())


def _rebuild_as(cls: type, args: Any, state: Dict[str, Any]) -> BaseException:
    exc: BaseException = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


def _error_data(exc: Any) -> Any:
    """The facade's ErrorMessageData for an official ErrorMessage: Codat's JSON as sent when the body is
    a JSON object (as the facade's token path builds it), else the official data's fields."""
    import json
    try:
        raw = json.loads(exc.body)
    except (TypeError, ValueError):
        raw = None
    if not isinstance(raw, dict):
        raw = exc.data.model_dump(by_alias=True, mode="json")
    data_class = errors.ErrorMessageData
    from_dict = getattr(data_class, "from_dict", None) or data_class.model_validate
    return from_dict(raw)


# ---------------------------------------------------------------- models the facade does not define

def _serve_missing_names(module: Any, official_name: str) -> None:
    """Let ``module`` hand out the official module's names it does not define itself (PEP 562)."""
    own = module.__dict__.get("__getattr__")

    def __getattr__(name: str) -> Any:
        if own is not None:
            try:
                return own(name)
            except AttributeError:
                pass
        if name.startswith("__"):
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        try:
            __import__(official_name)
            official = sys.modules[official_name]
        except ImportError:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}; the official SDK's models "
                                 f"are served here when it is installed ({INSTALL_HINT})") from None
        try:
            return getattr(official, name)
        except AttributeError:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r} (nor has "
                                 f"{official_name!r})") from None

    module.__getattr__ = __getattr__


_serve_missing_names(shared, "codat_platform.models.shared")
_serve_missing_names(operations, "codat_platform.models.operations")
