"""The local backend's audit storage: JSON lines in one file, appended under a flock."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mlops_decl.state.decode import StateFileError, audit_entry, shown
from mlops_decl.state.fsutil import ensure_dir

Entry = dict[str, Any]


class FileAuditStore:
    def __init__(self, path: Path):
        self.path = Path(path)

    def describe(self) -> str:
        return f"audit log {self.path}"

    def append(self, make: Callable[[Entry | None], Entry]) -> Entry:
        ensure_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # appenders of every process take turns
            try:
                entry = make(_last_entry(fh, shown(self.path)))
                fh.seek(0, os.SEEK_END)
                fh.write((json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode())
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return entry

    def last(self) -> Entry | None:
        """The newest entry, read from the end under a shared lock (never a half-written line),
        checked: StateFileError if the log's tail is damaged."""
        if not self.path.exists():
            return None
        with open(self.path, "rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
            try:
                return _last_entry(fh, shown(self.path))
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def records(self) -> Iterator[tuple[int, str]]:
        if not self.path.exists():
            return
        # Bytes that are not UTF-8 stay in the line as escapes: the entry checks name them.
        with open(self.path, encoding="utf-8", errors="surrogateescape") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    yield lineno, line


def _last_entry(fh: Any, where: str) -> Entry | None:
    """The last line of the open file, read from the end (the log can grow large), checked:
    an entry chained onto a damaged one would hide the damage."""
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
            if not lines:
                return None
            try:
                return audit_entry(lines[-1], where, None)
            except StateFileError as exc:
                fh.seek(0)
                exc.line = sum(1 for ln in fh if ln.strip())  # the last entry's, for the message
                raise
        block = min(end, block * 2)
