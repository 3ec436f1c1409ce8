"""A resource's independent requests, sent together.

A cloud read often needs two answers that do not depend on each other (an object's metadata
and its tags; a model registry entry and its tags, by an ARN the state already holds). Asked
one after the other they cost two round trips; asked together, one. The first call runs on
the caller's thread, the others on a shared pool. Every call's answer or exception comes back
in order, so the caller decides which failures matter: a tags call for an object that turns
out not to exist is dropped, a throttled one is raised as the caller would have raised it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Threads only wait on the network; a pool larger than any provider's concurrency keeps an
# overlapped call from queueing behind another resource's.
WORKERS = 32

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


class Outcome(Generic[T]):
    """One call's answer, or the exception it raised."""

    __slots__ = ("error", "value")

    def __init__(self, value: T | None = None, error: BaseException | None = None):
        self.value = value
        self.error = error

    def get(self) -> T:
        """The answer; raises what the call raised."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


def together(first: Callable[[], Any], *others: Callable[[], Any]) -> list[Outcome[Any]]:
    """Run the calls at once; their outcomes, in the order given."""
    futures: list[Future[Any]] = [_shared().submit(fn) for fn in others]
    out = [_outcome(first)]
    for future in futures:
        error = future.exception()
        out.append(Outcome(error=error) if error is not None else Outcome(future.result()))
    return out


def _outcome(fn: Callable[[], T]) -> Outcome[T]:
    try:
        return Outcome(fn())
    except Exception as exc:  # handed to the caller, who raises it or not
        return Outcome(error=exc)


def _shared() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="mlops-overlap")
        return _pool
