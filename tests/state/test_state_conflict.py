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
    assert (
        st.serial == 2
        and st.resources["dataset.x"].attributes == {"n": 2}
        and sorted(st.resources) == ["dataset.x"]
    )
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


def test_an_apply_whose_lock_was_force_unlocked_stops_with_a_clear_error(tmp_path: Path) -> None:
    """The user's path: an apply hangs in a create, someone force-unlocks it and changes the
    state; when the create returns, the stale apply's write is refused, without a traceback."""
    import json
    import os
    import subprocess
    import sys
    import time

    from state_helpers import ROOT

    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "mlops.yaml").write_text(
        "project: t\nresources:\n  dataset:\n"
        "    a: {uri: a.csv, format: csv}\n    slow: {uri: a.csv, format: csv}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
        "MLOPS_LOCAL_FAULTS": json.dumps([{"op": "create", "name": "slow", "mode": "hang", "seconds": 6}]),
    }

    def cli(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mlops_decl", *args], cwd=tmp_path, capture_output=True, text=True, **kw
        )

    stale = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", "apply", "--auto-approve", "--parallelism", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        backend = open_state_backend(tmp_path, {})
        deadline = time.monotonic() + 60
        while "dataset.a" not in backend.store.read().resources:  # a made, slow hanging
            assert stale.poll() is None and time.monotonic() < deadline, stale.communicate()
            time.sleep(0.1)
        holder = backend.lock().holder()
        assert holder is not None and holder.operation == "apply"
        env.pop("MLOPS_LOCAL_FAULTS")
        assert cli("force-unlock", holder.id, "--force", env=env).returncode == 0
        removed = cli("state", "rm", "dataset.a", env=env)
        assert removed.returncode == 0, removed.stderr
        out, err = stale.communicate(timeout=120)
    finally:
        if stale.poll() is None:
            stale.kill()
            stale.communicate()
    assert stale.returncode == 1, out + err
    assert "changed by another writer" in err and "Traceback" not in err, err
    st = backend.store.read()
    assert sorted(st.resources) == []  # the state rm stands; the stale write did not land
