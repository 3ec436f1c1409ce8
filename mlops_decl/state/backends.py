"""Open the state backend mlops.yaml's `backend:` settings name (plugins: state/plugins.py)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_decl.state.local_backend import DEFAULT_PATH as DEFAULT_LOCAL_PATH
from mlops_decl.state.plugins import open_state_backend
from mlops_decl.state.store import Lock, StateStore

__all__ = ["DEFAULT_LOCAL_PATH", "open_backend", "open_state_backend"]


def open_backend(project_dir: Path, settings: Mapping[str, Any] | None = None) -> tuple[StateStore, Lock]:
    """(store, state lock) for the project; settings is the `backend:` mapping (local if empty)."""
    backend = open_state_backend(project_dir, settings)
    return backend.store, backend.lock()
