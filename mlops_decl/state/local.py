"""The local backend's store: `<project>/.mlops/state.json` plus a journal.

Why a journal: rewriting the whole state after every resource makes a large apply quadratic
(hashicorp/terraform#35113). Instead `state.json` is a snapshot and `state.journal` an
append-only JSONL of the operations since, one line per put. Lines carry the snapshot's
lineage and consecutive serials, so replay is idempotent: after a crash between replacing the
snapshot and truncating the journal, lines already folded in (serial <= snapshot's) are skipped.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from mlops_decl.state.fsutil import ensure_dir, fsync_dir, sweep, temp_prefix, write_all
from mlops_decl.state.group_commit import GroupCommit
from mlops_decl.state.local_lock import LocalLock, lock_path_for
from mlops_decl.state.model import ResourceState, State, StateError

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


class LocalStateStore:
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
            try:
                state = State.from_json(json.loads(raw))
            except ValueError as exc:  # includes JSONDecodeError, not StateError
                raise StateError(
                    f"{self.path} is not valid JSON ({exc}); "
                    f"{self.backup_path.name} beside it holds the previous version"
                ) from None
            except StateError as exc:
                raise StateError(f"{self.path}: {exc}") from None
        self._state, self._has_snapshot = state, raw is not None
        self._replay(state)

    def _replay(self, state: State) -> None:
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            raw = b""
        lines = raw.split(b"\n")
        tail = lines.pop()  # b"" unless the last write was cut short
        clean, applied, expected = tail == b"", False, state.serial + 1
        for n, line in enumerate(lines):
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict):
                if n == len(lines) - 1:
                    clean = False  # garbage at the end (power loss without fsync): ignore it
                    break
                raise StateError(f"{self.journal_path} line {n + 1} is corrupt; the state cannot be read")
            serial = entry.get("serial")
            if entry.get("lineage") != state.lineage:
                clean = False  # left over from another state (e.g. state.json restored by hand)
                break
            if not applied and isinstance(serial, int) and serial <= state.serial:
                continue  # already folded into the snapshot
            if serial != expected:
                clean = False
                break
            self._apply(state, entry)
            applied, expected = True, expected + 1
        self._journal_lines = len(lines) + (tail != b"")
        self._journal_clean = clean

    def _apply(self, state: State, entry: dict[str, Any]) -> None:
        op = entry.get("op")
        try:
            if op == "put":
                state.resources[entry["address"]] = ResourceState.from_json(
                    entry["address"], entry["resource"]
                )
            elif op == "rm":
                state.resources.pop(entry["address"], None)
            elif op == "outputs":
                state.outputs = entry["outputs"]
            else:
                raise StateError(f"unknown journal operation {op!r} (written by a newer mlops-decl?)")
        except KeyError as exc:
            raise StateError(f"{self.journal_path}: a `{op}` line has no {exc}") from None
        state.serial = entry["serial"]

    # -- writing ----------------------------------------------------------------------
    def put_resource(self, rs: ResourceState) -> int:
        with self._mu:
            return self._record("put", {"address": rs.address, "resource": rs.to_json()})

    def remove_resource(self, address: str) -> int:
        with self._mu:
            state = self._loaded()
            if address not in state.resources:
                return state.serial  # nothing to forget: no write
            return self._record("rm", {"address": address})

    def set_outputs(self, outputs: dict[str, dict[str, Any]]) -> int:
        with self._mu:
            return self._record("outputs", {"outputs": outputs})

    def _record(self, op: str, payload: dict[str, Any]) -> int:
        state = self._loaded()
        if not self._has_snapshot or not self._journal_clean:
            # Persist the lineage first / drop a torn tail, so appended lines always follow the snapshot.
            self._write_snapshot(state)
        entry = {"serial": state.serial + 1, "lineage": state.lineage, "op": op, **payload}
        try:
            # NaN/Infinity are allowed (metrics can be NaN): refusing would lose a created object.
            text = json.dumps(entry, separators=(",", ":")) + "\n"
        except (TypeError, ValueError) as exc:
            raise StateError(f"cannot record `{op}` in the state: a value is not JSON ({exc})") from None
        fd = self._journal_fd()
        if self.durable:
            self._syncer.check()  # a failed sync fails this put before its line is written
        try:
            write_all(fd, text.encode())
            if self.durable:
                self._syncer.written(fd)
        except OSError:
            self._journal_clean = False  # part of the line may be there: compact before the next one
            raise
        # Apply what was written, as replay will: memory then equals disk (e.g. tuples -> lists).
        self._apply(state, json.loads(text))
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
        with self._mu:
            current = self._loaded()
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
            self._write_snapshot(state)

    def _write_snapshot(self, state: State) -> None:
        """Atomically make state.json hold state, keep the old one as .backup, empty the journal."""
        data = _dump_state(state.to_json())
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
        sweep(self.path)

    def _backup(self) -> None:
        tmp = self.path.with_name(temp_prefix(self.path) + "backup.tmp")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        try:
            os.link(self.path, tmp)  # O(1): the old inode lives on under the backup name
        except OSError:  # a filesystem without hard links
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
