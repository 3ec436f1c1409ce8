"""Reusable daemon threads for the walk's nodes and for provider calls under a time limit.

Why not a fresh thread per job: starting one costs ~35 us, paid twice per applied resource
(the walk's node, then the timed provider call inside it): ~70 ms per 1000 resources
(bench/README.md, "Where the time goes"). Why not concurrent.futures: its workers are joined
at interpreter exit, so a hung provider call would keep the process from exiting after its
time limit was reported. A worker whose job overruns is simply not waited for; it rejoins the
pool if the job ever returns.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

_idle: deque[_Worker] = deque()  # append/pop are atomic: no lock needed
_numbers = itertools.count(1)  # next() is atomic too


class _Worker(threading.Thread):
    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.jobs: queue.SimpleQueue[Callable[[], Any]] = queue.SimpleQueue()

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            job()  # jobs catch their own exceptions (submit wraps them)
            _idle.append(self)


def submit(fn: Callable[[], Any]) -> None:
    """Run fn() on an idle worker (or a new one). fn must not raise: wrap it (see `call`)."""
    try:
        worker = _idle.pop()
    except IndexError:
        worker = _Worker(f"mlops-worker-{next(_numbers)}")
        worker.start()
    worker.jobs.put(fn)


class Result:
    """The outcome of a job run by `call`: wait() for it, then value() returns or raises."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def value(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


def call(fn: Callable[[], Any]) -> Result:
    """fn() on a worker; its return value or exception lands in the Result."""
    result = Result()

    def job() -> None:
        try:
            result._value = fn()
        except BaseException as exc:  # handed to whoever waits
            result._error = exc
        finally:
            result._done.set()

    submit(job)
    return result
