"""The s3 backend's store: a snapshot object `KEY` and a journal of one object per change,
`KEY.journal/<slot>`, in a versioned bucket.

Slot n holds the change made on top of serial n-1 (state/journal.py's entries; a `state push`
is a `replace` entry holding the whole new state). Each is created with If-None-Match: *, so
of two writers that read serial n-1 only one creates slot n: that put is the write's
serial check. Compaction writes the snapshot (If-Match on the ETag last read, If-None-Match
for the first) and then deletes the slots it folded in, for good (their versions, so no delete
markers pile up). A writer whose read predates a compaction could find its slot free again;
so after creating its slot it compares the snapshot with the one it read, and a snapshot
newer than its read means its write was refused (StateConflict; the entry, below the
snapshot's serial, is ignored by every reader and deleted by the next compaction).
Puts cost two requests (create the slot, look at the snapshot), reads one per unfolded entry.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from mlops_decl.state import journal
from mlops_decl.state.model import State, StateError
from mlops_decl.state.s3.remote import Precondition, Remote, S3BackendError
from mlops_decl.state.store import StateConflict


class S3StateStore(journal.Recorder):
    """StateStore in a bucket. Thread-safe."""

    def __init__(self, remote: Remote, min_compact: int = 100):
        self.remote = remote
        self.key = remote.key
        self.journal_prefix = f"{remote.key}.journal/"
        self.min_compact = min_compact
        self._mu = threading.Lock()
        self._state: State | None = None
        self._etag: str | None = None  # the snapshot as this store last read or wrote it
        self._pending = 0  # journal entries past the snapshot
        self._checked = False

    @property
    def path(self) -> str:
        return f"s3://{self.remote.bucket}/{self.key}"

    def describe(self) -> str:
        return f"s3 state {self.path}"

    def _slot(self, n: int) -> str:
        return f"{self.journal_prefix}{n:012d}"

    # -- reading ----------------------------------------------------------------------
    def read(self) -> State:
        with self._mu:
            self._state, self._etag, self._pending = self._fetch()
            return State.from_json(json.loads(json.dumps(self._state.to_json())))

    def _loaded(self) -> State:
        if self._state is None:
            self._state, self._etag, self._pending = self._fetch()
        return self._state

    def _fetch(self) -> tuple[State, str | None, int]:
        """(state, snapshot ETag or None, unfolded entries) as the bucket holds them now."""
        self._check_versioning()
        got = self.remote.get(self.key)
        if got is None:
            # No state yet: keep the lineage this store already handed out until it is written.
            state = State.new()
            if self._state is not None and self._etag is None:
                state.lineage = self._state.lineage
        else:
            try:
                state = State.from_json(json.loads(got.body))
            except (ValueError, StateError) as exc:
                raise StateError(
                    f"{self.path} is not a state ({exc}); the bucket keeps its earlier versions: "
                    "restore one with `state push`"
                ) from None
        keys = self.remote.keys(self.journal_prefix, start_after=self._slot(state.serial))
        bodies = dict(zip(keys, self.remote.bodies(keys), strict=True))
        state, folded = self._fold(state, bodies, fresh=got is None)
        return state, got.etag if got else None, folded

    def _fold(self, state: State, bodies: dict[str, bytes | None], fresh: bool) -> tuple[State, int]:
        """state with the entries that follow it, slot by slot."""
        folded = 0
        while (body := bodies.get(self._slot(state.serial + 1))) is not None:
            where = f"s3://{self.remote.bucket}/{self._slot(state.serial + 1)}"
            try:
                e = json.loads(body)
            except ValueError:
                e = None
            if not isinstance(e, dict):
                raise StateError(f"the state journal entry {where} is corrupt; the state cannot be read")
            if e.get("op") == "replace":
                state = State.from_json(e["state"])
            else:
                if fresh and not folded and state.serial == 0:
                    state.lineage = e.get("lineage", state.lineage)  # the first write made no snapshot
                if e.get("lineage") != state.lineage or e.get("serial") != state.serial + 1:
                    raise StateError(
                        f"the state journal entry {where} does not follow the state (serial "
                        f"{state.serial}, lineage {state.lineage}); was the state object replaced by hand?"
                    )
                journal.apply(state, e, where)
            folded += 1
        return state, folded

    def _check_versioning(self) -> None:
        if self._checked:
            return
        status = self.remote.versioning()
        if status != "Enabled":
            b = self.remote.bucket
            raise S3BackendError(
                f"the bucket `{b}` does not keep versions (versioning is {status}), so an overwritten "
                "state could not be recovered; the s3 backend refuses to use it",
                hint=f"turn versioning on: aws s3api put-bucket-versioning --bucket {b} "
                "--versioning-configuration Status=Enabled",
            )
        self._checked = True

    # -- writing ----------------------------------------------------------------------
    def _record(self, op: str, payload: dict[str, Any]) -> int:
        state = self._loaded()
        data = journal.encode(journal.entry(state, op, payload))
        self._claim(state, data)
        journal.apply(state, json.loads(data), str(self.path))  # as replay will: memory equals the bucket
        self._pending += 1
        # Compacting after max(100, n) entries costs O(n) per O(n) puts: O(1) amortised per put.
        if self._pending > max(self.min_compact, len(state.resources)):
            self._compact(state)
        return state.serial

    def _claim(self, state: State, data: bytes) -> None:
        """Create the slot after state's serial; StateConflict if the state moved on."""
        if not self.remote.create(self._slot(state.serial + 1), data):
            raise self._conflict(state)
        head = self.remote.head(self.key)
        if (head.etag if head else None) != self._etag:
            if head is None or _serial(head.metadata) > state.serial:
                raise self._conflict(state)
            self._etag = head.etag  # compacted by another store at a serial this one holds

    def _conflict(self, state: State) -> StateConflict:
        found = self._fetch()[0].serial
        return StateConflict(self.describe(), state.serial, found)

    def write(self, state: State, keep_serial: bool = False) -> None:
        with self._mu:
            current = self._loaded()
            new = copy.deepcopy(state)
            if not keep_serial:
                new.serial = max(current.serial, state.serial) + 1
            elif new.serial <= current.serial:
                raise StateError(f"cannot keep serial {new.serial}: the state is at {current.serial} already")
            entry = {"serial": new.serial, "lineage": new.lineage, "op": "replace", "state": new.to_json()}
            self._claim(current, journal.encode(entry))
            self._state, self._pending = new, self._pending + 1
            self._compact(new, newer_is_conflict=False)

    def compact(self) -> None:
        with self._mu:
            state = self._loaded()
            if self._pending == 0 and (self._etag is not None or state.serial == 0):
                return  # nothing to fold; and never create objects for an untouched state
            if self.remote.head(self._slot(state.serial + 1)) is not None:
                raise self._conflict(state)  # written on by another store since this one's read
            self._compact(state)

    def _compact(self, state: State, newer_is_conflict: bool = True) -> None:
        """Make the snapshot hold state, then delete the entries it folds in."""
        body = (json.dumps(state.to_json(), separators=(",", ":")) + "\n").encode()
        meta = {"serial": str(state.serial), "lineage": state.lineage}
        etag = self._etag
        for _ in range(10):
            try:
                self._etag = self.remote.put(
                    self.key, body, if_match=etag, create=etag is None, metadata=meta
                )
                break
            except Precondition:
                head = self.remote.head(self.key)  # another store wrote the snapshot meanwhile
                etag = head.etag if head else None
                if head is not None and _serial(head.metadata) >= state.serial:
                    if newer_is_conflict and _serial(head.metadata) > state.serial:
                        raise self._conflict(state) from None
                    self._etag = head.etag  # it holds this state already (or, for a push, a later one)
                    break
        else:
            raise StateError(f"could not write {self.path}: it keeps changing")
        folded = [
            (k, v) for k, v in self.remote.versions(self.journal_prefix) if 0 <= _slot_of(k) <= state.serial
        ]
        self.remote.purge(folded)
        self._pending = 0


def _serial(metadata: dict[str, str]) -> int:
    try:
        return int(metadata.get("serial", ""))
    except ValueError:
        return -1


def _slot_of(key: str) -> int:
    try:
        return int(key.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        return -1
