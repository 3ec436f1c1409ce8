from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_decl.state import (
    LocalLock,
    LocalStateStore,
    Lock,
    ResourceState,
    State,
    StateError,
    StateStore,
    open_backend,
)


def _rs(i: int | str, **attrs: object) -> ResourceState:
    return ResourceState(f"dataset.d{i}", "dataset", "local", f"id-{i}", {"n": i, **attrs}, [])


@pytest.fixture
def store(tmp_path: Path) -> LocalStateStore:
    return LocalStateStore(tmp_path / ".mlops" / "state.json")


def _reopen(store: LocalStateStore) -> LocalStateStore:
    return LocalStateStore(store.path, min_compact=store.min_compact)


def _journal_lines(store: LocalStateStore) -> list[str]:
    return store.journal_path.read_text().splitlines() if store.journal_path.exists() else []


def test_open_backend(tmp_path: Path) -> None:
    store, lock = open_backend(tmp_path, {})
    assert isinstance(store, StateStore) and isinstance(lock, Lock)
    assert isinstance(store, LocalStateStore) and isinstance(lock, LocalLock)
    assert store.path == tmp_path / ".mlops" / "state.json"
    assert lock.path == tmp_path / ".mlops" / "state.lock.json"
    assert "state.json" in store.describe()
    store, _ = open_backend(tmp_path, {"type": "local", "path": "envs/prod.json"})
    assert store.path == tmp_path / "envs" / "prod.json"
    with pytest.raises(StateError, match="`gcs` state backend is not available yet"):
        open_backend(tmp_path, {"type": "gcs", "bucket": "b"})
    with pytest.raises(StateError, match="unknown state backend type `ftp`"):
        open_backend(tmp_path, {"type": "ftp"})


def test_missing_state_is_empty_and_creates_nothing(store: LocalStateStore, tmp_path: Path) -> None:
    st = store.read()
    assert (st.serial, st.resources, st.outputs) == (0, {}, {})
    assert store.read().lineage == st.lineage  # stable while unwritten
    store.compact()
    store.remove_resource("dataset.nothing")
    assert not (tmp_path / ".mlops").exists()


def test_lineage_is_persisted_at_first_write_and_kept(store: LocalStateStore) -> None:
    lineage = store.read().lineage
    store.put_resource(_rs(1))
    assert json.loads(store.path.read_text())["lineage"] == lineage
    store.compact()
    for _ in range(150):  # through an automatic compaction too
        store.put_resource(_rs(2))
    assert _reopen(store).read().lineage == lineage


def test_serial_bumps_on_every_write(store: LocalStateStore) -> None:
    assert store.put_resource(_rs(1)) == 1
    assert store.put_resource(_rs(2)) == 2
    assert store.remove_resource("dataset.d1") == 3
    assert store.remove_resource("dataset.d1") == 3  # absent: no write
    assert store.set_outputs({"o": {"value": 1, "sensitive": False}}) == 4
    st = _reopen(store).read()
    assert st.serial == 4
    assert list(st.resources) == ["dataset.d2"]
    assert st.outputs == {"o": {"value": 1, "sensitive": False}}


def test_puts_go_to_the_journal_and_replay(store: LocalStateStore) -> None:
    for i in range(10):
        store.put_resource(_rs(i))
    assert len(_journal_lines(store)) == 10
    assert json.loads(store.path.read_text())["serial"] == 0  # snapshot untouched
    st = _reopen(store).read()
    assert st.serial == 10 and sorted(st.resources) == sorted(f"dataset.d{i}" for i in range(10))
    store.compact()
    assert _journal_lines(store) == []
    assert _reopen(store).read() == st


