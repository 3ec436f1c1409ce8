"""State: what mlops-decl manages, where it is kept, and the locks that guard it (docs/state.md).

Names are imported on first use: `validate` checks backend settings through
mlops_decl.state.plugins without paying for the stores and locks it never opens.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    **dict.fromkeys(("AuditStore", "BackendType", "StateBackend"), "backend"),
    **dict.fromkeys(("open_backend", "open_state_backend"), "backends"),
    **dict.fromkeys(("LocalLock", "LocalStateStore"), "local"),
    **dict.fromkeys(("FORMAT_VERSION", "ResourceState", "State", "StateError", "upgrade"), "model"),
    **dict.fromkeys(
        ("Lock", "LockHeld", "LockInfo", "StateConflict", "StateStore", "check_push", "holding"), "store"
    ),
}

__all__ = [
    "AuditStore",
    "BackendType",
    "FORMAT_VERSION",
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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
