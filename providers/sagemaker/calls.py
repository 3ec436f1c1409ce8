"""Counting the provider's API calls with botocore's own event hooks, for tests and benchmarks:

    with counting() as counter:
        ...                                  # plan, apply: any client the provider builds
    counter.calls["sagemaker.DescribeModelPackageGroup"], counter.total()

`before-call` fires once per API call (whatever botocore's retries do underneath),
`before-send` once per HTTP attempt, `after-call` with the answer's status; so `calls`
counts what the provider asked for, `attempts` what went on the wire, `errors` the calls
that ended in an error answer (a throttle that botocore's retries did not absorb), and
`span()` the seconds from the first call's start to the last call's answer (the time a
plan spends on the API, without the process's start and the engine's own work), and
`span(service)` the same for one service's calls (without the time spent building the
other services' clients, which a plan does on first use).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .client import CLIENT_HOOKS


class CallCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()  # "service.Operation" -> API calls
        self.attempts: Counter[str] = Counter()  # -> HTTP attempts, retries included
        self.errors: Counter[str] = Counter()  # -> calls whose final answer was an error
        self._first: dict[str, float] = {}  # service -> time.monotonic() of its first call's start
        self._last: dict[str, float] = {}  # and of its last answer

    def attach(self, service: str, client: Any) -> None:
        """Count this client's calls (a CLIENT_HOOKS hook)."""
        events = client.meta.events
        events.register("before-call", self._before_call)
        events.register("before-send", self._before_send)
        events.register("after-call", self._after_call)

    def _bump(self, counter: Counter[str], event_name: str) -> str:
        _, service, operation = event_name.split(".", 2)  # before-call.sagemaker.ListModels
        with self._lock:
            counter[f"{service}.{operation}"] += 1
        return service

    def _before_call(self, event_name: str, **kwargs: Any) -> None:
        service = self._bump(self.calls, event_name)
        with self._lock:
            self._first.setdefault(service, time.monotonic())

    def _before_send(self, event_name: str, **kwargs: Any) -> None:
        self._bump(self.attempts, event_name)

    def _after_call(self, event_name: str, http_response: Any = None, **kwargs: Any) -> None:
        if http_response is not None and int(getattr(http_response, "status_code", 200)) >= 300:
            self._bump(self.errors, event_name)
        service = event_name.split(".", 2)[1]
        with self._lock:
            self._last[service] = time.monotonic()

    def span(self, service: str | None = None) -> float:
        """Seconds from the first call's start to the last answer, of one service's calls or of
        all (0 before any)."""
        with self._lock:
            names = [service] if service else list(self._first)
            starts = [self._first[n] for n in names if n in self._first]
            ends = [self._last[n] for n in names if n in self._last]
            if not starts or not ends:
                return 0.0
            return max(ends) - min(starts)

    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"calls": dict(self.calls), "attempts": dict(self.attempts), "errors": dict(self.errors)}

    def report(self) -> dict[str, Any]:
        """snapshot() and the span, as JSON (what a benchmark's driver writes)."""
        return {**self.snapshot(), "span": self.span()}


@contextmanager
def counting() -> Iterator[CallCounter]:
    """A CallCounter on every client built while the block runs (clients already built keep
    no counter: configure the provider inside the block)."""
    counter = CallCounter()
    CLIENT_HOOKS.append(counter.attach)
    try:
        yield counter
    finally:
        CLIENT_HOOKS.remove(counter.attach)
