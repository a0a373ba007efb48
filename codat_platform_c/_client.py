"""The Python layer of Client: asyncio glue (one libcurl driver per event loop) and the opt-in token cache,
over the C type codat_platform_c._core.Client. Imported on first use of codat_platform_c.Client."""
from . import _core

_LIMIT_FIXED = ("company_concurrency_limit is fixed when the client is made: pass company_concurrency_limit=N "
                "to the constructor (or set it on a subclass)")

def _settle(future, value, is_error):
    if future.done():  # cancelled meanwhile
        return
    if is_error:
        future.set_exception(value)
    else:
        future.set_result(value)


_async_clients = None


def _close_async_clients():
    # At exit, stop the I/O threads while the interpreter can still run their callbacks.
    for client in list(_async_clients or ()):
        client.close()


def _rebuild(cls, config):
    """Unpickling: a fresh client of the same class, from the configuration __reduce__ took."""
    return cls(**config)


def _snapshot_retries(retries):
    """A RetryConfig of our own with the caller's values: the core copied the policy when the client was
    made, so a later change to the caller's object must not change what a pickle or copy carries."""
    from . import RetryConfig
    if retries is None or not all(hasattr(retries, name) for name in RetryConfig.__slots__):
        return retries  # None, or a wrong type the core reports
    # Copied field by field without RetryConfig.__init__: the core checks the values (as it checks a config
    # whose fields were set after construction), and a copy must not be stricter than the original.
    import copy
    snapshot = RetryConfig.__new__(RetryConfig)
    for name in RetryConfig.__slots__:
        setattr(snapshot, name, copy.deepcopy(getattr(retries, name)))
    return snapshot


