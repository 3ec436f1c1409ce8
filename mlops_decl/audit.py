"""The audit log: append-only JSON lines, each entry carrying the hash of the one before, so
editing or dropping an entry breaks the chain and `audit verify` finds where.

A chain alone cannot show that its tail was cut off, or that it was rewritten from an edited
entry onward with every later hash recomputed. So the log is anchored: its entry count and head
hash are recorded in the state (journal op "audit", through whatever backend keeps the state),
after each apply and after each runtime entry, and `verify` checks the chain against that
anchor (docs/reliability.md says what is and is not detected).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_decl.state.backend import AuditStore, StateBackend

GENESIS = "0" * 64
EVENTS = ("apply", "run", "started", "approval", "promotion", "drift", "retrain", "intent", "schedule")


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

    def __init__(self, store: AuditStore | Path, anchored: Callable[[dict[str, Any]], None] | None = None):
        if isinstance(store, (str, Path)):
            from mlops_decl.state.local_audit import FileAuditStore

            store = FileAuditStore(Path(store))
        self.store = store
        self.anchored = anchored  # called with each appended entry's anchor, to record it

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

        entry = self.store.append(make)
        if self.anchored is not None:
            self.anchored(anchor_of(entry))
        return entry

    def anchor(self) -> dict[str, Any] | None:
        """{"entries": N, "head": HASH} of the log as it ends now; None when it is empty."""
        last = getattr(self.store, "last", None)
        if last is not None:
            entry = last()
            return anchor_of(entry) if entry is not None else None
        entries = list(self.entries())
        return anchor_of(entries[-1]) if entries else None

    def _where(self) -> str:
        from mlops_decl.state.decode import shown

        path = getattr(self.store, "path", None)
        return shown(path) if path is not None else self.store.describe()

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, checked (StateFileError naming the line of a damaged one)."""
        from mlops_decl.state.decode import audit_entry

        where = self._where()
        for lineno, text in self.store.records():
            yield audit_entry(text, where, lineno)

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

    def verify(self, anchor: Mapping[str, Any] | None = None) -> tuple[int, list[Problem]]:
        """(entries checked, problems). An empty problem list means the chain is intact and,
        given the state's anchor, that it still holds the anchored entries unchanged."""
        from mlops_decl.state.decode import StateFileError, audit_entry

        problems: list[Problem] = []
        prev, seq, n, lineno = GENESIS, 0, 0, 0
        anchored_at: tuple[int, str] | None = None  # (line, hash) of the anchor's last entry
        want = int(anchor["entries"]) if anchor else 0
        for lineno, line in self.store.records():
            n += 1
            try:
                entry = audit_entry(line, "", lineno)
            except StateFileError as exc:
                problems.append(Problem(lineno, exc.problem))
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
            if n == want:
                anchored_at = (lineno, str(entry.get("hash")))
        if anchor:
            problems.extend(_against(anchor, n, lineno, anchored_at))
        return n, problems


def anchor_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"entries": int(entry["seq"]), "head": str(entry["hash"])}


def _against(
    anchor: Mapping[str, Any], n: int, last_line: int, anchored_at: tuple[int, str] | None
) -> list[Problem]:
    want, head = int(anchor["entries"]), str(anchor["head"])
    if n < want:
        gone = f"entry {want} was" if n + 1 == want else f"entries {n + 1} to {want} were"
        return [
            Problem(
                last_line + 1,
                f"the log ends after {n} entries, but the state recorded {want}: {gone} removed from its end",
            )
        ]
    if anchored_at is not None and anchored_at[1] != head:
        return [
            Problem(
                anchored_at[0],
                f"entry {want} is not the entry the state recorded (hash {head[:12]}): the log was "
                "rewritten up to here, its hashes recomputed",
            )
        ]
    return []


def record_anchor(backend: StateBackend, anchor: Mapping[str, Any]) -> str | None:
    """Record anchor in the state under the state lock; None when done, else why not (another
    command holds the lock: its own next state write records the log's anchor)."""
    from mlops_decl.state.model import StateError
    from mlops_decl.state.store import LockHeld, holding

    for wait in (0.0, 5.0):
        try:
            with holding(backend.lock(), ANCHOR_OPERATION, wait):
                backend.store.read()  # what the state is now: it may have moved since opened
                backend.store.record_audit(dict(anchor))
                backend.store.compact()
            return None
        except LockHeld as exc:
            if exc.holder.operation != ANCHOR_OPERATION:  # an apply: it anchors when it ends
                return f"the state is locked by `{exc.holder.operation}`"
        except StateError as exc:
            return str(exc)
    return "the state lock stayed taken"


ANCHOR_OPERATION = "audit anchor"


def audit_log(project_dir: Path, settings: Mapping[str, Any] | None = None) -> AuditLog:
    """The audit log the project's state backend keeps (settings: mlops.yaml's `backend:`;
    none: the local default, .mlops/audit.jsonl)."""
    from mlops_decl.state.plugins import open_state_backend

    return AuditLog(open_state_backend(project_dir, settings).audit)
