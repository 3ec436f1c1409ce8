"""Calling providers safely: a time limit on every call, and retries of retryable errors with
exponential backoff and full jitter.

The time limit runs the call in a daemon thread and stops waiting after `timeout` seconds. A
Python thread cannot be killed, so a timed-out call is abandoned, not cancelled: it may still
finish in the background (the next plan sees what it did; the local provider's creates are
upserts, so a late create is adopted). Daemon threads never keep the process alive.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from mlops_decl import workers
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.provider import ProviderError

T = TypeVar("T")

MAX_ATTEMPTS = 5
BASE_DELAY = 0.2
MAX_DELAY = 5.0

DEFAULT_TIMEOUT = 600.0  # seconds; generous: a training-sized create is a runtime action, not a call
TIMEOUT_ENV = "MLOPS_CALL_TIMEOUT"

_override: float | None = None
_DEFAULT: Any = object()


class CallTimeout(ProviderError):
    """A provider call did not return within the time limit. Not retried: the call may still
    be running, and a second create beside it could make a duplicate."""

    def __init__(self, what: str, seconds: float):
        super().__init__(f"{what} timed out after {fmt_seconds(seconds)}s")
        self.seconds = seconds
        self.hint = (
            f"the limit is {fmt_seconds(seconds)}s (--call-timeout SECONDS or {TIMEOUT_ENV}); the call was "
            "abandoned and may still finish: run `mlops-decl plan` to see where things stand"
        )


def fmt_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def parse_timeout(value: str | float | int, where: str) -> float | None:
    """Seconds from a flag or the environment; 0 means no limit (None)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if math.isnan(seconds) or seconds < 0 or math.isinf(seconds):
        raise DiagnosticError(
            Diagnostic(
                f"{where} must be a number of seconds >= 0, not {value!r}",
                hint="e.g. 600 for ten minutes; 0 means no limit",
            )
        )
    return seconds or None


def set_call_timeout(seconds: float | None) -> None:
    """Set the limit for this process (the CLI's --call-timeout); None: back to the default."""
    global _override
    _override = seconds


def call_timeout() -> float | None:
    """The limit in seconds for one provider call, None for none: --call-timeout, else
    MLOPS_CALL_TIMEOUT, else DEFAULT_TIMEOUT."""
    if _override is not None:
        return _override or None
    env = os.environ.get(TIMEOUT_ENV)
    if env is not None and env.strip():
        return parse_timeout(env, TIMEOUT_ENV)
    return DEFAULT_TIMEOUT


def call_with_timeout(fn: Callable[[], T], timeout: float | None, what: str = "the provider call") -> T:
    """fn() on a pooled daemon worker; CallTimeout if it has not returned after `timeout`
    seconds (the worker is left to finish, or not, in the background)."""
    if timeout is None:
        return fn()
    result = workers.call(fn)
    if not result.wait(timeout):
        raise CallTimeout(what, timeout)
    value: T = result.value()
    return value


def backoff(attempt: int, base: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(MAX_DELAY, base * 2**(attempt-1))]."""
    return rng.uniform(0, min(MAX_DELAY, base * 2 ** (attempt - 1)))


def call_with_retry(
    fn: Callable[[], T],
    *,
    attempts: int = MAX_ATTEMPTS,
    base: float = BASE_DELAY,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    timeout: float | None = _DEFAULT,
    what: str = "the provider call",
) -> T:
    """fn() with a time limit on each attempt; retryable ProviderErrors are tried again up to
    `attempts` times in all, with exponential backoff and full jitter between attempts."""
    limit = call_timeout() if timeout is _DEFAULT else timeout
    for attempt in range(1, attempts + 1):
        try:
            return call_with_timeout(fn, limit, what)
        except ProviderError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            rng = rng or random.Random()
            sleep(backoff(attempt, base, rng))
    raise AssertionError("unreachable")  # pragma: no cover
