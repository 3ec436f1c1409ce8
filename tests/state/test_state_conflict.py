"""Writes are conditional on the serial the writer last saw (local backend): a writer whose lock
was force-unlocked, or that never read what another wrote, is refused instead of overwriting."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_decl.state import LockInfo, ResourceState, State, StateConflict, open_state_backend


def _rs(name: str, **attrs: object) -> ResourceState:
    return ResourceState(f"dataset.{name}", "dataset", "local", name, dict(attrs), [])


def test_a_force_unlocked_writers_next_write_is_refused(tmp_path: Path) -> None:
    a, b = open_state_backend(tmp_path, {}), open_state_backend(tmp_path, {})
    mine = LockInfo.new("apply", "a")
    a.lock().acquire(mine)
    a.store.read()
    a.store.put_resource(_rs("x", n=1))
    # someone decides a's apply is stuck, unlocks it and applies
    b.lock().force_unlock(mine.id)
    b.lock().acquire(LockInfo.new("apply", "b"))
    assert b.store.read().resources["dataset.x"].attributes == {"n": 1}
    b.store.put_resource(_rs("x", n=2))
    for stale in (
        lambda: a.store.put_resource(_rs("x", n=3)),
        lambda: a.store.put_resource(_rs("y")),
        lambda: a.store.remove_resource("dataset.x"),
        lambda: a.store.set_outputs({}),
        lambda: a.store.write(State.new()),
    ):
        with pytest.raises(StateConflict) as refused:
            stale()
        assert (refused.value.expected, refused.value.found) == (1, 2)
        assert "changed by another writer" in str(refused.value) and "force-unlocked" in str(refused.value)
    b.store.compact()
    b.lock().release()
    st = open_state_backend(tmp_path, {}).store.read()
    assert st.serial == 2 and st.resources["dataset.x"].attributes == {"n": 2} and sorted(st.resources) == [
        "dataset.x"
    ]
    # once it has read the state again, the same store writes on top of it
    a.store.read()
    assert a.store.put_resource(_rs("y")) == 3


def test_a_writer_refused_even_after_the_other_compacted(tmp_path: Path) -> None:
    a, b = open_state_backend(tmp_path, {}).store, open_state_backend(tmp_path, {}).store
    a.put_resource(_rs("x"))
    b.read()
    b.put_resource(_rs("y"))
    b.compact()  # the journal is empty again: its length alone would not tell
    with pytest.raises(StateConflict):
        a.put_resource(_rs("z"))
    with pytest.raises(StateConflict):
        a.compact()  # folding its stale copy in would drop dataset.y


def test_two_new_stores_cannot_both_start_the_state(tmp_path: Path) -> None:
    a, b = open_state_backend(tmp_path, {}).store, open_state_backend(tmp_path, {}).store
    a.read(), b.read()
    a.put_resource(_rs("x"))
    with pytest.raises(StateConflict):
        b.put_resource(_rs("y"))  # its state of serial 0 is another lineage, never written


def test_a_compaction_by_another_store_is_no_conflict(tmp_path: Path) -> None:
    a, b = open_state_backend(tmp_path, {}).store, open_state_backend(tmp_path, {}).store
    a.put_resource(_rs("x"))
    b.read()
    b.compact()  # same serial, files rewritten
    assert a.put_resource(_rs("y")) == 2
    assert sorted(b.read().resources) == ["dataset.x", "dataset.y"]
