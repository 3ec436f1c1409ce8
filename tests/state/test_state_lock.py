from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from state_helpers import spawn

from mlops_decl.state import LocalLock, LockHeld, LockInfo, StateError


def _lock_file(tmp_path: Path) -> Path:
    return tmp_path / ".mlops" / "state.lock.json"


def _hold(procs: list[subprocess.Popen[str]], path: Path) -> tuple[subprocess.Popen[str], str]:
    p = spawn("hold", str(path))
    procs.append(p)
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line.startswith("held "), line
    return p, line.split()[1]


def test_acquire_release_and_context_manager(tmp_path: Path) -> None:
    lock = LocalLock(_lock_file(tmp_path))
    info = LockInfo.new("apply", tmp_path / "state.json")
    with lock(info):
        assert json.loads(lock.path.read_text())["id"] == info.id
        with pytest.raises(LockHeld):
            LocalLock(lock.path).acquire(LockInfo.new("plan", "x"))
    assert not lock.path.exists()
    lock.acquire(LockInfo.new("apply", "x"))  # reusable
    lock.release()
    lock.release()  # releasing twice is harmless


def test_lock_held_by_live_process_names_holder(tmp_path: Path, procs: list[subprocess.Popen[str]]) -> None:
    p, lock_id = _hold(procs, _lock_file(tmp_path))
    with pytest.raises(LockHeld) as err:
        LocalLock(_lock_file(tmp_path)).acquire(LockInfo.new("plan", "x"))
    holder = err.value.holder
    assert (holder.id, holder.pid, holder.operation, holder.host) == (
        lock_id,
        p.pid,
        "apply",
        socket.gethostname(),
    )
    msg = str(err.value)
    assert holder.who in msg and "`apply`" in msg and holder.created in msg
    assert f"mlops-decl force-unlock {lock_id}" in msg


def test_lock_of_killed_holder_is_taken_over(tmp_path: Path, procs: list[subprocess.Popen[str]]) -> None:
    p, old_id = _hold(procs, _lock_file(tmp_path))
    p.send_signal(signal.SIGKILL)
    p.wait()
    lock = LocalLock(_lock_file(tmp_path))
    info = LockInfo.new("apply", "x")
    lock.acquire(info)
    assert json.loads(lock.path.read_text())["id"] == info.id != old_id
    lock.release()


def _record(path: Path, host: str, pid: int) -> LockInfo:
    info = LockInfo.new("apply", "x")
    info.host, info.pid = host, pid
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info.to_json()))
    return info


def test_lock_record_with_dead_pid_is_stale(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    _record(_lock_file(tmp_path), socket.gethostname(), dead.pid)
    lock = LocalLock(_lock_file(tmp_path))
    lock.acquire(LockInfo.new("apply", "x"))
    lock.release()


def test_lock_from_another_host_stays_until_force_unlock(tmp_path: Path) -> None:
    other = _record(_lock_file(tmp_path), "some-other-host", 1)
    lock = LocalLock(_lock_file(tmp_path))
    with pytest.raises(LockHeld) as err:
        lock.acquire(LockInfo.new("apply", "x"))
    assert err.value.holder.id == other.id
    with pytest.raises(StateError, match="does not match"):
        lock.force_unlock("wrong-id")
    assert lock.path.exists()
    lock.force_unlock(other.id)
    assert not lock.path.exists()
    with pytest.raises(StateError, match="not locked"):
        lock.force_unlock(other.id)
    lock.acquire(LockInfo.new("apply", "x"))
    lock.release()


def test_release_after_force_unlock_keeps_the_new_holders_lock(tmp_path: Path) -> None:
    a, b = LocalLock(_lock_file(tmp_path)), LocalLock(_lock_file(tmp_path))
    ia, ib = LockInfo.new("apply", "x"), LockInfo.new("apply", "x")
    a.acquire(ia)
    LocalLock(_lock_file(tmp_path)).force_unlock(ia.id)
    b.acquire(ib)
    a.release()
    assert json.loads(b.path.read_text())["id"] == ib.id
    b.release()


def test_unreadable_lock_file_is_reported(tmp_path: Path) -> None:
    path = _lock_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("not json")
    with pytest.raises(StateError, match="unreadable"):
        LocalLock(path).acquire(LockInfo.new("apply", "x"))


@pytest.mark.parametrize("stale", [False, True])
def test_two_processes_race_and_exactly_one_wins(tmp_path: Path, stale: bool) -> None:
    for trial in range(10):
        path = tmp_path / str(trial) / "state.lock.json"
        if stale:  # both racers find a dead holder's record and try to take it over
            _record(path, socket.gethostname(), 2**22 + 12345)
        start = time.time() + 0.25
        racers = [spawn("race", str(path), str(start), stdin=True) for _ in range(2)]
        try:
            results = sorted(r.stdout.readline().strip() for r in racers if r.stdout)
            assert results == ["held", "won"], (trial, results)
        finally:
            for r in racers:
                if r.stdin:
                    r.stdin.close()
                r.wait(10)
                if r.stdout:
                    r.stdout.close()
        assert not path.exists()  # the winner released before exiting
