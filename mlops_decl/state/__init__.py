"""State: what mlops-decl manages, where it is kept, and the locks that guard it (docs/state.md)."""

from mlops_decl.state.backend import AuditStore, BackendType, StateBackend
from mlops_decl.state.backends import open_backend, open_state_backend
from mlops_decl.state.local import LocalLock, LocalStateStore
from mlops_decl.state.model import FORMAT_VERSION, ResourceState, State, StateError, upgrade
from mlops_decl.state.store import (
    Lock,
    LockHeld,
    LockInfo,
    StateConflict,
    StateStore,
    check_push,
    holding,
)

__all__ = [
    "FORMAT_VERSION",
    "AuditStore",
    "BackendType",
    "LocalLock",
    "LocalStateStore",
    "Lock",
    "LockHeld",
    "LockInfo",
    "ResourceState",
    "State",
    "StateBackend",
    "StateConflict",
    "StateError",
    "StateStore",
    "check_push",
    "holding",
    "open_backend",
    "open_state_backend",
    "upgrade",
]
