"""The opt-in token cache (``Client(..., cache=True)``), and nothing else.

Loaded only when a client is made with ``cache=True``, so plain ``import codat_platform_c`` stays small.

Token cache
-----------
Entries are keyed by (company id, endpoint, per-call ``server_url``/``http_headers``), live only in
memory, and hold the dict the server sent. A token is served until a safety margin before it expires:

* lifetime: one hour for the connection-management token; ``expiresIn`` seconds for the company token
  (one hour when the answer has no numeric ``expiresIn``; never cached when it is 0 or less), counted
  from when the request was *sent*;
* margin: ``cache_margin_s`` when given, else ``min(5 min, 10 % of the lifetime)``.

Concurrent callers for the same key share one request ("single flight"): the first becomes the leader,
the others wait (threads on a lock, with the GIL released; coroutines on a future of their own loop). When
the leader's request fails, every waiter gets that same exception and nothing is cached. When the leader
stops without an answer (its task was cancelled, Ctrl-C, or a caller error such as a bad option), the
waiters try again themselves, one of them leading. A waiter waits at most its own ``timeout_ms`` (the
call's, else the client's), then raises ``Timeout``; and when the leader is an async call whose event loop
no longer runs (seen stopped twice, 0.1 s apart), the waiters give up on it and go round again, one of them
leading (the stalled leader's answer, should its loop ever run again, reaches it but is not cached). A
blocking caller on the leader's own thread (a batch's progress callback, or a sync call inside an event
loop that leads asynchronously) sends its own request instead, since waiting there could never end.
Every caller gets its own copy of the dict. ``invalidate()`` drops entries and detaches requests in flight
for them (their answers reach their callers but are not cached); ``close()`` drops everything.

The per-company limit is not here: the C core holds every request of a client (threads, batches, awaits)
to ``company_concurrency_limit``, fixed when the client is made.
"""
import _thread
import _weakref
import os as _os
from time import monotonic as _monotonic

from . import _core

CONNECTION_MANAGEMENT = "connection_management"
COMPANY = "company"
CONNECTION_MANAGEMENT_LIFETIME_S = 3600.0  # Codat: the deprecated endpoint's token lasts one hour
FALLBACK_LIFETIME_S = 3600.0  # a company token whose answer has no usable expiresIn
MAX_MARGIN_S = 300.0
MARGIN_FRACTION = 0.1

_PENDING, _OK, _FAILED, _ABANDONED = range(4)
STALL_CHECK_S = 0.1  # how often a waiter looks whether an async leader's event loop still runs
_UNSET = object()


def check_margin(margin_s):
    """cache_margin_s: None (the default rule) or a finite number of seconds >= 0."""
    if margin_s is None:
        return None
    if isinstance(margin_s, bool) or not isinstance(margin_s, (int, float)):
        raise TypeError(f"cache_margin_s must be a number of seconds or None, not {type(margin_s).__name__}")
    margin_s = float(margin_s)
    if not (0.0 <= margin_s < float("inf")):
        raise ValueError("cache_margin_s must be finite and >= 0")
    return margin_s


def _options_key(options):
    """The part of the cache key that per-call options contribute: only what changes which token."""
    server_url = options.get("server_url")
    headers = options.get("http_headers")
    if server_url is None and not headers:
        return None
    try:
        key = (server_url, tuple(sorted(headers.items())) if headers else None)
        hash(key)
    except Exception:
        return object()  # odd options: never shared (the call itself will say what is wrong)
    return key


class _Entry:
    __slots__ = ("value", "fresh_until", "expires_at")

    def __init__(self, value, fresh_until, expires_at):
        self.value = value
        self.fresh_until = fresh_until
        self.expires_at = expires_at

    def __repr__(self):  # never the token
        return f"<cached token, fresh for {max(0.0, self.fresh_until - _monotonic()):.0f} s>"


class _Flight:
    """One request in flight that several callers wait for. done_lock is held until it ends. owner is the
    leader's thread: a blocking wait from that same thread (a progress callback, or a sync call inside the
    event loop that leads asynchronously) could never end, so such a caller sends its own request. loop is
    an async leader's event loop: when it stops running, the leader cannot finish."""

    __slots__ = ("done_lock", "state", "value", "error", "callbacks", "owner", "loop")

    def __init__(self, loop=None):
        self.done_lock = _thread.allocate_lock()
        self.done_lock.acquire()
        self.state = _PENDING
        self.value = None
        self.error = None
        self.callbacks = None
        self.owner = _thread.get_ident()
        self.loop = loop

    def leader_stalled(self):
        loop = self.loop
        return loop is not None and not loop.is_running()

    def led_here(self, me=None):
        """Whether the leader is further up this thread's stack. An async leader's loop that stopped has
        left the thread, whose id may since have gone to another thread."""
        return self.owner == (me or _thread.get_ident()) and not self.leader_stalled()

    def __repr__(self):  # never the token
        return f"<token request {('pending', 'done', 'failed', 'abandoned')[self.state]}>"


