"""``StandInServer``: its lifecycle (an asyncio event loop in a background daemon thread), its public
attributes, and ``ServerHooks``, the small API through which the protocol classes (http1.py, http2.py) reach
the server.  docs/standin.md is the specification."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import tempfile
import threading
from typing import Any, Coroutine, Dict, List, Optional, Set, Tuple

from .answers import Responder
from .certs import make_certs
from .http1 import Http1Connection
from .http2 import AlpnDispatch, import_h2
from .platform_api import DEMO_COMPANIES
from .replies import Decision, RecordedRequest, Reply, Request
from .state import ServerState


class ServerHooks:
    """What a connection may ask of the server: count itself in and out, answer a request, run a task the
    server cancels when it stops, and note an internal error or an HTTP/2 stream count.  Lives on the
    server's event-loop thread (only ``state`` is shared with other threads, under its lock)."""

    def __init__(self, state: ServerState, responder: Responder) -> None:
        self._state = state
        self._responder = responder
        self._connections: Set[Any] = set()
        self._tasks: Set["asyncio.Task[None]"] = set()

    def connection_opened(self, conn: Any) -> int:
        """Count a new connection in; return its number."""
        self._connections.add(conn)
        return self._state.new_connection()

    def connection_closed(self, conn: Any) -> None:
        self._connections.discard(conn)

    def decide(self, request: Request) -> Decision:
        """Record a request and work out its answer."""
        return self._responder.decide(request)

    def refusal(self, status: int, message: str) -> Tuple[List[Tuple[str, str]], bytes]:
        """(headers, body) for a request that cannot be taken (not recorded; the connection then closes)."""
        return self._responder.refusal(status, message)

    def start_task(self, coro: Coroutine[Any, Any, None]) -> "asyncio.Task[None]":
        """Run ``coro`` on the server's loop as a task that stop() cancels."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def note_error(self, message: str) -> None:
        self._state.note_error(message)

    def note_open_streams(self, count: int) -> None:
        self._state.note_open_streams(count)

    def shut_down(self, loop: asyncio.AbstractEventLoop) -> None:
        """Abort every connection (silent ones too) and cancel every task; the loop has stopped."""
        try:
            for conn in list(self._connections):
                conn.abort_now()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.wait(tasks, timeout=2))
        finally:
            self._connections.clear()
            self._tasks.clear()


class StandInServer:
    """Stand-in Codat Platform API server.  docs/standin.md is its specification."""

    def __init__(self, tls: bool = False, auth_header: Optional[str] = None,
                 rate_limit: int = 1000, host: str = "127.0.0.1", port: int = 0,
                 enforce_rate_limit: bool = False, cert: Optional[tuple] = None,
                 http2: bool = False, retired_connection_management: bool = False) -> None:
        if cert is not None and not tls:
            raise ValueError("cert needs tls=True")
        if http2 and not tls:
            raise ValueError("http2=True needs tls=True (HTTP/2 is offered by ALPN in the TLS "
                             "handshake)")
        if http2:
            import_h2()  # fail now, with a clear message, if the h2 package is missing
        self.tls = bool(tls)
        self.http2 = bool(http2)
        self._given_cert = tuple(cert) if cert is not None else None
        self.auth_header = auth_header
        self.enforce_rate_limit = bool(enforce_rate_limit)
        self.retired_connection_management = bool(retired_connection_management)
        self.host = host
        self.port = int(port)  # the bound port once started
        self._requested_port = int(port)
        self.ca_path: Optional[str] = None
        self._tmpdir: Optional[str] = None
        self.companies: Dict[str, str] = dict(DEMO_COMPANIES)
        self._state = ServerState(int(rate_limit))
        self._hooks = ServerHooks(self._state, Responder(self, self._state))
        self._lifecycle = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._startup_error: Optional[BaseException] = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "StandInServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._thread else "stopped"
        return f"<StandInServer {state}>"

    @property
    def url(self) -> str:
        if self._thread is None:
            raise RuntimeError("the server is not running")
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def _ssl_context(self) -> Optional[ssl.SSLContext]:
        """The TLS context (with tls=True), with a fresh test CA unless a certificate was given."""
        if not self.tls:
            return None
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self._given_cert is not None:
            ssl_ctx.load_cert_chain(*self._given_cert)
        else:
            self._tmpdir = tempfile.mkdtemp(prefix="codat-standin-")
            try:
                self.ca_path, cert_path, key_path = make_certs(self._tmpdir)
                ssl_ctx.load_cert_chain(cert_path, key_path)
            except BaseException:
                self._remove_tmpdir()
                raise
        ssl_ctx.set_alpn_protocols(["h2", "http/1.1"] if self.http2 else ["http/1.1"])
        return ssl_ctx

    def start(self) -> "StandInServer":
        with self._lifecycle:
            if self._thread is not None:
                raise RuntimeError("the server is already running")
            ssl_ctx = self._ssl_context()
            ready = threading.Event()
            self._startup_error = None
            thread = threading.Thread(target=self._run, args=(ready, ssl_ctx),
                                      name="codat-standin-server", daemon=True)
            self._thread = thread
            thread.start()
            ready.wait()
            if self._startup_error is not None:
                thread.join()
                self._thread = None
                self._remove_tmpdir()
                raise self._startup_error
            return self

    def stop(self) -> None:
        with self._lifecycle:
            thread, loop = self._thread, self._loop
            if thread is None:
                return
            if loop is not None:
                try:
                    loop.call_soon_threadsafe(loop.stop)
                except RuntimeError:  # loop already closed
                    pass
            thread.join(timeout=10)
            self._thread = None
            self._remove_tmpdir()

    def _remove_tmpdir(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = None
        self.ca_path = None

    def _run(self, ready: threading.Event, ssl_ctx: Optional[ssl.SSLContext]) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_exception)
        self._loop = loop
        hooks = self._hooks
        factory: Any = (lambda: AlpnDispatch(hooks)) if self.http2 else (lambda: Http1Connection(hooks))
        try:
            server = loop.run_until_complete(loop.create_server(
                factory, self.host, self._requested_port, ssl=ssl_ctx, backlog=4096,
                ssl_handshake_timeout=10 if ssl_ctx else None))
        except BaseException as exc:
            self._startup_error = exc
            loop.close()
            self._loop = None
            ready.set()
            return
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                server.close()
                hooks.shut_down(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                self._loop = None
                loop.close()

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, (ConnectionError, ssl.SSLError, OSError, asyncio.CancelledError)):
            return  # clients going away or failing the TLS handshake: normal in tests
        self._state.note_error(f"{context.get('message')}: {exc!r}")

    # ------------------------------------------------------------ public state

    def script(self, company_id: str, *replies: Reply) -> None:
        self._check_replies(replies)
        self._state.script(company_id, replies)

    def script_default(self, *replies: Reply) -> None:
        self._check_replies(replies)
        self._state.script_default(replies)

    @staticmethod
    def _check_replies(replies: tuple) -> None:
        for r in replies:
            if not isinstance(r, Reply):
                raise TypeError(f"expected Reply, got {type(r).__name__}")

    @property
    def rate_limit(self) -> int:
        return self._state.rate_limit

    @property
    def requests(self) -> List[RecordedRequest]:
        return self._state.records()

    def request_count(self, company_id: Optional[str] = None) -> int:
        return self._state.request_count(company_id)

    @property
    def connections_opened(self) -> int:
        return self._state.connections_opened

    @property
    def peak_concurrent_streams(self) -> int:
        return self._state.peak_streams

    @property
    def tokens_issued(self) -> List[str]:
        return self._state.tokens()

    @property
    def rate_limit_remaining(self) -> int:
        return self._state.remaining

    @property
    def errors(self) -> List[str]:
        return self._state.errors()

    def reset(self) -> None:
        self._state.reset()
        self.companies = dict(DEMO_COMPANIES)