def test_torn_last_line_is_ignored_and_cleaned(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    store.put_resource(_rs(2))
    with open(store.journal_path, "ab") as f:
        f.write(b'{"serial":3,"lineage":"x","op":"pu')
    again = _reopen(store)
    st = again.read()
    assert st.serial == 2 and sorted(st.resources) == ["dataset.d1", "dataset.d2"]
    assert again.put_resource(_rs(3)) == 3  # the torn tail does not swallow the next line
    assert sorted(_reopen(store).read().resources) == ["dataset.d1", "dataset.d2", "dataset.d3"]


def test_corrupt_line_in_the_middle_is_an_error(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    store.put_resource(_rs(2))
    lines = _journal_lines(store)
    store.journal_path.write_text("{broken\n" + lines[1] + "\n")
    with pytest.raises(StateError, match="line 1: it is not valid JSON"):
        _reopen(store).read()


def test_crash_between_snapshot_and_journal_truncation(store: LocalStateStore) -> None:
    for i in range(5):
        store.put_resource(_rs(i))
    old_journal = store.journal_path.read_bytes()
    store.compact()
    store.journal_path.write_bytes(old_journal)  # as if truncate never happened
    again = _reopen(store)
    assert again.read() == store.read()
    assert again.put_resource(_rs(9)) == 6
    assert _reopen(store).read().serial == 6


def test_stale_journal_from_a_restored_snapshot_is_ignored(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    store.compact()
    store.put_resource(_rs(2))
    store.put_resource(_rs(3))
    store.compact()  # backup now holds serial 1
    store.put_resource(_rs(4))
    os.replace(store.backup_path, store.path)  # the user restores the backup by hand
    again = _reopen(store)
    assert again.read().serial == 1 and list(again.read().resources) == ["dataset.d1"]
    assert again.put_resource(_rs(5)) == 2
    assert sorted(_reopen(store).read().resources) == ["dataset.d1", "dataset.d5"]


def test_compaction_keeps_the_previous_snapshot_as_backup(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    store.compact()
    before = store.path.read_text()
    store.put_resource(_rs(2))
    store.compact()
    assert store.backup_path.read_text() == before
    assert json.loads(store.path.read_text())["serial"] == 2
    store.compact()  # nothing new: no rewrite, the backup stays the previous version
    assert store.backup_path.read_text() == before


def test_temp_files_of_dead_processes_are_swept(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = store.path.with_name(f".state.json.{dead.pid}.x1y2.tmp")
    live = store.path.with_name(f".state.json.{os.getppid()}.x1y2.tmp")
    leftover.write_text("{")
    live.write_text("{")
    store.put_resource(_rs(2))
    store.compact()
    assert not leftover.exists() and live.exists()


def test_backup_already_linked_to_snapshot(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    store.compact()
    os.unlink(store.backup_path)
    os.link(store.path, store.backup_path)  # a crash right after the backup link
    store.put_resource(_rs(2))
    store.compact()
    assert not [n for n in os.listdir(store.path.parent) if n.endswith(".tmp")]
    assert json.loads(store.backup_path.read_text())["serial"] == 1


def test_journal_is_compacted_automatically(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "state.json", durable=False)
    for i in range(250):
        store.put_resource(_rs(i % 10))
    assert len(_journal_lines(store)) <= 100
    for i in range(500):
        store.put_resource(_rs(i))
    assert len(_journal_lines(store)) <= 500  # max(100, resources)
    assert _reopen(store).read().serial == 750


def test_files_and_directory_are_owner_only(store: LocalStateStore, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store.put_resource(_rs(1))
        store.compact()
        store.put_resource(_rs(2))
        lock = LocalLock(tmp_path / ".mlops" / "state.lock.json")
        from mlops_decl.state import LockInfo

        lock.acquire(LockInfo.new("apply", store.path))
        mlops = tmp_path / ".mlops"
        assert stat.S_IMODE(mlops.stat().st_mode) == 0o700
        for p in mlops.iterdir():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        lock.release()
    finally:
        os.umask(old)


def test_write_replaces_atomically_and_bumps_serial(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    store.put_resource(_rs(2))
    incoming = State.new()
    incoming.serial = 1
    incoming.resources["dataset.x"] = _rs("x")
    store.write(incoming)
    st = _reopen(store).read()
    assert st.serial == 3 and list(st.resources) == ["dataset.x"] and st.lineage == incoming.lineage
    backup = State.from_json(json.loads(store.backup_path.read_text()))
    assert sorted(backup.resources) == ["dataset.d1", "dataset.d2"]  # the journaled puts too
    incoming.serial = 42
    store.write(incoming, keep_serial=True)
    assert _reopen(store).read().serial == 42
    assert store.put_resource(_rs(3)) == 43


def test_read_returns_a_copy_and_put_copies(store: LocalStateStore) -> None:
    rs = _rs(1, tags={"a": 1})
    store.put_resource(rs)
    rs.attributes["tags"]["a"] = 2
    st = store.read()
    st.resources["dataset.d1"].attributes["n"] = 99
    st.resources.clear()
    assert store.read().resources["dataset.d1"].attributes == {"n": 1, "tags": {"a": 1}}


def test_non_json_attribute_is_refused_without_change(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    with pytest.raises(StateError, match="not JSON"):
        store.put_resource(_rs(2, bad=object()))
    assert store.read().serial == 1
    assert _reopen(store).read().serial == 1


def test_newer_state_on_disk_is_refused(store: LocalStateStore) -> None:
    store.put_resource(_rs(1))
    store.compact()
    data = json.loads(store.path.read_text())
    data["format_version"] = 99
    store.path.write_text(json.dumps(data))
    with pytest.raises(StateError, match="upgrade mlops-decl"):
        _reopen(store).read()


def test_concurrent_puts_from_threads(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "state.json", durable=False, min_compact=20)
    serials: list[int] = []
    mu = threading.Lock()

    def work(t: int) -> None:
        for i in range(100):
            s = store.put_resource(_rs(f"{t}_{i}"))
            with mu:
                serials.append(s)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(serials) == list(range(1, 801))
    st = _reopen(store).read()
    assert st.serial == 800 and len(st.resources) == 800


def _time_puts(path: Path, n: int, durable: bool, clock: Callable[[], float] = time.perf_counter) -> float:
    store = LocalStateStore(path, durable=durable)
    attrs = {"uri": "s3://bucket/some/longish/path.parquet", "schema": {f"c{i}": "float" for i in range(20)}}
    t = clock()
    for i in range(n):
        store.put_resource(ResourceState(f"dataset.d{i}", "dataset", "local", f"id{i}", attrs, ["x.y"]))
    store.compact()
    return clock() - t


def test_puts_are_linear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # CPU time: the shape of the cost, not how busy the machine is (durable=False: no sync thread)
    cpu = time.process_time
    t1000 = min(_time_puts(tmp_path / f"a{k}" / "state.json", 1000, False, cpu) for k in range(3))
    t2000 = min(_time_puts(tmp_path / f"b{k}" / "state.json", 2000, False, cpu) for k in range(3))
    durable = _time_puts(tmp_path / "c" / "state.json", 1000, True)
    with capsys.disabled():
        print(
            f"\n[state] 1000 puts: {t1000:.3f}s CPU (durable: {durable:.3f}s wall); "
            f"2000 puts: {t2000:.3f}s CPU"
        )
    assert t2000 < 3 * t1000
