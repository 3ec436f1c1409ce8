"""The audit log: append-only JSON lines, each entry carrying the hash of the one before, so
editing or dropping an entry breaks the chain and `audit verify` finds where."""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
EVENTS = ("apply", "run", "approval", "promotion", "drift", "retrain", "intent")


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
    def __init__(self, path: Path):
        self.path = path

    def append(self, event: str, data: dict[str, Any], *, actor: str | None = None) -> dict[str, Any]:
        """Add one entry; serialised across processes with an exclusive file lock."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                last = _last_entry(fh)
                entry: dict[str, Any] = {
                    "seq": (last["seq"] + 1) if last else 1,
                    "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    "who": actor or who(),
                    "event": event,
                    "data": data,
                    "prev": last["hash"] if last else GENESIS,
                }
                entry["hash"] = _digest(entry)
                fh.seek(0, os.SEEK_END)
                fh.write((json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode())
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return entry

    def entries(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path) as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

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
        if not self.path.exists():
            return 0, problems
        with open(self.path) as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
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


def _last_entry(fh: Any) -> dict[str, Any] | None:
    """The last line of the open file, read from the end (the log can grow large)."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    if end == 0:
        return None
    block = min(end, 65536)
    while True:
        fh.seek(end - block)
        tail = fh.read(block)
        lines = [ln for ln in tail.splitlines() if ln.strip()]  # bytes lines
        if len(lines) > 1 or block == end:
            return json.loads(lines[-1]) if lines else None
        block = min(end, block * 2)


def audit_log(project_dir: Path) -> AuditLog:
    return AuditLog(project_dir / ".mlops" / "audit.jsonl")
