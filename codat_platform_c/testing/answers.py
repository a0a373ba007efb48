"""Deciding the answer to one request, the same way for HTTP/1.x and for each HTTP/2 stream: record it, make
the checks (authorisation, the rate limit, the method, the path) in the order docs/standin.md ("Errors") gives,
then take the scripted reply, the magic company id's or the default success, and build the headers."""

from __future__ import annotations

import json as _json
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple

from .platform_api import platform_answer
from .replies import (JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE, Decision, RecordedRequest, Reply, Request,
                      body_bytes, error_body, retired_body)
from .state import ServerState

# (status, payload or None for no body, Content-Type or None, extra headers)
_Answer = Tuple[int, Optional[bytes], Optional[str], List[Tuple[str, str]]]


def route(target: str) -> Tuple[str, str, Optional[str], Optional[str]]:
    """Return (path, query, endpoint, company_id)."""
    raw, _, query = target.partition("?")
    path = urllib.parse.unquote(raw)
    segs = raw.split("/")
    endpoint = company_id = None
    if len(segs) >= 4 and segs[1] == "companies" and segs[2]:
        if len(segs) == 4 and segs[3] == "accessToken":
            endpoint = "company"
        elif len(segs) == 5 and segs[3] == "connectionManagement" and segs[4] == "accessToken":
            endpoint = "connection_management"
        if endpoint:
            company_id = urllib.parse.unquote(segs[2])
    return path, query, endpoint, company_id


def _token_body(token: str, endpoint: str) -> bytes:
    # the token is plain ASCII, so this is the same as json.dumps, only faster
    if endpoint == "company":
        return f'{{"accessToken": "{token}", "expiresIn": 86400, "tokenType": "Bearer"}}'.encode()
    return f'{{"accessToken": "{token}"}}'.encode()


class Responder:
    """Works out answers from ``settings`` (the StandInServer: its public configuration attributes
    auth_header, rate_limit, enforce_rate_limit, retired_connection_management and companies) and ``state``."""

    def __init__(self, settings: Any, state: ServerState) -> None:
        self.settings = settings
        self.state = state

    def decide(self, req: Request) -> Decision:
        """Record one request and work out the answer to it."""
        path, query, endpoint, company_id = route(req.target)
        version = req.version[5:] if req.version.startswith("HTTP/") else req.version
        self.state.record(RecordedRequest(
            method=req.method, raw_path=req.target, path=path, query=query, company_id=company_id,
            endpoint=endpoint, headers=req.headers, body=req.body, time=req.time,
            connection_id=req.conn_id, http_version=version))
        settings = self.settings
        authorised = settings.auth_header is None or req.headers.get("authorization") == settings.auth_header
        exhausted, remaining, reset = self.state.rate_state(consume=authorised)
        reply: Optional[Reply] = None
        if not authorised:
            answer: _Answer = (401, error_body(401), JSON_CONTENT_TYPE, [])
        elif exhausted and settings.enforce_rate_limit:
            answer = (429, error_body(429), JSON_CONTENT_TYPE,
                      [("Retry-After", str(self.state.seconds_to_reset()))])
        elif req.method != "GET":
            answer = (405, error_body(405), JSON_CONTENT_TYPE, [("Allow", "GET")])
        elif endpoint is None:
            answer = (*platform_answer(settings.companies, req.target), JSON_CONTENT_TYPE, [])
        elif endpoint == "connection_management" and settings.retired_connection_management:
            answer = (404, retired_body(), JSON_CONTENT_TYPE, [])
        else:
            assert company_id is not None  # a token endpoint always names one
            reply = self.state.next_reply(company_id)
            if reply.action == "silence":
                return Decision("silence", 0.0, 0, [], b"", False, company_id)
            if reply.action == "raw":
                return Decision("raw", reply.delay_s, 0, [], body_bytes(reply.body), False, company_id)
            answer = self._scripted(reply, endpoint, company_id)
        return self._finish(req, answer, reply, remaining, reset, company_id)

    def _scripted(self, reply: Reply, endpoint: str, company_id: str) -> _Answer:
        """The answer a Reply (scripted, magic or the default) gives on a token endpoint."""
        status = reply.status
        payload: Optional[bytes]
        ctype: Optional[str] = JSON_CONTENT_TYPE
        if reply.json is not None:
            payload = _json.dumps(reply.json).encode()
        elif reply.body is not None:
            payload, ctype = body_bytes(reply.body), TEXT_CONTENT_TYPE
        elif status == 200:
            payload = _token_body(self.state.issue_token(), endpoint)
        elif status >= 400:
            payload = error_body(status, f"Could not find company with ID '{company_id}'." if status == 404
                                 else None)
        elif status in (204, 304) or status < 200:
            payload, ctype = None, None
        else:
            payload, ctype = b"", None
        if reply.content_type is not None:
            ctype = reply.content_type
        return status, payload, ctype, []

    def _finish(self, req: Request, answer: _Answer, reply: Optional[Reply], remaining: int, reset: str,
                company_id: Optional[str]) -> Decision:
        """The headers of the answer (a Reply's own replace the defaults of the same name), as a Decision."""
        status, payload, ctype, extra = answer
        action = reply.action if reply is not None else None
        keep_alive = req.keep_alive and action != "close_after"
        hdrs: Dict[str, Tuple[str, str]] = {}
        if ctype is not None:
            hdrs["content-type"] = ("Content-Type", ctype)
        if payload is not None:
            hdrs["content-length"] = ("Content-Length", str(len(payload)))
        hdrs["x-rate-limit-limit"] = ("X-Rate-Limit-Limit", str(self.settings.rate_limit))
        hdrs["x-rate-limit-remaining"] = ("X-Rate-Limit-Remaining", str(remaining))
        hdrs["x-rate-limit-reset"] = ("X-Rate-Limit-Reset", reset)
        for k, v in extra:
            hdrs[k.lower()] = (k, v)
        if not keep_alive:
            hdrs["connection"] = ("Connection", "close")
        elif req.version == "HTTP/1.0":
            hdrs["connection"] = ("Connection", "keep-alive")
        if reply is not None and reply.headers:
            for k, v in reply.headers.items():
                hdrs[k.lower()] = (k, str(v))
        if req.method == "HEAD" or payload is None:  # a HEAD answer (always a 405 here) has no body
            payload = b""
        return Decision(action, reply.delay_s if reply is not None else 0.0, status, list(hdrs.values()),
                        payload, keep_alive, company_id, reply.reason if reply is not None else None)

    def refusal(self, status: int, message: str) -> Tuple[List[Tuple[str, str]], bytes]:
        """(headers, body) of the answer to a request that could not be taken (malformed, too big): not
        recorded, no rate limit used, and the connection closes after it."""
        _, remaining, reset = self.state.rate_state(consume=False)
        body = error_body(status, message)
        return [
            ("Content-Type", JSON_CONTENT_TYPE), ("Content-Length", str(len(body))),
            ("X-Rate-Limit-Limit", str(self.settings.rate_limit)),
            ("X-Rate-Limit-Remaining", str(remaining)),
            ("X-Rate-Limit-Reset", reset), ("Connection", "close")], body
