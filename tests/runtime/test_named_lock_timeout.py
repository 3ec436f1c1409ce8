"""`promote` and `monitor check` wait for their named locks (a model's promotion, a monitor's
on_drift decision) as long as -lock-timeout says, as the state-locking commands do."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from runtime_helpers import mlops

from mlops_decl.state import LockInfo, open_state_backend

REPO = Path(__file__).resolve().parents[2]


def _hold(project: Path, name: str):
    lock = open_state_backend(project, {}).lock(name)
    lock.acquire(LockInfo.new("held by the test", lock.describe()), 0)
    return lock


def _timed(project: Path, *args: str):
    t0 = time.monotonic()
    proc = mlops(project, *args, check=False)
    return proc, time.monotonic() - t0


def test_promote_waits_for_the_promotion_lock_as_long_as_lock_timeout(tmp_path: Path) -> None:
    project = tmp_path / "quickstart"
    shutil.copytree(REPO / "examples" / "quickstart", project, ignore=shutil.ignore_patterns(".mlops"))
    mlops(project, "apply", "--auto-approve")
    mlops(project, "run", "training_pipeline.churn_training")
    lock = _hold(project, "promotion/model.churn")
    try:
        proc, took = _timed(project, "promote", "model.churn", "--version", "1", "-lock-timeout", "2s")
    finally:
        lock.release()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "another promotion of model.churn is still running" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert 2.0 <= took < 60, took  # it waited, and not the built-in 5 minutes
    bad = mlops(project, "promote", "model.churn", "--version", "1", "-lock-timeout", "soon", check=False)
    assert bad.returncode == 2 and "is not a duration" in bad.stderr, bad.stderr
    # once the lock is free the same command goes through
    done = mlops(project, "promote", "model.churn", "--version", "1", "-lock-timeout", "2s", check=False)
    assert "another promotion" not in done.stderr, done.stderr


def test_monitor_check_waits_for_the_on_drift_lock_as_long_as_lock_timeout(tmp_path: Path) -> None:
    churn = tmp_path / "churn"
    shutil.copytree(REPO / "examples" / "churn", churn, ignore=shutil.ignore_patterns(".mlops"))
    mlops(churn, "apply", "--auto-approve")
    lock = _hold(churn, "on_drift/monitor.churn_drift")
    args = ("monitor", "check", "monitor.churn_drift", "--data", "data/customers_shifted.csv")
    try:
        proc, took = _timed(churn, *args, "-lock-timeout", "1s")
    finally:
        lock.release()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "monitor.churn_drift: on_drift is being decided by another process" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert 1.0 <= took < 50, took  # not the built-in minute