def _wake(future):
    if not future.done():
        future.set_result(None)


def _waiter_timeout(timeout_ms):
    exc = _core.Timeout(f"no token within timeout_ms={timeout_ms}: the request for this company that another "
                        "caller sent (cache=True) has not finished")
    exc.attempts = 0  # this caller sent nothing
    return exc


class TokenCache:
    def __init__(self, client, margin_s, timeout_ms=None):
        self._client = _weakref.ref(client)
        self._margin_s = margin_s
        self._timeout_ms = timeout_ms  # the client's: a waiter's deadline when its call names none
        self._lock = _thread.allocate_lock()
        self._entries = {}
        self._flights = {}
        self._variants = set()  # every (endpoint, options part) a key has had: invalidate(id) tries each
        self._stores = 0
        _track(self)

    def __repr__(self):  # never a token
        return f"<TokenCache entries={len(self._entries)} in_flight={len(self._flights)}>"

    def __len__(self):
        return len(self._entries)

    def _after_fork(self):
        # Requests in flight belonged to threads the child does not have.
        self._lock = _thread.allocate_lock()
        self._flights = {}

    # -- bookkeeping

    def _client_or_raise(self):
        client = self._client()
        if client is None:
            raise ReferenceError("the client of this token cache is gone")
        return client

    def lifetime_s(self, endpoint, value):
        if endpoint != COMPANY:
            return CONNECTION_MANAGEMENT_LIFETIME_S
        expires_in = value.get("expiresIn")
        if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or expires_in != expires_in:
            return FALLBACK_LIFETIME_S  # absent or not a number
        return max(0.0, float(expires_in))  # 0 (or less): already expired, never cached

    def margin_s(self, lifetime_s):
        if self._margin_s is not None:
            return self._margin_s
        return min(MAX_MARGIN_S, MARGIN_FRACTION * lifetime_s)

    def _begin(self, key, loop=None):
        """(entry, None, False) when fresh; (None, flight, True) to lead a request; (None, flight, False) to
        wait for one."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and _monotonic() < entry.fresh_until:
                return entry, None, False
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = _Flight(loop)
                self._variants.add(key[1:])
                return None, flight, True
            return None, flight, False

    def _store_locked(self, key, endpoint, value, sent_at):
        if not isinstance(value, dict) or not isinstance(value.get("accessToken"), str):
            return
        client = self._client()
        if client is None or client.closed:
            return
        lifetime = self.lifetime_s(endpoint, value)
        expires_at = sent_at + lifetime
        fresh_until = expires_at - self.margin_s(lifetime)
        if fresh_until <= _monotonic():
            return
        self._entries[key] = _Entry(value, fresh_until, expires_at)
        self._stores += 1
        if self._stores % 1024 == 0:  # now and then, forget tokens that have expired
            now = _monotonic()
            for k in [k for k, e in self._entries.items() if e.expires_at <= now]:
                del self._entries[k]

    def _finish(self, key, flight, state, value=None, error=None, endpoint=None, sent_at=0.0):
        with self._lock:
            if flight.state != _PENDING:
                return  # given up on as stalled: its waiters have gone round already
            current = self._flights.get(key) is flight
            if current:
                del self._flights[key]
                if state == _OK:
                    self._store_locked(key, endpoint, value, sent_at)
            flight.state = state
            flight.value = value
            flight.error = error
            callbacks, flight.callbacks = flight.callbacks, None
        flight.done_lock.release()
        for callback in callbacks or ():
            callback()

    def invalidate(self, company_id=None):
        with self._lock:
            if company_id is None:
                self._entries.clear()
                self._flights.clear()
                return
            for variant in self._variants:
                key = (company_id,) + variant
                self._entries.pop(key, None)
                self._flights.pop(key, None)

    def clear(self):
        self.invalidate(None)

    def _lead_failed(self, key, flight, exc):
        """The leader's request raised exc. An API or transport error is the answer for every waiter too;
        a caller error (TypeError/ValueError: a waiter's own call may be fine), Ctrl-C or a cancelled task
        is not, and the waiters go round again, one of them leading."""
        if isinstance(exc, Exception) and not isinstance(exc, (TypeError, ValueError)):
            self._finish(key, flight, _FAILED, error=exc)
        else:
            self._finish(key, flight, _ABANDONED)

    def _deadline(self, options):
        """(timeout_ms, monotonic deadline), both None without a timeout: the call's timeout_ms, else the
        client's."""
        timeout_ms = options.get("timeout_ms", self._timeout_ms) if options else self._timeout_ms
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
            return None, None  # None, or a bad value that the call itself refuses when it leads
        return timeout_ms, _monotonic() + timeout_ms / 1000.0

    def _check_leader(self, key, flight, suspect):
        """A waiter's look at the leader every STALL_CHECK_S: an async leader whose loop is seen stopped
        twice in a row is given up on (the flight ends abandoned). Returns whether it looked stopped."""
        if not flight.leader_stalled():
            return False
        if suspect:
            self._finish(key, flight, _ABANDONED)
        return True

    def _wait(self, key, flight, deadline):
        """Blocks (GIL released) until the flight ends; False when the deadline came first."""
        suspect = False
        while True:
            wait = STALL_CHECK_S if deadline is None else min(STALL_CHECK_S, deadline - _monotonic())
            if wait <= 0:
                return False
            if flight.done_lock.acquire(timeout=wait):
                flight.done_lock.release()
                return True
            suspect = self._check_leader(key, flight, suspect)

    # -- one token, synchronously

    def get(self, method, endpoint, company_id, options):
        key = (company_id, endpoint, _options_key(options) if options else None)
        entry = self._entries.get(key)  # lock-free fast path: one dict read under the GIL
        if entry is not None and _monotonic() < entry.fresh_until:
            return dict(entry.value)
        timeout_ms = deadline = _UNSET
        while True:
            entry, flight, lead = self._begin(key)
            if entry is not None:
                return dict(entry.value)
            if lead:
                client = self._client_or_raise()
                sent_at = _monotonic()
                try:
                    value = method(client, company_id, **options)
                except BaseException as exc:
                    self._lead_failed(key, flight, exc)
                    raise
                self._finish(key, flight, _OK, value, endpoint=endpoint, sent_at=sent_at)
                return dict(value)
            if flight.led_here():  # waiting would deadlock: ask for our own
                return dict(method(self._client_or_raise(), company_id, **options))
            if deadline is _UNSET:  # counted from the first wait, not again after a leader gave up
                timeout_ms, deadline = self._deadline(options)
            if not self._wait(key, flight, deadline):
                raise _waiter_timeout(timeout_ms)
            if flight.state == _OK:
                return dict(flight.value)
            if flight.state == _FAILED:
                raise flight.error
            # abandoned: go round again

    # -- one token, awaitable

    async def get_async(self, endpoint, company_id, options):
        key = (company_id, endpoint, _options_key(options) if options else None)
        entry = self._entries.get(key)
        if entry is not None and _monotonic() < entry.fresh_until:
            return dict(entry.value)
        import asyncio
        loop = asyncio.get_running_loop()
        timeout_ms = deadline = _UNSET
        while True:
            entry, flight, lead = self._begin(key, loop)
            if entry is not None:
                return dict(entry.value)
            if lead:
                client = self._client_or_raise()
                sent_at = _monotonic()
                try:
                    value = await client._fetch_async(endpoint, company_id, options)
                except BaseException as exc:
                    self._lead_failed(key, flight, exc)
                    raise
                self._finish(key, flight, _OK, value, endpoint=endpoint, sent_at=sent_at)
                return dict(value)
            if deadline is _UNSET:  # counted from the first wait, not again after a leader gave up
                timeout_ms, deadline = self._deadline(options)
            if not await self._wait_async(key, flight, deadline):
                raise _waiter_timeout(timeout_ms)
            if flight.state == _OK:
                return dict(flight.value)
            if flight.state == _FAILED:
                raise flight.error

    async def _wait_async(self, key, flight, deadline):
        """Until the flight ends (True), or the deadline comes first (False)."""
        import asyncio
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def wake():  # runs wherever the leader finishes
            try:
                loop.call_soon_threadsafe(_wake, future)
            except RuntimeError:
                pass  # that loop is closed: nobody waits there any more

        with self._lock:
            pending = flight.state == _PENDING
            if pending:
                if flight.callbacks is None:
                    flight.callbacks = []
                flight.callbacks.append(wake)
        suspect = False
        while pending:  # a cancelled waiter just leaves; the request goes on for the others
            wait = STALL_CHECK_S if deadline is None else min(STALL_CHECK_S, deadline - _monotonic())
            if wait <= 0:
                return False
            done, _ = await asyncio.wait((future,), timeout=wait)
            if done:
                break
            suspect = self._check_leader(key, flight, suspect)
        return True

    # -- many tokens

    def get_many(self, method, company_ids, concurrency, endpoint, progress, options):
        client = self._client_or_raise()
        # The C batch's own checks, messages and duplicate rule (once each, first-seen order), before the
        # cache is consulted: a bad argument is refused the same way whether or not a request would go out.
        ids = _core.Client._check_batch_args(client, company_ids, concurrency=concurrency, endpoint=endpoint,
                                             progress=progress, **options)
        extra = _options_key(options) if options else None
        out = {}
        lead, waits, own = [], [], []
        me = _thread.get_ident()
        with self._lock:
            now = _monotonic()
            for cid in ids:
                key = (cid, endpoint, extra)
                entry = self._entries.get(key)
                if entry is not None and now < entry.fresh_until:
                    out[cid] = dict(entry.value)
                    continue
                flight = self._flights.get(key)
                if flight is None:
                    flight = self._flights[key] = _Flight()
                    self._variants.add(key[1:])
                    lead.append((cid, key, flight))
                elif flight.led_here(me):
                    own.append(cid)  # led further up this thread's stack: waiting would deadlock
                else:
                    waits.append((cid, flight))
        total = len(ids)
        if lead or own:
            base = total - len(lead) - len(own) - len(waits)
            report = None
            if progress is not None:
                def report(done, _n):
                    return progress(base + done, total)
            sent_at = _monotonic()
            try:
                fetched = method(client, [cid for cid, _, _ in lead] + own, concurrency=concurrency,
                                 endpoint=endpoint, progress=report, **options)
            except BaseException:
                for _, key, flight in lead:
                    self._finish(key, flight, _ABANDONED)
                raise
            for cid, key, flight in lead:
                value = fetched[cid]
                if isinstance(value, BaseException):
                    self._finish(key, flight, _FAILED, error=value)
                    out[cid] = value
                else:
                    self._finish(key, flight, _OK, value, endpoint=endpoint, sent_at=sent_at)
                    out[cid] = dict(value)
            for cid in own:
                out[cid] = fetched[cid]
        elif endpoint == CONNECTION_MANAGEMENT:
            # Nothing to send, every token cached: still warn about the retired endpoint, as the call does.
            import warnings
            warnings.warn(_core._RETIRED_WARNING, DeprecationWarning, stacklevel=3)
        again = []
        timeout_ms, deadline = self._deadline(options)
        for cid, flight in waits:
            if not self._wait((cid, endpoint, extra), flight, deadline):
                out[cid] = _waiter_timeout(timeout_ms)
            elif flight.state == _OK:
                out[cid] = dict(flight.value)
            elif flight.state == _FAILED:
                out[cid] = flight.error
            else:
                again.append(cid)
        if again:
            out.update(self.get_many(method, again, concurrency, endpoint, None, options))
        if progress is not None and (waits or not (lead or own)):
            progress(total, total)
        return {cid: out[cid] for cid in ids}


# -- fork safety: a child has none of its parent's threads, so no lock or wait of theirs may carry over

_tracked = None


def _track(obj):
    global _tracked
    if _tracked is None:
        from _weakrefset import WeakSet
        _tracked = WeakSet()
        if hasattr(_os, "register_at_fork"):
            _os.register_at_fork(after_in_child=_after_fork_in_child)
    _tracked.add(obj)


def _after_fork_in_child():
    for obj in list(_tracked or ()):
        obj._after_fork()


# -- wiring onto a client

def install(client, margin_s, timeout_ms=None):
    """Put cached versions of the token methods on this client instance (the class keeps the C ones).
    timeout_ms: the client's, a waiting caller's deadline when its call names none."""
    cache = TokenCache(client, margin_s, timeout_ms)
    base = _core.Client
    get_cm, get_co, get_many = base.get_access_token, base.get_company_access_token, base.get_access_tokens
    cm, co = CONNECTION_MANAGEMENT, COMPANY

    def get_access_token(company_id, /, **options):
        return cache.get(get_cm, cm, company_id, options)

    def get_company_access_token(company_id, /, **options):
        return cache.get(get_co, co, company_id, options)

    def get_access_tokens(company_ids, /, *, concurrency=None, endpoint=cm, progress=None, **options):
        return cache.get_many(get_many, company_ids, concurrency, endpoint, progress, options)

    async def get_access_token_async(company_id, /, **options):
        return await cache.get_async(cm, company_id, options)

    async def get_company_access_token_async(company_id, /, **options):
        return await cache.get_async(co, company_id, options)

    d = client.__dict__
    for fn, doc_from in ((get_access_token, get_cm), (get_company_access_token, get_co),
                         (get_access_tokens, get_many),
                         (get_access_token_async, type(client).get_access_token_async),
                         (get_company_access_token_async, type(client).get_company_access_token_async)):
        fn.__doc__ = (doc_from.__doc__ or "") + "\n\nCached: a still-fresh token is returned without a request."
        fn.__qualname__ = "Client." + fn.__name__
        d[fn.__name__] = fn
    d["_token_cache"] = cache
    return cache
