"""Backend interfaces: where state lives (StateStore) and who may write it (Lock).

Every backend (local now, s3 later) implements both and must pass the same tests.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from mlops_decl.state.model import ResourceState, State, StateError

__all__ = [
    "Lock",
    "LockHeld",
    "LockInfo",
    "StateConflict",
    "StateError",
    "StateStore",
    "WithBlock",
    "check_push",
    "holding",
]


@runtime_checkable
class StateStore(Protocol):
    """One state document. Writers hold the Lock. A mutation survives the process being killed
    once it returns and reaches the disk soon after (the local store: within 50 ms, group
    commit); after compact() everything is on disk.

    Every write is conditional on the serial this store last read or wrote: if another writer
    moved the state meanwhile (e.g. after force-unlocking this one's lock), the write raises
    StateConflict and changes nothing, so no write is ever lost."""

    @property
    def path(self) -> Path | str:
        """Where the state lives, for messages."""
        ...

    def describe(self) -> str:
        """A phrase for messages, e.g. "local state file /p/.mlops/state.json"."""
        ...

    def read(self) -> State:
        """The current state (a copy the caller may change); an empty new one if none exists."""
        ...

    def put_resource(self, rs: ResourceState) -> int:
        """Record rs under rs.address; returns the new serial."""
        ...

    def remove_resource(self, address: str) -> int:
        """Forget address (no change, same serial, if absent); returns the serial."""
        ...

    def set_outputs(self, outputs: dict[str, dict[str, Any]]) -> int:
        """Replace all outputs ({"value": ..., "sensitive": bool} each); returns the new serial."""
        ...

    def record_audit(self, anchor: dict[str, Any]) -> int:
        """Record the audit log's anchor ({"entries": N, "head": HASH} of its last entry), as
        journal op "audit" (state/journal.py); no write, same serial, if it is recorded already.
        Returns the serial."""
        ...

    def write(self, state: State, keep_serial: bool = False) -> None:
        """Replace the whole state atomically (state push). The serial becomes
        max(current, incoming) + 1 so saved plans go stale, unless keep_serial."""
        ...

    def compact(self) -> None:
        """Fold any incremental log into one document; called at the end of each operation."""
        ...


@dataclass
class LockInfo:
    id: str
    operation: str  # "apply", "destroy", "state rm", ...
    who: str  # user@host
    host: str
    pid: int
    version: str  # of mlops-decl
    created: str  # ISO-8601 UTC
    path: str  # the state the lock guards

    @classmethod
    def new(cls, operation: str, path: str | Path) -> LockInfo:
        import getpass  # here, not at import: plan and validate start faster

        from mlops_decl import __version__

        host = os.uname().nodename if hasattr(os, "uname") else _hostname()
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry, e.g. in some containers
            user = str(os.getuid())
        return cls(
            id=str(uuid.uuid4()),
            operation=operation,
            who=f"{user}@{host}",
            host=host,
            pid=os.getpid(),
            version=__version__,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            path=str(path),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, raw: str | bytes, where: str) -> LockInfo:
        """The LockInfo JSON read from where (e.g. "lock file /p/.mlops/state.lock.json")."""
        import json

        try:
            return cls.from_json(json.loads(raw))
        except (ValueError, StateError) as exc:
            raise StateError(
                f"the {where} is unreadable ({exc}); if no mlops-decl is running, delete it"
            ) from None

    @classmethod
    def from_json(cls, data: Any) -> LockInfo:
        if not isinstance(data, dict):
            raise StateError("the lock record is not a JSON object")
        try:
            return cls(
                id=str(data["id"]),
                operation=str(data.get("operation", "?")),
                who=str(data.get("who", "?")),
                host=str(data.get("host", "")),
                pid=int(data.get("pid", 0)),
                version=str(data.get("version", "?")),
                created=str(data.get("created", "?")),
                path=str(data.get("path", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateError(f"the lock record is malformed: {exc}") from None


class StateConflict(StateError):
    """A write found the state at another serial than the one its writer last saw."""

    def __init__(self, where: str, expected: int, found: int):
        super().__init__(where, expected, found)
        self.where, self.expected, self.found = where, expected, found

    def __str__(self) -> str:
        return (
            f"the {self.where} was changed by another writer (serial {self.expected} when this "
            f"command read it, {self.found} now), so this write was refused and nothing was "
            "overwritten; was this command's lock force-unlocked? Run it again: the next plan "
            "starts from the state as it is now"
        )


class LockHeld(StateError):
    """Someone else holds the lock."""

    def __init__(self, holder: LockInfo, waited: float = 0.0, name: str | None = None):
        super().__init__(holder)
        self.holder = holder
        self.waited = waited
        self.name = name  # a named lock's name; None for the state lock

    def __str__(self) -> str:
        h = self.holder
        waited = f" (waited {self.waited:g}s)" if self.waited else ""
        which = f" --lock {self.name}" if self.name else ""
        return (
            f"held by {h.who} (pid {h.pid}) for `{h.operation}` since {h.created}, lock id {h.id}"
            f"{waited}; if that process is gone, run `mlops-decl force-unlock {h.id}{which}`"
        )


@runtime_checkable
class Lock(Protocol):
    """At most one writer of a state (or, for a named lock, one holder of that name).
    Use as `with holding(lock, "apply", timeout=...)`, `with lock(info): ...` or acquire/release."""

    def describe(self) -> str:
        """A phrase for messages and LockInfo.path, e.g. "lock file /p/.mlops/state.lock.json"."""
        ...

    def acquire(self, info: LockInfo, timeout: float = 0.0) -> None:
        """Take the lock, waiting up to timeout seconds for a live holder to let go; then raise
        LockHeld naming the holder. A holder known to be dead is taken over at once."""
        ...

    def holder(self) -> LockInfo | None:
        """Who holds the lock now (None if nobody, or only a holder known to be dead)."""
        ...

    def release(self) -> None:
        """Give the lock up if this object holds it."""
        ...

    def force_unlock(self, lock_id: str) -> None:
        """Remove the lock whatever holds it; StateError if there is none or lock_id differs."""
        ...

    def __call__(self, info: LockInfo) -> Lock:
        """Remember info for the next `with`."""
        ...

    def __enter__(self) -> Lock: ...

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


_L = TypeVar("_L", bound="WithBlock")


class WithBlock:
    """`with lock(info): ...` for a lock class with acquire(info) and release()."""

    _pending: LockInfo | None = None

    if TYPE_CHECKING:

        def acquire(self, info: LockInfo, timeout: float = 0.0) -> None: ...

        def release(self) -> None: ...

    def __call__(self: _L, info: LockInfo) -> _L:
        self._pending = info
        return self

    def __enter__(self: _L) -> _L:
        if self._pending is None:
            raise StateError("use the lock as `with lock(info):`")
        info, self._pending = self._pending, None
        self.acquire(info)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


@contextlib.contextmanager
def holding(lock: Lock, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
    """Hold lock for the block, as `operation`; LockHeld if it stays taken for timeout seconds."""
    info = LockInfo.new(operation, lock.describe())
    lock.acquire(info, timeout)
    try:
        yield info
    finally:
        lock.release()


def check_push(current: State, incoming: State, force: bool) -> None:
    """Refuse a `state push` that would replace an unrelated or newer state (unless force)."""
    if force:
        return
    if current.serial == 0 and not current.resources and not current.outputs:
        return  # nothing was ever written here: any state may start it
    if incoming.lineage != current.lineage:
        raise StateError(
            f"cannot push: the state has lineage {current.lineage} but the file has lineage "
            f"{incoming.lineage}; they are different states"
        )
    if incoming.serial < current.serial:
        raise StateError(
            f"cannot push: the state is at serial {current.serial}, newer than the file's "
            f"serial {incoming.serial}; pull it and apply your change to that"
        )
    if incoming.serial == current.serial and incoming.to_json() != current.to_json():
        raise StateError(
            f"cannot push: the file differs from the state but has the same serial {current.serial}; "
            "one of them was changed by hand"
        )


def _hostname() -> str:
    import socket

    return socket.gethostname()
