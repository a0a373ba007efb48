"""Retry configuration with the official SDK's shape (``codat_platform.utils.retries``).

    from codat_platform_c.sdk import utils
    utils.RetryConfig("backoff", utils.BackoffStrategy(500, 60000, 1.5, 3600000), True)
    utils.RetryConfig("none")                       # one attempt

These are plain descriptions; each call turns one into a ``codat_platform_c.RetryConfig`` for the C
core (``to_core_retries``). The schedule is the SDK's: wait n is drawn in [i/2, i) with
i = min(initial_interval * exponent**n, max_interval), 408/429/5XX and connection errors are retried.
Two things are stricter than the SDK, on purpose: ``max_elapsed_time`` bounds the wall-clock time of
the whole call (the SDK counts only its sleeps), and a ``Retry-After`` wait is honoured in full, so when
it would run past ``max_elapsed_time`` the call fails at once instead of retrying early (the SDK cuts
Retry-After down to ``max_interval``).
"""
from __future__ import annotations

from typing import Any, List, Optional

import codat_platform_c as _codat

from ..types import UNSET

__all__ = ["BackoffStrategy", "RetryConfig", "Retries", "DEFAULT_RETRY_STATUS_CODES", "to_core_retries"]

# The statuses retried (the C core's default RetryConfig retries exactly these).
DEFAULT_RETRY_STATUS_CODES: List[Any] = [408, 429, "5XX"]


class BackoffStrategy:
    """Exponential backoff, all times in milliseconds."""

    _FIELDS = ("initial_interval", "max_interval", "exponent", "max_elapsed_time")

    def __init__(self, initial_interval: int = 500, max_interval: int = 60000, exponent: float = 1.5,
                 max_elapsed_time: int = 3600000) -> None:
        self.initial_interval = initial_interval
        self.max_interval = max_interval
        self.exponent = exponent
        self.max_elapsed_time = max_elapsed_time

    def __repr__(self) -> str:
        return (f"BackoffStrategy(initial_interval={self.initial_interval!r}, max_interval={self.max_interval!r}, "
                f"exponent={self.exponent!r}, max_elapsed_time={self.max_elapsed_time!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BackoffStrategy):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable


class RetryConfig:
    """``strategy`` is "backoff" or "none" (one attempt; any other string behaves as "backoff", as in
    the SDK). ``backoff=None`` means ``BackoffStrategy()``."""

    _FIELDS = ("strategy", "backoff", "retry_connection_errors")

    def __init__(self, strategy: str = "backoff", backoff: Optional[BackoffStrategy] = None,
                 retry_connection_errors: bool = True) -> None:
        self.strategy = strategy
        self.backoff = backoff if backoff is not None else BackoffStrategy()
        self.retry_connection_errors = retry_connection_errors

    def __repr__(self) -> str:
        return (f"RetryConfig(strategy={self.strategy!r}, backoff={self.backoff!r}, "
                f"retry_connection_errors={self.retry_connection_errors!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RetryConfig):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable


class Retries:
    """Kept for import compatibility with the SDK (``utils.Retries``); the facade does not use it."""

    def __init__(self, config: RetryConfig, status_codes: List[str]) -> None:
        self.config = config
        self.status_codes = status_codes


def _ms(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"BackoffStrategy.{name} must be a number of milliseconds, not {type(value).__name__}")
    return int(value)


_DEFAULT_CORE = _codat.RetryConfig()


def to_core_retries(config: Any) -> Optional[_codat.RetryConfig]:
    """The ``codat_platform_c.RetryConfig`` for an SDK-style retry config, or None for one attempt.

    As in the SDK, ``None`` and ``UNSET`` mean the default backoff (retries are on by default), and
    ``strategy == "none"`` means a single attempt. Any object with the SDK's attributes is accepted,
    including ``codat_platform.utils.RetryConfig`` itself.
    """
    if config is None or config is UNSET:
        return _DEFAULT_CORE
    if getattr(config, "strategy", "backoff") == "none":
        return None
    b = getattr(config, "backoff", None) or BackoffStrategy()
    return _codat.RetryConfig(
        initial_interval_ms=_ms(b.initial_interval, "initial_interval"),
        max_interval_ms=_ms(b.max_interval, "max_interval"),
        exponent=float(b.exponent),
        max_elapsed_ms=_ms(b.max_elapsed_time, "max_elapsed_time"),
        retry_connection_errors=bool(getattr(config, "retry_connection_errors", True)),
    )
