"""Pick the state backend from mlops.yaml's `backend:` settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_decl.state.local import LocalLock, LocalStateStore, lock_path_for
from mlops_decl.state.model import StateError
from mlops_decl.state.store import Lock, StateStore

DEFAULT_LOCAL_PATH = ".mlops/state.json"


def open_backend(project_dir: Path, settings: Mapping[str, Any] | None = None) -> tuple[StateStore, Lock]:
    """(store, lock) for the project; settings is the `backend:` mapping ({"type": "local"} if empty)."""
    settings = settings or {}
    kind = settings.get("type") or "local"
    if kind == "local":
        path = Path(settings.get("path") or DEFAULT_LOCAL_PATH).expanduser()
        if not path.is_absolute():
            path = Path(project_dir) / path
        return LocalStateStore(path), LocalLock(lock_path_for(path))
    if kind == "s3":
        raise StateError("the s3 backend is not available yet")
    raise StateError(f"unknown backend type `{kind}`: use `local` or `s3`")
