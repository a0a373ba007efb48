"""codat_platform_c: Codat Platform API access tokens from Python, through a libcurl + cJSON C core.

    import codat_platform_c as codat
    client = codat.Client(api_key="...")                      # or auth_header="Basic ..."
    client.get_company_access_token(company_id)               # {'accessToken', 'expiresIn', 'tokenType'}
    client.get_access_token(company_id)                       # {'accessToken'} (deprecated endpoint)

Every call releases the GIL for its whole duration (retries and backoff included); one Client may be
shared by many threads. See README.md for errors, retries and the stand-in server for tests.
"""
import os as _os
import _thread

__all__ = [
    "Client", "RetryConfig", "CodatError", "ErrorMessage", "SDKError", "TransportError", "Timeout",
    "get_access_token", "get_company_access_token", "default_client", "USER_AGENT", "LIBCURL_VERSION",
    "DEFAULT_CONCURRENCY", "DEFAULT_SERVER_URL",
    "__version__",
]

# The C extension links libcurl, whose dependency chain (OpenSSL, GnuTLS via librtmp, Kerberos, LDAP,
# SSH, ...) takes the dynamic loader about 10 ms of CPU to map (bench/import_cost.py). It is loaded on first use of a name below
# (PEP 562), so that `import codat_platform_c` itself stays well under a millisecond.
_LAZY = {
    "Client": "_client", "CodatError": "_core", "ErrorMessage": "_core", "SDKError": "_core",
    "TransportError": "_core", "Timeout": "_core", "USER_AGENT": "_core", "LIBCURL_VERSION": "_core",
    "DEFAULT_CONCURRENCY": "_core", "DEFAULT_SERVER_URL": "_core", "__version__": "_core", "_core": None,
}


def __getattr__(name):
    where = _LAZY.get(name, False)
    if where is False:
        raise AttributeError(f"module 'codat_platform_c' has no attribute {name!r}")
    import importlib
    module = importlib.import_module(f".{where or name}", __name__)
    value = module if where is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


_LONG_MAX = (1 << 63) - 1  # the C core keeps the intervals in a C long


def _check_ms(name, value):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"RetryConfig.{name} must be an int, not {type(value).__name__}")
    if value > _LONG_MAX:
        raise ValueError(f"RetryConfig.{name} is out of range")
    if value < 0:
        raise ValueError(f"RetryConfig.{name} must be >= 0")
    return value


def _check_exponent(value):
    if not isinstance(value, (int, float)):
        raise TypeError(f"RetryConfig.exponent must be a number, not {type(value).__name__}")
    try:
        as_float = float(value)
    except OverflowError:
        raise ValueError("RetryConfig.exponent is out of range") from None
    if not 1.0 <= as_float < float("inf"):
        raise ValueError("RetryConfig.exponent must be a finite number >= 1")
    return value


def _check_status_codes(codes):
    if isinstance(codes, (str, bytes)) or not hasattr(codes, "__iter__"):
        raise TypeError('RetryConfig.status_codes must be a sequence of str such as ("429", "5XX"), not '
                        f"{type(codes).__name__}")
    checked = []
    for code in codes:
        text = str(code) if isinstance(code, int) else code
        # "429" or "5XX": a first digit 1-5, then two ASCII digits or XX (either case).
        if not (isinstance(text, str) and len(text) == 3 and text[0] in "12345"
                and (text[1:] in ("XX", "xx", "Xx", "xX") or (text[1] in "0123456789" and text[2] in "0123456789"))):
            raise ValueError(f'RetryConfig.status_codes: {code!r} is not a status code or pattern like "5XX"')
        checked.append(text)
    return tuple(checked)


class RetryConfig:
    """Retry policy: exponential backoff as Codat's official SDKs default to.

    The wait before retry n (0-based) is drawn in [i/2, i) where i = min(initial_interval_ms *
    exponent**n, max_interval_ms). A Retry-After header sets a floor on that wait. No wait ever runs past
    max_elapsed_ms from the start of the call: when it would, the last answer is raised at once.
    Retried: connection errors and timeouts (if retry_connection_errors) and the status_codes
    ("5XX" means 500-599).
    """

    __slots__ = ("initial_interval_ms", "max_interval_ms", "exponent", "max_elapsed_ms",
                 "retry_connection_errors", "status_codes")

    def __init__(self, initial_interval_ms=500, max_interval_ms=60000, exponent=1.5,
                 max_elapsed_ms=3600000, retry_connection_errors=True, status_codes=("408", "429", "5XX")):
        # Checked here, naming the field, rather than at every call that would use a broken config.
        self.initial_interval_ms = _check_ms("initial_interval_ms", initial_interval_ms)
        self.max_interval_ms = _check_ms("max_interval_ms", max_interval_ms)
        self.exponent = _check_exponent(exponent)
        self.max_elapsed_ms = _check_ms("max_elapsed_ms", max_elapsed_ms)
        if not isinstance(retry_connection_errors, int):
            raise TypeError("RetryConfig.retry_connection_errors must be a bool, not "
                            f"{type(retry_connection_errors).__name__}")
        self.retry_connection_errors = retry_connection_errors
        self.status_codes = _check_status_codes(status_codes)

    def _astuple(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        if not isinstance(other, RetryConfig):
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self):
        return hash(self._astuple())

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"RetryConfig({fields})"


_default_lock = _thread.allocate_lock()
_default = None


def _settings_from_env():
    """The Client arguments the environment gives, the one reader of it (default_client() and the command
    line): auth_header from CODAT_AUTH_HEADER (sent verbatim), else api_key from CODAT_API_KEY, and
    server_url from CODAT_SERVER_URL, else DEFAULT_SERVER_URL. An empty variable counts as unset."""
    from ._core import DEFAULT_SERVER_URL
    env = _os.environ
    auth = env.get("CODAT_AUTH_HEADER") or None
    return {"auth_header": auth, "api_key": None if auth else (env.get("CODAT_API_KEY") or None),
            "server_url": env.get("CODAT_SERVER_URL") or DEFAULT_SERVER_URL}


def default_client():
    """The module-level client, made on first use from the environment: CODAT_AUTH_HEADER (sent
    verbatim) or CODAT_API_KEY, and CODAT_SERVER_URL (default DEFAULT_SERVER_URL, https://api.codat.io)."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            from ._client import Client
            _default = Client(**_settings_from_env())
        return _default


def get_access_token(company_id, **options):
    """default_client().get_access_token(company_id, **options)"""
    return default_client().get_access_token(company_id, **options)


def get_company_access_token(company_id, **options):
    """default_client().get_company_access_token(company_id, **options)"""
    return default_client().get_company_access_token(company_id, **options)
