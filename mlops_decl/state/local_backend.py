"""The built-in `local` backend: the state file and its journal, flock()ed lock files and the
audit log, all beside the state (default `.mlops/state.json`).

`validate` reads only the settings schema, so the store, lock and audit modules load on open.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from mlops_decl.state.local_lock import LocalLock

DEFAULT_PATH = ".mlops/state.json"


class LocalStateBackend:
    def __init__(self, path: Path):
        from mlops_decl.state.local import LocalStateStore
        from mlops_decl.state.local_audit import FileAuditStore

        self.path = path
        self.store = LocalStateStore(path)
        # The default state keeps the project's audit log at .mlops/audit.jsonl; another state
        # file (one per environment) has its own log beside it.
        name = "audit.jsonl" if path.name == "state.json" else f"{path.stem}.audit.jsonl"
        self.audit = FileAuditStore(path.with_name(name))
        self._state_lock: LocalLock | None = None

    def lock(self, name: str | None = None) -> LocalLock:
        from urllib.parse import quote

        from mlops_decl.state.local_lock import LocalLock, lock_path_for

        if name is None:
            if self._state_lock is None:
                self._state_lock = LocalLock(lock_path_for(self.path))
            return self._state_lock
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"a lock name is a relative path without `..`, not {name!r}")
        folder = self.path.with_name(f"{self.path.stem}.locks")
        return LocalLock(folder / f"{quote(name, safe='')}.lock.json", name)


class LocalBackend:
    name: ClassVar[str] = "local"
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "description": f"the state file, relative to the project (default {DEFAULT_PATH})",
            }
        },
        "additionalProperties": False,
    }

    @classmethod
    def open(cls, project_dir: Path, settings: Mapping[str, Any]) -> LocalStateBackend:
        path = Path(settings.get("path") or DEFAULT_PATH).expanduser()
        return LocalStateBackend(path if path.is_absolute() else Path(project_dir) / path)
