"""What a state backend plugin provides (docs/state.md): the state store, its lock, named locks and
the audit log's storage, all kept in one place so several CI runners sharing a remote backend
see one state and one history.

A plugin is a class registered under the entry-point group `mlops_decl.backends` (the local one
is built in: mlops_decl/state/plugins.py) with a `settings_schema` (JSON Schema of its
`backend:` settings, `type` excepted; checked at validate) and `open(project_dir, settings)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mlops_decl.state.store import Lock, StateStore

Entry = dict[str, Any]


@runtime_checkable
class AuditStore(Protocol):
    """Where audit entries are kept, in order. The hash chain is built by mlops_decl.audit."""

    def describe(self) -> str:
        """A phrase for messages, e.g. "audit log /p/.mlops/audit.jsonl"."""
        ...

    def append(self, make: Callable[[Entry | None], Entry]) -> Entry:
        """Store make(last entry or None) right after that last entry, excluding every other
        appender meanwhile (a file lock; a conditional put on an object store)."""
        ...

    def records(self) -> Iterator[tuple[int, str]]:
        """(position from 1, stored text) of every entry, oldest first; blank ones skipped."""
        ...


@runtime_checkable
class StateBackend(Protocol):
    """An opened backend of one project's state."""

    store: StateStore
    audit: AuditStore

    def lock(self, name: str | None = None) -> Lock:
        """The state's lock, or with a name another lock on the same backend, e.g.
        "promotion/model.churn" (one promotion of a model at a time) or "on_drift/monitor.m"."""
        ...


class BackendType(Protocol):
    """The class an entry point of `mlops_decl.backends` names."""

    name: ClassVar[str]
    settings_schema: ClassVar[dict[str, Any]]

    @classmethod
    def open(cls, project_dir: Path, settings: Mapping[str, Any]) -> StateBackend: ...
