"""The state journal's entries and their replay, whatever stores them.

An entry is one change: `{"serial": n, "lineage": ..., "op": "put" | "rm" | "outputs" | "audit", ...}`,
each the snapshot's next serial. The local backend appends them as JSON lines to one file; an
object-store backend can write one object per entry under its serial with a conditional put
(if-none-match), which is the serial-conditional write itself: of two writers that saw the
same serial, only one can create the object of the next. Replay folds entries into a
snapshot and is idempotent: entries the snapshot already holds (serial <= its serial) are
skipped, so a crash between writing a new snapshot and dropping the entries loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_decl.state.decode import StateFileError, journal_entry, journal_hint
from mlops_decl.state.model import ResourceState, State, StateError

if TYPE_CHECKING:
    import threading

Entry = dict[str, Any]


def entry(state: State, op: str, payload: dict[str, Any]) -> Entry:
    """The entry recording op on top of state (its serial is state's next)."""
    return {"serial": state.serial + 1, "lineage": state.lineage, "op": op, **payload}


def encode(e: Entry) -> bytes:
    """One JSON line. NaN/Infinity are allowed (metrics can be NaN): refusing would lose a
    created object."""
    try:
        return (json.dumps(e, separators=(",", ":")) + "\n").encode()
    except (TypeError, ValueError) as exc:
        raise StateError(f"cannot record `{e.get('op')}` in the state: a value is not JSON ({exc})") from None


def apply(state: State, e: Entry, where: str | None = None) -> None:
    """Change state as e says and take its serial; e is checked first when `where` names
    the file or object it came from (replay checks its entries itself)."""
    if where is not None:
        try:
            e = journal_entry(e)
        except StateError as exc:
            raise StateFileError(where, str(exc)) from None
    op = e["op"]
    if op == "put":
        state.resources[e["address"]] = ResourceState.from_json(e["address"], e["resource"])
    elif op == "rm":
        state.resources.pop(e["address"], None)
    elif op == "outputs":
        state.outputs = e["outputs"]
    else:  # "audit": the audit log's anchor only: what saved plans compare stays put
        base = state.content_serial()
        state.audit = {**e["audit"], "serial": e["serial"], "base": base}
    state.serial = e["serial"]


@dataclass
class Replayed:
    applied: int  # entries folded in
    clean: bool  # False: it stopped at an entry that does not follow (torn, foreign, a gap)


def replay(
    state: State, entries: Iterable[Any], where: str = "the state journal", unit: str = "entry"
) -> Replayed:
    """Fold entries (oldest first, as decoded JSON; None for one that is not JSON) into state.

    Replay stops, unclean, at the first entry of another lineage or out of sequence, and at an
    undecodable last entry (a write cut short); an undecodable entry before others, or one
    that decodes but is not an entry, is corruption and raises StateFileError."""
    items = list(entries)
    applied, expected = 0, state.serial + 1
    for n, raw in enumerate(items):
        if raw is None:
            if n == len(items) - 1:
                return Replayed(applied, False)
            raise StateFileError(
                where, "it is not valid JSON: the journal is corrupt", journal_hint(n + 1, unit), n + 1, unit
            )
        try:
            e = journal_entry(raw)
        except StateError as exc:
            raise StateFileError(where, str(exc), journal_hint(n + 1, unit), n + 1, unit) from None
        serial = e["serial"]
        if e.get("lineage") != state.lineage:
            return Replayed(applied, False)  # left over from another state (restored by hand)
        if not applied and serial <= state.serial:
            continue  # already folded into the snapshot
        if serial != expected:
            return Replayed(applied, False)
        apply(state, e)
        applied, expected = applied + 1, expected + 1
    return Replayed(applied, True)


class Recorder:
    """A StateStore's put_resource, remove_resource, set_outputs and record_audit, each one
    entry written by the store's `_record(op, payload)` while it holds `_mu`."""

    if TYPE_CHECKING:
        _mu: threading.Lock

        def _loaded(self) -> State: ...

        def _record(self, op: str, payload: dict[str, Any]) -> int: ...

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

    def record_audit(self, anchor: dict[str, Any]) -> int:
        with self._mu:
            state = self._loaded()
            recorded = state.audit or {}
            if (recorded.get("entries"), recorded.get("head")) == (anchor["entries"], anchor["head"]):
                return state.serial
            return self._record("audit", {"audit": {"entries": anchor["entries"], "head": anchor["head"]}})
