"""Calling providers safely: a time limit on every call, retries of retryable errors on the
provider's schedule, and a per-provider concurrency limit.

The time limit runs the call in a daemon thread and stops waiting after `timeout` seconds. A
Python thread cannot be killed, so a timed-out call is abandoned; the operation's cancel
event tells a polling handler to stop. A create that recorded its id stays in state as
`creating`, so the next apply reads the object instead of making a second one. Daemon threads
never keep the process alive.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from mlops_decl import workers
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.provider import DEFAULT_RETRY, Category, ProviderError, RetryPolicy

T = TypeVar("T")

MAX_ATTEMPTS = DEFAULT_RETRY.attempts
BASE_DELAY = DEFAULT_RETRY.base
MAX_DELAY = DEFAULT_RETRY.max_delay

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


def backoff(attempt: int, base: float, rng: random.Random, cap: float = MAX_DELAY) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    return rng.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def call_with_retry(
    fn: Callable[[], T],
    *,
    attempts: int | None = None,
    base: float | None = None,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    timeout: float | None = _DEFAULT,
    what: str = "the provider call",
    may_retry: Callable[[ProviderError], bool] | None = None,
) -> T:
    """fn() under one time limit for all its attempts together; retryable ProviderErrors are
    tried again on the policy's schedule for their category (throttling: longer), waiting
    `retry_after` when the API said how long, else exponential backoff with full jitter.
    `may_retry(exc)` False stops retrying (a create that left an object behind).
    `attempts`/`base` override the policy's transient schedule."""
    limit = call_timeout() if timeout is _DEFAULT else timeout
    deadline = None if limit is None else time.monotonic() + limit
    attempt = 0
    while True:
        attempt += 1
        left = None if deadline is None else deadline - time.monotonic()
        try:
            if left is not None and left <= 0:
                raise CallTimeout(what, limit or 0)
            if left is None:
                return fn()
            result = workers.call(fn)
            if not result.wait(left):
                raise CallTimeout(what, limit or 0)
            value: T = result.value()
            return value
        except ProviderError as exc:
            if not exc.retryable or isinstance(exc, CallTimeout):
                raise
            most, first, cap = policy.schedule(exc.category)
            if exc.category is not Category.THROTTLED:
                most, first = attempts or most, base if base is not None else first
            if attempt >= most or (may_retry is not None and not may_retry(exc)):
                raise
            rng = rng or random.Random()
            delay = exc.retry_after if exc.retry_after is not None else backoff(attempt, first, rng, cap)
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise  # no time left for another try: the API's own error says more
            sleep(delay)


def parse_duration(text: str) -> float:
    """Seconds in a Terraform-style duration (30m, 1h30m, 90s); kinds.py checked its shape."""
    total, number = 0.0, ""
    for ch in text:
        if ch.isdigit():
            number += ch
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[ch]
            number = ""
    return total


def explicit_timeout() -> float | None | Any:
    """--call-timeout or MLOPS_CALL_TIMEOUT when given (None: no limit), else `...`."""
    if _override is not None:
        return _override or None
    env = os.environ.get(TIMEOUT_ENV)
    if env is not None and env.strip():
        return parse_timeout(env, TIMEOUT_ENV)
    return ...


# Kinds whose cloud objects take long to settle, for providers that declare no defaults of
# their own (Handler.timeouts): a SageMaker endpoint takes 5-15 minutes to be InService.
KIND_TIMEOUTS: dict[str, dict[str, float]] = {
    "endpoint": {"create": 1800.0, "update": 1800.0, "delete": 1200.0},
    "feature_group": {"create": 1200.0, "delete": 1200.0},
    "monitor": {"create": 1200.0},
}


def limit_for(
    op: str, resource: dict[str, Any] | None, handler: Any, explicit: Any, kind: str | None = None
) -> float | None:
    """The time limit of one call: the resource's lifecycle.timeouts, else the one given on
    the command line (explicit), else the handler's default for the call, else the kind's,
    else DEFAULT_TIMEOUT."""
    own = (resource or {}).get(op)
    if isinstance(own, str) and own:
        return parse_duration(own) or None
    if explicit is not ...:
        return explicit
    declared: dict[str, float] = getattr(handler, "timeouts", None) or {}
    if op in declared:
        return declared[op]
    return KIND_TIMEOUTS.get(str(kind or getattr(handler, "kind", "")), {}).get(op, DEFAULT_TIMEOUT)


class Limits:
    """At most `concurrency` calls at once per provider, beside the global --parallelism: a
    provider whose API throttles early (SageMaker's control plane) declares a small one."""

    def __init__(self, concurrency_of: Callable[[str], int | None]):
        self._of = concurrency_of
        self._sems: dict[str, threading.BoundedSemaphore | None] = {}
        self._lock = threading.Lock()

    def _sem(self, provider: str) -> threading.BoundedSemaphore | None:
        with self._lock:
            if provider not in self._sems:
                n = self._of(provider)
                self._sems[provider] = threading.BoundedSemaphore(n) if n else None
            return self._sems[provider]

    def wrap(self, provider: str, fn: Callable[[], T]) -> Callable[[], T]:
        sem = self._sem(provider)
        if sem is None:
            return fn

        def limited() -> T:
            with sem:
                return fn()

        return limited


def concurrency_of(provider: Any) -> int | None:
    n = getattr(provider, "concurrency", None)
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None


def policy_of(provider: Any) -> RetryPolicy:
    policy = getattr(provider, "retry_policy", None)
    return policy if isinstance(policy, RetryPolicy) else DEFAULT_RETRY
