"""The stand-in's mutable state, behind one lock: the scripts, the traffic records, the tokens handed out, the
connection and stream counts, internal errors, and the daily rate-limit counter.  Test threads read it while
the server's event-loop thread writes it."""

from __future__ import annotations

import collections
import email.utils
import random
import threading
import time
from typing import Deque, Dict, Iterable, List, Optional, Tuple

from .replies import DEFAULT_REPLY, RecordedRequest, Reply, magic_reply


class ServerState:
    def __init__(self, rate_limit: int) -> None:
        self.rate_limit = rate_limit
        self._lock = threading.Lock()
        self._records: List[RecordedRequest] = []
        self._scripts: Dict[str, Deque[Reply]] = {}
        self._default_script: Deque[Reply] = collections.deque()
        self._tokens: List[str] = []
        self._token_counter = 0  # never restarts: token numbers stay unique for the life of the server
        self._connections_opened = 0
        self._connection_ids = 0  # never restarts either: a connection keeps its number across reset()
        self._peak_streams = 0
        self._errors: List[str] = []
        self._remaining = rate_limit
        self._day = -1
        self._reset_value = ""

    # ------------------------------------------------------------ scripts

    def script(self, company_id: str, replies: Iterable[Reply]) -> None:
        with self._lock:
            self._scripts.setdefault(company_id, collections.deque()).extend(replies)

    def script_default(self, replies: Iterable[Reply]) -> None:
        with self._lock:
            self._default_script.extend(replies)

    def next_reply(self, company_id: str) -> Reply:
        """The company's own queue, then its magic id, then the shared queue, then the default success."""
        with self._lock:
            queue = self._scripts.get(company_id)
            if queue:
                return queue.popleft()
        magic = magic_reply(company_id)
        if magic is not None:
            return magic
        with self._lock:
            if self._default_script:
                return self._default_script.popleft()
        return DEFAULT_REPLY

    # ------------------------------------------------------------ traffic

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._records.append(request)

    def records(self) -> List[RecordedRequest]:
        with self._lock:
            return list(self._records)

    def request_count(self, company_id: Optional[str] = None) -> int:
        with self._lock:
            if company_id is None:
                return len(self._records)
            return sum(1 for r in self._records if r.company_id == company_id)

    def new_connection(self) -> int:
        """Count a connection in; return its number (from 1)."""
        with self._lock:
            self._connections_opened += 1
            self._connection_ids += 1
            return self._connection_ids

    @property
    def connections_opened(self) -> int:
        with self._lock:
            return self._connections_opened

    def note_open_streams(self, count: int) -> None:
        with self._lock:
            if count > self._peak_streams:
                self._peak_streams = count

    @property
    def peak_streams(self) -> int:
        with self._lock:
            return self._peak_streams

    def note_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def errors(self) -> List[str]:
        with self._lock:
            return list(self._errors)

    def issue_token(self) -> str:
        with self._lock:
            self._token_counter += 1
            token = f"tok-{self._token_counter}-{random.getrandbits(64):016x}"
            self._tokens.append(token)
            return token

    def tokens(self) -> List[str]:
        with self._lock:
            return list(self._tokens)

    # ------------------------------------------------------------ the daily rate-limit counter

    def _roll_day(self) -> None:
        """Refill the daily counter at 00:00 UTC.  Call with self._lock held."""
        day = int(time.time() // 86400)
        if day != self._day:
            if self._day != -1:
                self._remaining = self.rate_limit
            self._day = day
            self._reset_value = email.utils.formatdate((day + 1) * 86400, usegmt=True)

    def rate_state(self, consume: bool) -> Tuple[bool, int, str]:
        """Return (exhausted, remaining, reset as an HTTP-date); count the request if consume."""
        with self._lock:
            self._roll_day()
            exhausted = self._remaining <= 0
            if consume and not exhausted:
                self._remaining -= 1
            return exhausted, self._remaining, self._reset_value

    def seconds_to_reset(self) -> int:
        with self._lock:
            self._roll_day()
            return max(1, (self._day + 1) * 86400 - int(time.time()))

    @property
    def remaining(self) -> int:
        with self._lock:
            self._roll_day()
            return self._remaining

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self._default_script.clear()
            self._records.clear()
            self._tokens.clear()
            self._errors.clear()
            self._connections_opened = 0
            self._peak_streams = 0
            self._remaining = self.rate_limit
