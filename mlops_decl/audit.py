"""The audit log: append-only JSON lines, each entry carrying the hash of the one before, so
editing or dropping an entry breaks the chain and `audit verify` finds where."""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_decl.state.backend import AuditStore

GENESIS = "0" * 64
EVENTS = ("apply", "run", "started", "approval", "promotion", "drift", "retrain", "intent")


def who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _digest(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Problem:
    line: int
    message: str


class AuditLog:
    """The chain of entries, kept by the state backend's audit storage (so runners sharing a
    remote backend share one history); a path means the local file storage."""

    def __init__(self, store: AuditStore | Path):
        if isinstance(store, (str, Path)):
            from mlops_decl.state.local_audit import FileAuditStore

            store = FileAuditStore(Path(store))
        self.store = store

    @property
    def path(self) -> Path:
        return Path(getattr(self.store, "path", ""))

    def append(self, event: str, data: dict[str, Any], *, actor: str | None = None) -> dict[str, Any]:
        """Add one entry after the last one, whoever else is appending."""

        def make(last: dict[str, Any] | None) -> dict[str, Any]:
            entry: dict[str, Any] = {
                "seq": (last["seq"] + 1) if last else 1,
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "who": actor or who(),
                "event": event,
                "data": data,
                "prev": last["hash"] if last else GENESIS,
            }
            entry["hash"] = _digest(entry)
            return entry

        return self.store.append(make)

    def entries(self) -> Iterator[dict[str, Any]]:
        for _, text in self.store.records():
            yield json.loads(text)

    def pending(self) -> list[dict[str, Any]]:
        """`intent` entries no outcome names: a run, approval or promotion that was interrupted
        after it began (or is still going on), so its registry change may be unaudited."""
        open_intents: dict[int, dict[str, Any]] = {}
        for entry in self.entries():
            if entry.get("event") == "intent":
                open_intents[int(entry["seq"])] = entry
            else:
                seq = (entry.get("data") or {}).get("intent")
                if isinstance(seq, int):
                    open_intents.pop(seq, None)
        return list(open_intents.values())

    def verify(self) -> tuple[int, list[Problem]]:
        """(entries checked, problems). An empty problem list means the chain is intact."""
        problems: list[Problem] = []
        prev, seq, n = GENESIS, 0, 0
        for lineno, line in self.store.records():
            n += 1
            try:
                entry = json.loads(line)
            except ValueError:
                problems.append(Problem(lineno, "not valid JSON"))
                prev = ""
                continue
            if entry.get("hash") != _digest(entry):
                problems.append(
                    Problem(lineno, f"entry {entry.get('seq')} was altered: its hash does not match")
                )
            if entry.get("prev") != prev:
                problems.append(
                    Problem(lineno, f"entry {entry.get('seq')} does not follow the entry before it")
                )
            if entry.get("seq") != seq + 1:
                problems.append(
                    Problem(lineno, f"sequence jumps from {seq} to {entry.get('seq')}: entries missing")
                )
            prev, seq = entry.get("hash", ""), int(entry.get("seq") or 0)
        return n, problems


def audit_log(project_dir: Path, settings: Mapping[str, Any] | None = None) -> AuditLog:
    """The audit log the project's state backend keeps (settings: mlops.yaml's `backend:`;
    none: the local default, .mlops/audit.jsonl)."""
    from mlops_decl.state.plugins import open_state_backend

    return AuditLog(open_state_backend(project_dir, settings).audit)
