"""The local backend's store: `<project>/.mlops/state.json` plus a journal.

Why a journal: rewriting the whole state after every resource makes a large apply quadratic
(hashicorp/terraform#35113). Instead `state.json` is a snapshot and `state.journal` an
append-only JSONL of the operations since, one line per put (entries and their replay:
state/journal.py). Lines carry the snapshot's lineage and consecutive serials, so replay is
idempotent: after a crash between replacing the snapshot and truncating the journal, lines
already folded in (serial <= snapshot's) are skipped.

Every write is conditional on the serial this store last saw: under a flock of the journal,
the files' identity and size are compared with what this store last read or wrote (two
syscalls a put); if they moved, the disk is read again and the write goes on only if its
serial is still the one this store holds, else StateConflict.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops_decl.state import journal
from mlops_decl.state.decode import read_state, shown
from mlops_decl.state.fsutil import ensure_dir, fsync_dir, sweep, temp_prefix, write_all
from mlops_decl.state.group_commit import GroupCommit
from mlops_decl.state.local_lock import LocalLock, lock_path_for
from mlops_decl.state.model import State
from mlops_decl.state.store import StateConflict

# What the files looked like: the snapshot's (inode, size, mtime) or None, the journal's size.
Signature = tuple[tuple[int, int, int] | None, int]

__all__ = ["LocalLock", "LocalStateStore", "lock_path_for"]

# Journal lines are fdatasync'ed by a group commit (state/group_commit.py) within 50 ms, and
# everything before compaction; durable=False skips syncing (SIGKILL safety needs only write()).


def _dump_state(doc: dict[str, Any]) -> bytes:
    """Readable (one resource a line) yet written by json's C encoder: indent= would fall back
    to the pure-Python one, 4x slower on large states."""
    out = ["{"]
    items = list(doc.items())
    for i, (key, value) in enumerate(items):
        end = "," if i < len(items) - 1 else ""
        if key == "resources" and value:
            out.append(f"  {json.dumps(key)}: {{")
            rs = list(value.items())
            for j, (addr, r) in enumerate(rs):
                comma = "," if j < len(rs) - 1 else ""
                out.append(f"    {json.dumps(addr)}: {json.dumps(r, separators=(', ', ': '))}{comma}")
            out.append(f"  }}{end}")
        else:
            out.append(f"  {json.dumps(key)}: {json.dumps(value, separators=(', ', ': '))}{end}")
    out.append("}")
    return ("\n".join(out) + "\n").encode()


class LocalStateStore(journal.Recorder):
    """StateStore on a local file. Thread-safe; puts are O(1) apart from the appended line."""

    def __init__(self, path: Path, durable: bool = True, min_compact: int = 100):
        self.path = Path(path)
        self.journal_path = self.path.with_suffix(".journal")
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.durable = durable
        self.min_compact = min_compact
        self._mu = threading.Lock()
        self._state: State | None = None
        self._has_snapshot = False
        self._journal_lines = 0
        self._journal_clean = True  # False: a torn tail or lines not following the snapshot
        self._fd: int | None = None
        self._seen: Signature = (None, 0)  # the files as this store last read or wrote them
        self._syncer = GroupCommit()

    def describe(self) -> str:
        return f"local state file {self.path}"

    # -- reading ----------------------------------------------------------------------
    def read(self) -> State:
        with self._mu:
            self._load()
            assert self._state is not None
            return State.from_json(json.loads(json.dumps(self._state.to_json())))

    def _loaded(self) -> State:
        if self._state is None:
            self._load()
        assert self._state is not None
        return self._state

    def _load(self) -> None:
        seen = self._signature()  # before reading: a write meanwhile makes the next check reread
        self._state, self._has_snapshot, self._journal_lines, self._journal_clean = self._read_disk()
        self._seen = seen

    def _read_disk(self) -> tuple[State, bool, int, bool]:
        """(state, has a snapshot, journal lines, journal clean) as the files hold them now."""
        try:
            raw: bytes | None = self.path.read_bytes()
        except FileNotFoundError:
            raw = None
        if raw is None:
            # No state yet: keep the lineage this store already handed out until it is written.
            keep = self._state.lineage if self._state is not None and not self._has_snapshot else None
            state = State.new()
            state.lineage = keep or state.lineage
        else:
            state = read_state(raw, shown(self.path), self.backup_path)
        lines, clean = self._replay(state)
        return state, raw is not None, lines, clean

    def _replay(self, state: State) -> tuple[int, bool]:
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            raw = b""
        lines = raw.split(b"\n")
        tail = lines.pop()  # b"" unless the last write was cut short
        done = journal.replay(state, map(_decode, lines), shown(self.journal_path), unit="line")
        return len(lines) + (tail != b""), done.clean and tail == b""

    def _signature(self) -> Signature:
        try:
            st = os.stat(self.path)
            snapshot: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            snapshot = None
        if self._fd is not None:
            return snapshot, os.fstat(self._fd).st_size
        try:
            return snapshot, os.stat(self.journal_path).st_size
        except FileNotFoundError:
            return snapshot, 0

    @contextlib.contextmanager
    def _commit(self) -> Iterator[State]:
        """The state to write on, while no other store of these files writes; StateConflict if
        another writer moved the state since this store last read or wrote it."""
        state = self._loaded()
        fd = self._journal_fd()
        fcntl.flock(fd, fcntl.LOCK_EX)  # held for one write: microseconds, or one snapshot
        try:
            now = self._signature()
            if now != self._seen:
                disk, has_snapshot, lines, clean = self._read_disk()
                if (disk.lineage, disk.serial) != (state.lineage, state.serial):
                    raise StateConflict(self.describe(), state.serial, disk.serial)
                # The same serial (e.g. another store compacted it): carry on from the files.
                self._has_snapshot, self._journal_lines, self._journal_clean = has_snapshot, lines, clean
                self._seen = now
            yield state
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    # -- writing ----------------------------------------------------------------------
    def _record(self, op: str, payload: dict[str, Any]) -> int:
        with self._commit() as state:
            if not self._has_snapshot or not self._journal_clean:
                # Persist the lineage first / drop a torn tail, so appended lines always follow the snapshot.
                self._write_snapshot(state)
            data = journal.encode(journal.entry(state, op, payload))
            fd = self._journal_fd()
            if self.durable:
                self._syncer.check()  # a failed sync fails this put before its line is written
            try:
                write_all(fd, data)
                if self.durable:
                    self._syncer.written(fd)
            except OSError:
                self._journal_clean = False  # part of the line may be there: compact before the next one
                raise
            snapshot, size = self._seen
            self._seen = snapshot, size + len(data)
            # Apply what was written, as replay will: memory then equals disk (e.g. tuples -> lists).
            journal.apply(state, json.loads(data))
            self._journal_lines += 1
            # Compacting after max(100, n) lines costs O(n) per O(n) puts: O(1) amortised per put.
            if self._journal_lines > max(self.min_compact, len(state.resources)):
                self._write_snapshot(state)
            return state.serial

    def _journal_fd(self) -> int:
        if self._fd is None:
            ensure_dir(self.journal_path.parent)
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def write(self, state: State, keep_serial: bool = False) -> None:
        with self._mu, self._commit() as current:
            if self._journal_lines or not self._journal_clean:
                self._write_snapshot(current)  # the old state is whole on disk before we replace it
            new = copy.deepcopy(state)
            if not keep_serial:
                new.serial = max(current.serial, state.serial) + 1
            self._write_snapshot(new)
            self._state = new

    def compact(self) -> None:
        with self._mu:
            state = self._loaded()
            if self._journal_lines == 0 and self._journal_clean and (self._has_snapshot or state.serial == 0):
                return  # nothing to fold; and never create files for an untouched state
            with self._commit():
                self._write_snapshot(state)

    def _write_snapshot(self, state: State) -> None:
        """Atomically make state.json hold state, keep the old one as .backup, empty the journal."""
        data = _dump_state(state.to_json())
        import tempfile  # only when writing: a read-only command does without

        ensure_dir(self.path.parent)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=temp_prefix(self.path), suffix=".tmp")
        try:
            try:
                write_all(fd, data)
                if self.durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            if self._has_snapshot or self.path.exists():
                self._backup()
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if self.durable:
            fsync_dir(self.path.parent)  # the rename is on disk before the journal is emptied
        # Emptied in place (not replaced) so an open O_APPEND descriptor keeps working.
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
        elif self.journal_path.exists():
            os.truncate(self.journal_path, 0)
        self._has_snapshot, self._journal_lines, self._journal_clean = True, 0, True
        self._seen = self._signature()
        sweep(self.path)

    def _backup(self) -> None:
        tmp = self.path.with_name(temp_prefix(self.path) + "backup.tmp")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        try:
            os.link(self.path, tmp)  # O(1): the old inode lives on under the backup name
        except OSError:  # a filesystem without hard links
            import shutil

            shutil.copyfile(self.path, tmp)
            os.chmod(tmp, 0o600)
        os.replace(tmp, self.backup_path)
        # rename() is a no-op when both names are links to one inode (a crash left the backup
        # linked to state.json), which would leave tmp behind.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)

    def close(self) -> None:
        with self._mu:
            if self._fd is not None:
                self._syncer.release()
                os.close(self._fd)
                self._fd = None

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # type: ignore[arg-type]


def _decode(line: bytes) -> Any:
    """The JSON value of a journal line, None if it is not JSON (replay checks the rest)."""
    try:
        return json.loads(line)
    except ValueError:
        return None
