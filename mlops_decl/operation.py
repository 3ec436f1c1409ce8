"""The operation context every lifecycle call gets (read, create, update, delete, import).

A cloud create can take half an hour. The context lets a handler show progress (`emit`), see
how long it may still take (`deadline`, `remaining()`), notice that the user gave up
(`cancelled`), and save the half-made object's id the moment the API returns it
(`record_id`): the engine writes it to state at once as `creating`, so a process killed while
waiting leaves an object the next apply reads and finishes instead of creating a second one.
`identity` (project + address) is stable across applies and machines: use it in generated
names and as the idempotency token of a create (`token()`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Attributes = dict[str, Any]

# The state's resource `status` for objects not (yet) whole.
CREATING = "creating"  # record_id was called and the create has not returned yet
TAINTED = "tainted"  # the create failed after record_id: the next apply replaces it
STATUSES = (CREATING, TAINTED)


def _nothing(*_: Any) -> None:
    return None


@dataclass
class Operation:
    """One lifecycle call on one resource. Thread-safe: a handler may emit from its own
    threads."""

    op: str  # read | create | update | delete | import
    address: str  # kind.name
    project: str = "default"
    deadline: float | None = None  # time.monotonic() after which the engine stops waiting
    cancel: threading.Event = field(default_factory=threading.Event)
    status: str | None = None  # the state's status of the object: creating, tainted or None
    on_progress: Callable[[str], None] = _nothing
    on_record: Callable[[str, Attributes], None] = _nothing

    @property
    def identity(self) -> str:
        """project/kind.name: the same for this resource on every apply, from any machine."""
        return f"{self.project}/{self.address}"

    def token(self, salt: str = "") -> str:
        """A stable idempotency token (hex, 32 chars) for this resource's create: a retried
        create sends the same one, so the API returns the first object instead of a second.
        `salt` tells apart objects made afresh on purpose (a replacement: the old id)."""
        import hashlib  # ~10 ms of OpenSSL start-up that plan and validate never need

        return hashlib.sha256(f"{self.identity}\0{self.op}\0{salt}".encode()).hexdigest()[:32]

    def emit(self, progress: str) -> None:
        """Show progress to the user (`endpoint creating, 4 of ~10 min`); never print."""
        self.on_progress(progress)

    def record_id(self, id: str, attributes: Attributes | None = None) -> None:
        """Save the half-made object to state now, as `creating`, with what is known of it.
        Call it as soon as the API has answered with an id, before waiting for it to be ready."""
        if not isinstance(id, str) or not id:
            raise ValueError("record_id needs the object's id as a non-empty string")
        self.on_record(id, dict(attributes or {}))

    def remaining(self) -> float | None:
        """Seconds left before the deadline (0 when past it), None when there is none."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    @property
    def cancelled(self) -> bool:
        """The user interrupted the apply, or the deadline passed: stop waiting, soon."""
        return self.cancel.is_set() or (self.deadline is not None and time.monotonic() >= self.deadline)

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds` (never past the deadline); False when cancelled meanwhile.
        The polling loop of a long create: `while not ready(): if not op.wait(15): break`."""
        left = self.remaining()
        if left is not None:
            seconds = min(seconds, left)
        return not self.cancel.wait(seconds) and not self.cancelled


def detached(op: str = "call", address: str = "", project: str = "default") -> Operation:
    """A context for calls made outside an apply (tests, scripts): no deadline, progress and
    recorded ids go nowhere."""
    return Operation(op, address, project)
