"""Following a long-running cloud operation: describe it until it reaches a terminal status,
with backoff, showing progress, within the operation's deadline, stopping when the user
cancels. A failed status becomes a ProviderError the engine reports; running out of time
says where the object was left, so the next apply waits for it instead of making another."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

from mlops_decl.operation import Operation
from mlops_decl.provider import Category, ProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class Statuses(Generic[T]):
    """How to read a described object: its status, which statuses end the wait (done or
    failed), and why it failed (the API's own reason)."""

    status: Callable[[T], str]
    done: Collection[str]
    failed: Collection[str] = ()
    reason: Callable[[T], str | None] = lambda described: None


class StillRunning(ProviderError):
    """The deadline passed or the user cancelled while the operation was still going: the
    object exists (its id is recorded) and a later apply picks it up."""

    def __init__(self, what: str, status: str, waited: float):
        super().__init__(
            f"{what} is still {status} after {waited:.0f} s; the next apply waits for it",
            category=Category.TRANSIENT,
            retryable=False,
        )
        self.status = status


def follow(
    describe: Callable[[], T],
    statuses: Statuses[T],
    op: Operation,
    what: str,
    *,
    interval: float = 2.0,
    max_interval: float = 30.0,
    factor: float = 1.5,
    expected: float | None = None,
) -> T:
    """Describe until the status is terminal; return the last description when it is done.

    Polls every `interval` seconds, growing by `factor` up to `max_interval`. Emits one line
    of progress when the status changes and at each poll after (`endpoint e: Creating, 40 s
    of ~600 s` when `expected` seconds is known). A failed status raises a ProviderError
    (invalid: retrying the same request fails the same way) with the API's reason."""
    started = time.monotonic()
    delay, last = interval, None
    while True:
        described = describe()
        status = statuses.status(described)
        if status in statuses.done:
            if last is not None:
                op.emit(f"{what}: {status} after {time.monotonic() - started:.0f} s")
            return described
        if status in statuses.failed:
            reason = statuses.reason(described)
            raise ProviderError(
                f"{what} ended {status}" + (f": {reason}" if reason else ""), category=Category.INVALID
            )
        waited = time.monotonic() - started
        op.emit(f"{what}: {status}, {waited:.0f} s" + (f" of ~{expected:.0f} s" if expected else ""))
        last = status
        if not op.wait(delay):
            raise StillRunning(what, status, waited)
        delay = min(max_interval, delay * factor)
