"""Named locks on a state backend (one promotion of a model at a time, one on_drift decision of a
monitor), Lock.acquire(timeout) and holder(), through open_state_backend as the engine uses them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from state_helpers import ROOT

from mlops_decl.state import LockHeld, LockInfo, holding, open_state_backend

HOLDER = """
import sys, time
from pathlib import Path
from mlops_decl.state import holding, open_state_backend
backend = open_state_backend(Path(sys.argv[1]), {})
lock = backend.lock(sys.argv[2]) if sys.argv[2] != "-" else backend.lock()
with holding(lock, "promote"):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def _hold(procs: list, root: Path, name: str, seconds: float) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), name, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    procs.append(p)
    assert p.stdout is not None and p.stdout.readline() == "held\n"
    return p


def test_a_named_lock_excludes_other_processes_and_names_its_holder(tmp_path: Path, procs) -> None:
    p = _hold(procs, tmp_path, "promotion/model.churn", 30)
    backend = open_state_backend(tmp_path, {})
    lock = backend.lock("promotion/model.churn")
    holder = lock.holder()
    assert holder is not None and holder.pid == p.pid and holder.operation == "promote"
    with pytest.raises(LockHeld) as held:
        lock.acquire(LockInfo.new("promote", lock.describe()))
    assert held.value.holder.id == holder.id and "force-unlock" in str(held.value)
    # other names and the state lock are separate locks
    with holding(backend.lock("promotion/model.other"), "promote"), holding(backend.lock(), "apply"):
        pass
    p.kill()
    p.wait()
    assert lock.holder() is None  # a dead holder holds nothing
    with holding(lock, "promote") as info:
        assert lock.holder() == info


def test_acquire_waits_up_to_its_timeout(tmp_path: Path, procs) -> None:
    lock = open_state_backend(tmp_path, {}).lock("promotion/model.churn")
    _hold(procs, tmp_path, "promotion/model.churn", 1.0)
    t0 = time.monotonic()
    with pytest.raises(LockHeld, match=r"waited 0.3s"):
        lock.acquire(LockInfo.new("promote", "x"), timeout=0.3)
    assert 0.3 <= time.monotonic() - t0 < 0.9
    lock.acquire(LockInfo.new("promote", "x"), timeout=20)  # the holder lets go after 1 s
    assert time.monotonic() - t0 < 10
    lock.release()


def test_the_state_lock_waits_too(tmp_path: Path, procs) -> None:
    _hold(procs, tmp_path, "-", 0.5)
    lock = open_state_backend(tmp_path, {}).lock()
    assert lock.holder() is not None
    with holding(lock, "apply", timeout=20):
        pass
    assert lock.holder() is None


def test_named_locks_are_scoped_to_their_state(tmp_path: Path) -> None:
    prod = open_state_backend(tmp_path, {"path": "envs/prod.json"}).lock("promotion/model.churn")
    dev = open_state_backend(tmp_path, {"path": "envs/dev.json"}).lock("promotion/model.churn")
    with holding(prod, "promote"), holding(dev, "promote"):
        pass
    for bad in ("", "/abs", "a/../b"):
        with pytest.raises(ValueError):
            open_state_backend(tmp_path, {}).lock(bad)


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops_decl", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )


def test_lock_timeout_on_the_command_line(tmp_path: Path, procs) -> None:
    (tmp_path / "mlops.yaml").write_text("project: t\n")
    holder = _hold(procs, tmp_path, "-", 600)
    refused = _cli(tmp_path, "plan")
    assert refused.returncode == 1 and "the state is locked" in refused.stderr
    assert "-lock-timeout" in refused.stderr and "Traceback" not in refused.stderr
    short = _cli(tmp_path, "plan", "-lock-timeout", "200ms")
    assert short.returncode == 1 and "waited 0.2s" in short.stderr
    waiting = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", "plan", "-lock-timeout", "5m"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )
    procs.append(waiting)
    lock = open_state_backend(tmp_path, {}).lock()
    time.sleep(1.0)
    assert waiting.poll() is None and lock.holder() is not None  # still waiting
    holder.kill()  # the holder goes away: the waiting plan takes the lock
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0 and "No changes" in out, err
    bad = _cli(tmp_path, "state", "rm", "dataset.x", "--lock-timeout", "soon")
    assert bad.returncode == 2 and "not a duration" in bad.stderr
