"""The stand-in's HTTP/2 connection (built on the ``h2`` package, imported only when ``http2=True``) and the
ALPN dispatch that hands each TLS connection to it or to the HTTP/1.1 connection."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Set

from .http1 import ClosingConnection, Http1Connection
from .replies import ERROR_TEXT, MAX_BODY_BYTES, MAX_HEAD_BYTES, Decision, Request

if TYPE_CHECKING:
    from .server import ServerHooks

_h2_module: Any = None


def import_h2() -> Any:
    """Import the ``h2`` package (only ``http2=True`` needs it) and return it."""
    global _h2_module
    if _h2_module is None:
        try:
            import h2.config  # type: ignore[import-not-found, unused-ignore]
            import h2.connection  # type: ignore[import-not-found, unused-ignore]
            import h2.errors  # type: ignore[import-not-found, unused-ignore]
            import h2.events  # type: ignore[import-not-found, unused-ignore]
            import h2.exceptions  # type: ignore[import-not-found, unused-ignore]
            import h2.settings  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise RuntimeError("StandInServer(http2=True) needs the h2 package: "
                               "pip install h2") from exc
        _h2_module = h2
    return _h2_module


class AlpnDispatch(asyncio.Protocol):
    """With ``http2=True``: asyncio calls connection_made once the TLS handshake is over, when
    the protocol the client picked by ALPN is known.  Hand the transport to an HTTP/2 or an
    HTTP/1.1 connection accordingly; this object is then out of the way."""

    def __init__(self, hooks: "ServerHooks") -> None:
        self.hooks = hooks

    def connection_made(self, transport: Any) -> None:
        ssl_object = transport.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        proto: asyncio.Protocol = (Http2Connection(self.hooks) if alpn == "h2"
                                   else Http1Connection(self.hooks))
        transport.set_protocol(proto)
        proto.connection_made(transport)


# Response headers that HTTP/2 forbids (RFC 9113 section 8.2.2).
_H2_CONNECTION_HEADERS = frozenset({"connection", "keep-alive", "proxy-connection",
                                    "transfer-encoding", "upgrade"})
# Actions that only make sense as bytes on an HTTP/1.1 connection.
_H2_UNSUPPORTED_ACTIONS = frozenset({"drip", "drip_head", "truncate", "reset_mid_body", "raw"})


class _H2Stream:
    """One HTTP/2 request being received."""

    __slots__ = ("headers", "body", "time", "too_big")

    def __init__(self, headers: List[Any], now: float) -> None:
        self.headers = headers
        self.body = bytearray()
        self.time = now
        self.too_big = False


class Http2Connection(ClosingConnection, asyncio.Protocol):
    """One HTTP/2 client connection (built on the ``h2`` package).  Each stream is one request;
    quick answers are sent from data_received, delayed ones from a task per stream."""

    def __init__(self, hooks: "ServerHooks") -> None:
        h2 = import_h2()
        self.h2mod = h2
        self.hooks = hooks
        self.transport: Any = None
        self.conn_id = 0
        self.closed = False
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=config)
        codes = h2.settings.SettingCodes
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values={
            codes.MAX_CONCURRENT_STREAMS: 100,
            codes.MAX_HEADER_LIST_SIZE: MAX_HEAD_BYTES,
        })
        # stream id -> the request being received, until it has ended
        self.receiving: Dict[int, _H2Stream] = {}
        # streams whose request came and whose answer has not all been sent yet
        self.open: Set[int] = set()
        # stream id -> the rest of its answer's body, waiting for flow-control window
        self.pending: Dict[int, bytearray] = {}
        # stream id -> a connection action to run once its answer has all been sent
        self.after: Dict[int, str] = {}
        # stream id -> the task that answers it after Reply.delay_s
        self.tasks: Dict[int, "asyncio.Task[None]"] = {}

    # -- asyncio callbacks

    def connection_made(self, transport: Any) -> None:
        self._register(transport)
        self.h2.initiate_connection()
        self._flush()

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.closed = True
        self.hooks.connection_closed(self)
        for task in list(self.tasks.values()):
            task.cancel()
        self.tasks.clear()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        h2 = self.h2mod
        try:
            try:
                events = self.h2.receive_data(data)
            except h2.exceptions.ProtocolError:
                self._flush()  # h2 has queued a GOAWAY naming the error
                self._close()
                return
            for event in events:
                self._event(event)
                if self.closed:
                    return
            self._flush()
        except Exception as exc:  # a bug in this module: note it, drop this connection
            self.hooks.note_error(f"HTTP/2 connection {self.conn_id}: {exc!r}")
            self._abort()

    # -- events

    def _event(self, event: Any) -> None:
        ev = self.h2mod.events
        sid = getattr(event, "stream_id", 0)
        if isinstance(event, ev.RequestReceived):
            self.receiving[sid] = _H2Stream(list(event.headers), time.monotonic())
            self.open.add(sid)
            self.hooks.note_open_streams(len(self.open))
        elif isinstance(event, ev.DataReceived):
            self.h2.acknowledge_received_data(event.flow_controlled_length, sid)
            stream = self.receiving.get(sid)
            if stream is not None and not stream.too_big:
                stream.body += event.data
                if len(stream.body) > MAX_BODY_BYTES:
                    stream.too_big = True
                    self._refuse_too_big(sid)
        elif isinstance(event, ev.StreamEnded):
            stream = self.receiving.pop(sid, None)
            if stream is not None and not stream.too_big:
                self._request(sid, stream)
        elif isinstance(event, ev.StreamReset):  # the client gave up on this stream
            self._forget(sid)
        elif isinstance(event, (ev.WindowUpdated, ev.RemoteSettingsChanged)):
            self._send_pending()
        elif isinstance(event, ev.ConnectionTerminated):  # GOAWAY from the client
            self._flush()
            self._close()

    def _request(self, sid: int, stream: _H2Stream) -> None:
        pseudo: Dict[str, str] = {}
        headers: Dict[str, str] = {}
        for raw_name, raw_value in stream.headers:
            name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
            if name.startswith(":"):
                pseudo[name] = value
            elif name in headers:
                headers[name] = f"{headers[name]}, {value}"
            else:
                headers[name] = value
        if "host" not in headers and ":authority" in pseudo:
            headers["host"] = pseudo[":authority"]
        d = self.hooks.decide(Request(self.conn_id, pseudo.get(":method", ""), pseudo.get(":path", ""),
                                      "HTTP/2", headers, bytes(stream.body), stream.time, True))
        if d.action == "silence":
            return  # the stream stays open and unanswered; the others go on
        if d.action in _H2_UNSUPPORTED_ACTIONS:
            self.hooks.note_error(
                f"Reply(action={d.action!r}) is an HTTP/1.1 byte-level fault and is not "
                f"supported over HTTP/2 (connection {self.conn_id}, stream {sid}, company "
                f"{d.company_id!r}); the stream was reset with INTERNAL_ERROR")
            self._reset_stream(sid)
            return
        if d.delay_s > 0:
            self.tasks[sid] = self.hooks.start_task(self._later(sid, d))
            return
        self._answer(sid, d)

    async def _later(self, sid: int, d: Decision) -> None:
        try:
            await asyncio.sleep(d.delay_s)
        except asyncio.CancelledError:
            return
        finally:
            self.tasks.pop(sid, None)
        if self.closed or sid not in self.open:
            return
        try:
            self._answer(sid, d)
            self._flush()
        except Exception as exc:
            self.hooks.note_error(f"HTTP/2 connection {self.conn_id}: {exc!r}")
            self._abort()

    # -- answering

    def _answer(self, sid: int, d: Decision) -> None:
        action = d.action
        if action == "drop":
            self._flush()
            self._close()
            return
        if action == "reset":
            self._reset_stream(sid)
            return
        headers = [(":status", str(d.status))]
        for name, value in d.headers:
            name = name.lower()
            if name not in _H2_CONNECTION_HEADERS:
                headers.append((name, value))
        try:
            self.h2.send_headers(sid, headers, end_stream=not d.payload)
        except self.h2mod.exceptions.ProtocolError as exc:  # e.g. a 1xx status or a bad header
            self.hooks.note_error(f"HTTP/2 stream {sid} (company {d.company_id!r}): cannot send "
                                 f"this answer over HTTP/2: {exc!r}; the stream was reset")
            self._reset_stream(sid)
            return
        if action in ("close_after", "close_idle", "reset_idle"):
            self.after[sid] = action
        if d.payload:
            self.pending[sid] = bytearray(d.payload)
            self._send_pending()
        else:
            self._done(sid)

    def _send_pending(self) -> None:
        """Send as much of the waiting bodies as the flow-control windows allow."""
        for sid in list(self.pending):
            buf = self.pending[sid]
            try:
                while buf:
                    n = min(len(buf), self.h2.local_flow_control_window(sid),
                            self.h2.max_outbound_frame_size)
                    if n <= 0:
                        break
                    self.h2.send_data(sid, bytes(buf[:n]), end_stream=n == len(buf))
                    del buf[:n]
            except self.h2mod.exceptions.StreamClosedError:
                self._forget(sid)
                continue
            if not buf:
                del self.pending[sid]
                self._done(sid)
            if self.closed:
                return

    def _done(self, sid: int) -> None:
        """The whole answer on stream sid has been handed to h2."""
        self.open.discard(sid)
        action = self.after.pop(sid, None)
        if action == "close_after":
            self.h2.close_connection()  # GOAWAY NO_ERROR
            self._flush()
            self._close()
        elif action == "close_idle":
            self._flush()
            self._close()
        elif action == "reset_idle":
            self._flush()
            self._abort(rst=True)

    def _refuse_too_big(self, sid: int) -> None:
        headers, body = self.hooks.refusal(413, ERROR_TEXT[413])
        h2_headers = [(":status", "413")] + [(k.lower(), v) for k, v in headers
                                             if k.lower() not in _H2_CONNECTION_HEADERS]
        self.h2.send_headers(sid, h2_headers)
        self.h2.send_data(sid, body, end_stream=True)  # 1 KiB at most: within any window
        self.h2.reset_stream(sid, self.h2mod.errors.ErrorCodes.NO_ERROR)
        self._forget(sid)

    def _reset_stream(self, sid: int) -> None:
        try:
            self.h2.reset_stream(sid, self.h2mod.errors.ErrorCodes.INTERNAL_ERROR)
        except self.h2mod.exceptions.StreamClosedError:
            pass
        self._forget(sid)
        self._flush()

    def _forget(self, sid: int) -> None:
        self.receiving.pop(sid, None)
        self.pending.pop(sid, None)
        self.after.pop(sid, None)
        self.open.discard(sid)
        task = self.tasks.pop(sid, None)
        if task is not None:
            task.cancel()

    # -- the connection

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.transport.write(data)
