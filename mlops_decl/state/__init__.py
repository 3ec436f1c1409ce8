"""State: what mlops-decl manages, where it is kept, and the lock that guards it (docs/state.md)."""

from mlops_decl.state.backends import open_backend
from mlops_decl.state.local import LocalLock, LocalStateStore
from mlops_decl.state.model import FORMAT_VERSION, ResourceState, State, StateError, upgrade
from mlops_decl.state.store import Lock, LockHeld, LockInfo, StateStore, check_push

__all__ = [
    "FORMAT_VERSION",
    "LocalLock",
    "LocalStateStore",
    "Lock",
    "LockHeld",
    "LockInfo",
    "ResourceState",
    "State",
    "StateError",
    "StateStore",
    "check_push",
    "open_backend",
    "upgrade",
]
