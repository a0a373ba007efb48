"""The stand-in's HTTP/1.x connection: parsing requests (Content-Length and chunked bodies, ``Expect:
100-continue``), writing answers, and the byte-level faults (drip, truncate, reset mid-body, raw...)."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, List, NamedTuple, Optional, Tuple

from .replies import (DEFAULT_DRIP_INTERVAL_S, ERROR_TEXT, MAX_BODY_BYTES, MAX_HEAD_BYTES,
                      RESET_MID_BODY_PAUSE_S, Decision, Request, reason_phrase)

if TYPE_CHECKING:
    from .server import ServerHooks

_TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VERSION_RE = re.compile(r"^HTTP/(\d)\.(\d)$")


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def build_head(status: int, headers: Any, reason: Optional[str] = None) -> bytes:
    lines = [f"{k}: {v}\r\n" for k, v in headers]
    phrase = reason_phrase(status) if reason is None else reason
    return f"HTTP/1.1 {status} {phrase}\r\n{''.join(lines)}\r\n".encode("latin-1")


class _Plan(NamedTuple):
    """A Decision as HTTP/1.1 bytes."""
    action: Optional[str]
    delay_s: float
    head: bytes
    payload: bytes
    keep_alive: bool


def _plan(d: Decision) -> _Plan:
    if d.action in ("silence", "raw"):
        return _Plan(d.action, d.delay_s, b"", d.payload, False)
    return _Plan(d.action, d.delay_s, build_head(d.status, d.headers, d.reason), d.payload, d.keep_alive)


class ClosingConnection:
    """Counting a new connection in, and closing it politely or with a TCP reset; shared by the HTTP/1.1
    and HTTP/2 connections."""

    closed: bool
    transport: Any
    hooks: "ServerHooks"
    conn_id: int

    def _register(self, transport: Any) -> None:
        self.transport = transport
        self.conn_id = self.hooks.connection_opened(self)

    def _close(self) -> None:
        self.closed = True
        self.transport.close()

    def _abort(self, rst: bool = False) -> None:
        self.closed = True
        if rst:  # SO_LINGER 0: close() sends RST instead of FIN
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
        self.transport.abort()

    def abort_now(self) -> None:
        """The server is stopping: drop the connection at once."""
        self._abort()


class Http1Connection(ClosingConnection, asyncio.Protocol):
    """One client connection.  Quick answers are written straight from
    data_received; delayed, dripped and silent ones run as a task, and the
    connection reads no further requests until that task is done."""

    def __init__(self, hooks: "ServerHooks") -> None:
        self.hooks = hooks
        self.transport: Any = None
        self.buf = bytearray()
        self.conn_id = 0
        self.busy = False  # a slow answer is in progress
        self.silenced = False
        self.closed = False
        self.eof = False
        self.paused = False
        self.sent_continue = False
        self.tls = False
        self.task: Optional[asyncio.Task] = None

    # -- asyncio callbacks

    def connection_made(self, transport: Any) -> None:
        self._register(transport)
        self.tls = transport.get_extra_info("sslcontext") is not None

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self.closed = True
        self.hooks.connection_closed(self)
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        if self.silenced or self.closed:
            return  # a silenced connection throws away whatever the client sends
        self.buf += data
        if self.busy:
            if not self.paused and len(self.buf) > MAX_HEAD_BYTES + MAX_BODY_BYTES:
                self.transport.pause_reading()
                self.paused = True
            return
        self._process()

    def eof_received(self) -> Optional[bool]:
        self.eof = True
        if self.busy and not self.silenced and not self.tls:
            return True  # half-closed by the client: finish the pending answer first
        return None

    # -- request handling

    def _process(self) -> None:
        try:
            while not self.closed and not self.busy:
                try:
                    request = self._next_request()
                except BadRequest as bad:
                    headers, body = self.hooks.refusal(bad.status, bad.message)
                    self.transport.write(build_head(bad.status, headers) + body)
                    self._close()
                    return
                if request is None:
                    if self.eof:
                        self._close()
                    return
                self._run(_plan(self.hooks.decide(request)))
        except Exception as exc:  # a bug in this package: note it, drop this connection
            self.hooks.note_error(repr(exc))
            self._abort()

    def _next_request(self) -> Optional[Request]:
        """Take one complete request off the buffer, or return None if incomplete."""
        buf = self.buf
        while buf[:2] == b"\r\n":
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end + 4 > MAX_HEAD_BYTES:
            if len(buf) > MAX_HEAD_BYTES:
                raise BadRequest(431, ERROR_TEXT[431])
            return None
        head_len = end + 4
        method, target, version, headers = parse_head(bytes(buf[:head_len]))
        body_end = self._body_end(headers, head_len)
        if body_end is None:
            return None
        body = bytes(buf[head_len:body_end])
        if headers.get("transfer-encoding", "").strip().lower() == "chunked":
            body = dechunk(body)
        del buf[:body_end]
        self.sent_continue = False
        conn_tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        if version == "HTTP/1.0":
            keep_alive = "keep-alive" in conn_tokens
        else:
            keep_alive = "close" not in conn_tokens
        return Request(self.conn_id, method, target, version, headers, body, time.monotonic(), keep_alive)

    def _body_end(self, headers: dict, start: int) -> Optional[int]:
        """Where the body that starts at ``start`` ends, or None if not all here yet."""
        te = headers.get("transfer-encoding", "").strip().lower()
        cl = headers.get("content-length")
        if (not te or te == "identity") and cl is None:
            return start
        if te and te != "identity":
            if te != "chunked":
                raise BadRequest(501, "Transfer-Encoding not supported.")
            end = chunked_end(self.buf, start)
            return self._wait_for_body(headers) if end is None else end
        try:
            length = int(cl or "")
        except ValueError:
            raise BadRequest(400, "Bad request: malformed Content-Length.")
        if length < 0:
            raise BadRequest(400, "Bad request: malformed Content-Length.")
        if length > MAX_BODY_BYTES:
            raise BadRequest(413, ERROR_TEXT[413])
        if len(self.buf) < start + length:
            return self._wait_for_body(headers)
        return start + length

    def _wait_for_body(self, headers: dict) -> Optional[int]:  # None: the body is not all here yet
        if not self.sent_continue and headers.get("expect", "").lower() == "100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.sent_continue = True
        return None

    # -- answering

    def _run(self, plan: _Plan) -> None:
        if plan.action == "silence":
            self.silenced = True
            self.busy = True
            self.buf.clear()
            if self.eof:
                self._close()
            return
        if plan.delay_s > 0 or plan.action in ("drip", "drip_head", "reset_mid_body"):
            self.busy = True
            self.task = self.hooks.start_task(self._slow(plan))
            return
        self._answer(plan)

    def _answer(self, plan: _Plan) -> None:
        action = plan.action
        if action == "drop":
            self._close()
        elif action == "reset":
            self._abort(rst=True)
        elif action == "truncate":
            self.transport.write(plan.head + plan.payload[: len(plan.payload) // 2])
            self._close()
        elif action == "raw":
            self.transport.write(plan.payload)
            self._close()
        elif action == "close_idle":
            self.transport.write(plan.head + plan.payload)
            self._close()
        elif action == "reset_idle":
            self.transport.write(plan.head + plan.payload)
            self._abort(rst=True)
        else:
            self.transport.write(plan.head + plan.payload)
            if not plan.keep_alive:
                self._close()

    async def _drip(self, plan: _Plan) -> None:
        data = plan.payload
        if plan.action == "drip":
            self.transport.write(plan.head)
        else:
            data = plan.head + plan.payload
        interval = plan.delay_s or DEFAULT_DRIP_INTERVAL_S
        for i in range(len(data)):
            await asyncio.sleep(interval)
            if self.closed:
                return
            self.transport.write(data[i:i + 1])
        if not plan.keep_alive:
            self._close()

    async def _reset_mid_body(self, plan: _Plan) -> None:
        await asyncio.sleep(plan.delay_s)
        if self.closed:
            return
        self.transport.write(plan.head + plan.payload[: len(plan.payload) // 2])
        await asyncio.sleep(RESET_MID_BODY_PAUSE_S)
        if not self.closed:
            self._abort(rst=True)

    async def _slow(self, plan: _Plan) -> None:
        try:
            if plan.action in ("drip", "drip_head"):
                await self._drip(plan)
            elif plan.action == "reset_mid_body":
                await self._reset_mid_body(plan)
                return
            else:
                await asyncio.sleep(plan.delay_s)
                if self.closed:
                    return
                self._answer(plan)
        except asyncio.CancelledError:
            return
        finally:
            self.task = None
            self.busy = False
        if self.closed:
            return
        if self.paused:
            self.paused = False
            self.transport.resume_reading()
        self._process()


def chunked_end(buf: bytearray, start: int) -> Optional[int]:
    """Where the chunked body that starts at ``start`` ends (after its trailer), or None if not all here
    yet.  Raises BadRequest for a malformed or too big one."""
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            if len(buf) - pos > 1024:
                raise BadRequest(400, "Bad request: malformed chunk.")
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";")[0].strip(), 16)
        except ValueError:
            raise BadRequest(400, "Bad request: malformed chunk size.")
        if size < 0:
            raise BadRequest(400, "Bad request: malformed chunk size.")
        if eol - start + size > MAX_BODY_BYTES:
            raise BadRequest(413, ERROR_TEXT[413])
        pos = eol + 2
        if size == 0:
            while True:  # trailer lines, then an empty line
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    if len(buf) - pos > MAX_HEAD_BYTES:
                        raise BadRequest(400, "Bad request: malformed chunk trailer.")
                    return None
                if eol == pos:
                    return eol + 2
                pos = eol + 2
        if len(buf) < pos + size + 2:
            return None
        if buf[pos + size:pos + size + 2] != b"\r\n":
            raise BadRequest(400, "Bad request: malformed chunk.")
        pos += size + 2


def parse_head(head: bytes) -> Tuple[str, str, str, dict]:
    """Parse a request head (ending in a blank line) into (method, target, version, headers)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest(400, "Bad request: malformed request line.")
    method, target, version = parts
    m = _VERSION_RE.match(version)
    if not m or not _TOKEN_CHARS.match(method):
        raise BadRequest(400, "Bad request: malformed request line.")
    if m.group(1) != "1":
        raise BadRequest(505, ERROR_TEXT[505])
    if target.startswith(("http://", "https://")):
        split = urllib.parse.urlsplit(target)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    if not target.startswith("/"):
        raise BadRequest(400, "Bad request: malformed request target.")
    headers: dict = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN_CHARS.match(name):
            raise BadRequest(400, "Bad request: malformed header line.")
        name = name.lower()
        value = value.strip(" \t")
        if name in headers:
            headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
    return method, target, version, headers


def dechunk(data: bytes) -> bytes:
    """Join the chunks of an already-checked chunked body."""
    out: List[bytes] = []
    pos = 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0].strip(), 16)
        if size == 0:
            return b"".join(out)
        out.append(data[eol + 2:eol + 2 + size])
        pos = eol + 2 + size + 2
