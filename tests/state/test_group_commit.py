"""The state journal's group commit: lines reach the disk within the interval, many lines share
one fdatasync, release() syncs what is left, and a failed sync is reported to the next writer."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from mlops_decl.state import group_commit
from mlops_decl.state.local import LocalStateStore
from mlops_decl.state.model import ResourceState


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    """(fd, time) of every fdatasync the group commit makes; the real call still runs."""
    seen: list[tuple[int, float]] = []
    lock = threading.Lock()
    real = group_commit._datasync

    def recording(fd: int) -> None:
        real(fd)
        with lock:
            seen.append((fd, time.monotonic()))

    monkeypatch.setattr(group_commit, "_datasync", recording)
    return seen


def _put(store: LocalStateStore, i: int) -> None:
    store.put_resource(ResourceState(f"dataset.d{i}", "dataset", "local", f"id{i}", {"n": i}, []))


def test_many_lines_share_a_sync_and_the_last_lands_within_the_interval(
    tmp_path: Path, syncs: list[tuple[int, float]]
) -> None:
    store = LocalStateStore(tmp_path / "state.json", min_compact=10_000)
    _put(store, 0)  # the first put writes the snapshot (lineage) and starts the journal
    time.sleep(0.2)
    before = len(syncs)
    for i in range(1, 300):
        _put(store, i)
    last_write = time.monotonic()
    deadline = last_write + 1.0
    while time.monotonic() < deadline and not any(t >= last_write for _, t in syncs):
        time.sleep(0.01)
    made = len(syncs) - before
    assert any(t >= last_write for _, t in syncs), "the last line was never synced"
    assert 1 <= made < 100, f"{made} syncs for 299 lines: not grouped"
    assert max(t for _, t in syncs) - last_write < 0.5
    store.close()


def test_release_syncs_what_is_left(tmp_path: Path, syncs: list[tuple[int, float]]) -> None:
    store = LocalStateStore(tmp_path / "state.json", min_compact=10_000)
    _put(store, 0)
    _put(store, 1)
    n = len(syncs)
    store.close()  # release() then close the descriptor
    assert len(syncs) > n
    reopened = LocalStateStore(tmp_path / "state.json")
    assert sorted(reopened.read().resources) == ["dataset.d0", "dataset.d1"]


def test_not_durable_never_syncs(tmp_path: Path, syncs: list[tuple[int, float]]) -> None:
    store = LocalStateStore(tmp_path / "state.json", durable=False, min_compact=10_000)
    for i in range(20):
        _put(store, i)
    time.sleep(0.15)
    store.close()
    assert syncs == []


def test_a_failed_sync_is_reported_to_the_next_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(group_commit, "_datasync", failing)
    gc = group_commit.GroupCommit(interval=0.01)
    r, w = os.pipe()
    try:
        gc.written(w)
        deadline = time.monotonic() + 2
        while gc._error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(OSError, match="Input/output error"):
            gc.check()
        gc.check()  # reported once
    finally:
        os.close(r)
        os.close(w)


def test_an_idle_syncer_keeps_no_thread_and_restarts_on_the_next_write(
    tmp_path: Path, syncs: list[tuple[int, float]]
) -> None:
    gc = group_commit.GroupCommit(interval=0.01, idle_exit=0.1)
    fd = os.open(tmp_path / "j", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, b"a\n")
        gc.written(fd)
        deadline = time.monotonic() + 3
        while gc._thread is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gc._thread is None, "the syncer thread outlived its idle time"
        assert len(syncs) == 1
        os.write(fd, b"b\n")
        gc.written(fd)
        deadline = time.monotonic() + 3
        while len(syncs) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(syncs) == 2, "the write after the idle exit was never synced"
    finally:
        gc.release()
        os.close(fd)


def test_a_failed_sync_fails_the_next_put_before_its_line_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStateStore(tmp_path / "state.json", min_compact=10_000)
    _put(store, 0)
    _put(store, 1)
    store._syncer.sync()

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(group_commit, "_datasync", failing)
    _put(store, 2)  # written; its background sync fails
    deadline = time.monotonic() + 2
    while store._syncer._error is None and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = (tmp_path / "state.journal").read_bytes().count(b"\n")
    with pytest.raises(OSError, match="Input/output error"):
        _put(store, 3)
    assert (tmp_path / "state.journal").read_bytes().count(b"\n") == lines
    monkeypatch.undo()
    store.close()
    reopened = LocalStateStore(tmp_path / "state.json").read()
    assert sorted(reopened.resources) == ["dataset.d0", "dataset.d1", "dataset.d2"]