class Client(_core.Client):
    # (the C type's signature line is its __text_signature__, not part of its __doc__)
    __doc__ = "Client" + str(_core.Client.__text_signature__) + "\n\n" + _core.Client.__doc__ + """

cache=True keeps tokens in memory and returns a still-fresh one without a request: for one hour
(connection-management token) or expiresIn seconds (company token), less a safety margin,
cache_margin_s (default: min(5 min, 10% of the lifetime)). Concurrent callers for the same company
share one request; invalidate(company_id=None) drops entries; close() drops them all. Works for the
sync, async and batch methods. At most company_concurrency_limit (10, Codat's limit) requests per
company are in flight at once, over every thread, batch and async call of the client; more wait.
company_concurrency_limit=N (1-1000) sets that limit for this client alone (default: the class
attribute, which a subclass may lower); it is fixed once the client is made.

A Client pickles (and copies) by its configuration, auth header included, so that it can be handed to
Dask, Ray or process-pool workers; see __reduce__ and docs/scaling.md."""

    # Codat: at most 10 concurrent requests per company. Read when a client is made (a subclass may
    # lower it); the core holds every request to it (threads, batches, awaits), and it cannot change after.
    company_concurrency_limit = 10
    _token_cache = None
    _drivers = None  # {"pid": os.getpid(), loop: _core._LoopDriver}
    _async_via_io_thread = False  # True: awaits go through the I/O thread (for the benchmark's comparison)

    def __init__(self, *args, cache=False, cache_margin_s=None, company_concurrency_limit=None, **kwargs):
        if kwargs.get("verify", True) is True:
            # The CA store as Python's ssl finds it, not only where the bundled libcurl was built to look.
            from ._ca import default_verify_location
            kwargs["verify"] = default_verify_location() or True
        if company_concurrency_limit is not None:
            # Read (and checked) by the core's __init__ below, like the class's, and fixed from then on.
            self.__dict__["company_concurrency_limit"] = company_concurrency_limit
        if kwargs.get("retries") is not None:
            kwargs["retries"] = _snapshot_retries(kwargs["retries"])
        if cache:
            from . import _cache
            margin_s = _cache.check_margin(cache_margin_s)
            super().__init__(*args, **kwargs)
            # cached methods on this instance; the class keeps the C ones
            _cache.install(self, margin_s, kwargs.get("timeout_ms"))
        else:
            if cache_margin_s is not None:
                raise TypeError("cache_margin_s needs cache=True")
            super().__init__(*args, **kwargs)

    def _config(self):
        config = self._reduce_config()  # ValueError when closed
        cache = self._token_cache
        if cache is not None:
            config["cache"] = True
            config["cache_margin_s"] = cache._margin_s
        limit = self.__dict__.get("company_concurrency_limit")
        if limit is not None:
            config["company_concurrency_limit"] = limit
        return config

    def __reduce__(self):
        """Pickle by configuration: unpickling calls type(self)(**config) and so makes a fresh client.

        The pickle CARRIES THE AUTH HEADER (or api_key) in clear, so that a worker process can
        authenticate: treat the pickled bytes as the secret they hold (do not log, store or send them
        anywhere you would not put the key). Also carried: server_url, timeout_ms, retries (a copy of
        the policy), verify (True/False or the CA bundle path, which must exist where it is unpickled),
        max_body_bytes, batch_concurrency, cache and cache_margin_s, a company_concurrency_limit given
        to the constructor, and the class (by reference: a subclass must be importable by the worker,
        and its __init__ must accept these keyword arguments). Never carried: connections, cached
        tokens, the I/O thread, async state or rate_limit figures. A closed client raises ValueError.
        copy.copy() and copy.deepcopy() follow the same rule."""
        return _rebuild, (type(self), self._config())

    def __copy__(self):
        return type(self)(**self._config())

    def __deepcopy__(self, memo):
        return type(self)(**self._config())

    def invalidate(self, company_id=None):
        """Drop the cached tokens of one company (every endpoint), or of all when company_id is None.
        Does nothing without cache=True."""
        if company_id is not None and not isinstance(company_id, str):
            raise TypeError(f"company_id must be a str or None, not {type(company_id).__name__}")
        cache = self._token_cache
        if cache is not None:
            cache.invalidate(company_id)

    def close(self):
        """Free pooled connections, stop the I/O thread and drop cached tokens. Later
        calls raise ValueError."""
        cache = self._token_cache
        if cache is not None:
            cache.clear()
        _core.Client.close(self)
        self._close_drivers()

    def __exit__(self, *exc_info):
        self.close()
        return False

    def __setattr__(self, name, value):
        if name == "company_concurrency_limit":
            raise AttributeError(_LIMIT_FIXED)
        super().__setattr__(name, value)

    def __delattr__(self, name):
        if name == "company_concurrency_limit":
            raise AttributeError(_LIMIT_FIXED)
        super().__delattr__(name)

    def _register_async(self):
        global _async_clients
        if _async_clients is None:
            import atexit
            import weakref
            _async_clients = weakref.WeakSet()
            atexit.register(_close_async_clients)
        _async_clients.add(self)

    def _new_driver(self, loop):
        """The driver of this client's calls on `loop` (one per loop: its libcurl multi handle keeps the
        connections that loop's awaits reuse)."""
        import os
        drivers = self._drivers
        if drivers is None or drivers.get("pid") != os.getpid():
            # First use, or a forked child: the parent's drivers hold the parent's sockets (the core
            # leaks rather than touches them).
            drivers = self.__dict__["_drivers"] = {"pid": os.getpid()}
        for other, driver in list(drivers.items()):
            if other != "pid" and other.is_closed():
                # Nobody can await on a closed loop again: end its calls so that their company slots
                # come back, and let it go.
                driver.close()
                drivers.pop(other, None)
        try:
            driver = drivers[loop] = _core._LoopDriver(self, loop)  # ValueError when closed
        except NotImplementedError:  # not Linux (no epoll): the I/O thread runs the awaits
            return None
        self._register_async()
        return driver

    def _close_drivers(self):
        """After close(): every await in flight on any loop ends with ValueError, on its loop's thread."""
        for loop, driver in list((self._drivers or {}).items()):
            if loop == "pid":
                continue
            if loop.is_closed():
                driver.close()
                continue
            try:
                loop.call_soon_threadsafe(driver.close)
            except RuntimeError:  # closed meanwhile: nothing runs there any more
                driver.close()

    async def _fetch_async(self, endpoint, company_id, options):
        import asyncio  # already loaded by whoever runs the loop: `import codat_platform_c` stays light
        loop = asyncio.get_running_loop()
        drivers = self._drivers
        driver = drivers.get(loop) if drivers is not None else None
        if driver is None:
            driver = None if self._async_via_io_thread else self._new_driver(loop)
            if driver is None:
                return await self._fetch_via_io_thread(loop, endpoint, company_id, options)
        future = loop.create_future()
        call_id = driver.submit(endpoint, company_id, future, **options)
        try:
            return await future
        except asyncio.CancelledError:
            driver.cancel(call_id)  # aborts the transfer and frees it
            raise

    async def _fetch_via_io_thread(self, loop, endpoint, company_id, options):
        """The hand-off the driver replaced: the client's I/O thread runs the call and hands the result to
        the loop with call_soon_threadsafe. Kept for bench/async_bench.py's comparison
        (Client._async_via_io_thread = True)."""
        future = loop.create_future()

        def on_done(value, is_error):
            try:
                loop.call_soon_threadsafe(_settle, future, value, is_error)
            except RuntimeError:
                pass  # the loop is closed: nobody is waiting any more

        self._register_async()
        call_id = self._submit_async(endpoint, company_id, on_done, **options)
        import asyncio
        try:
            return await future
        except asyncio.CancelledError:
            self._cancel_async(call_id)
            raise

    async def get_access_token_async(self, company_id, **options):
        """Like get_access_token(), awaitable. The awaits on one event loop share one libcurl multi handle,
        driven by that loop itself (no thread of ours); task.cancel() aborts the transfer."""
        import warnings
        warnings.warn(_core._RETIRED_WARNING, DeprecationWarning, stacklevel=2)
        return await self._fetch_async("connection_management", company_id, options)

    async def get_company_access_token_async(self, company_id, **options):
        """Like get_company_access_token(), awaitable."""
        return await self._fetch_async("company", company_id, options)


