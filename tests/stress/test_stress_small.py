"""Small versions of the stress harnesses, for CI (each well under 30 s). The full runs and
their figures are in docs/reliability.md."""

from __future__ import annotations

from pathlib import Path

import concurrency_harness
import crash_harness
import ml_crash_harness


def test_crash_harness_small(tmp_path: Path) -> None:
    summary = crash_harness.run(trials=3, resources=40, seed=11, workdir=tmp_path)
    assert summary["passed"] == 3, summary["failures"]


def test_concurrency_harness_small(tmp_path: Path) -> None:
    # Slow provider calls keep the winner holding the lock well past the loser's start-up, which
    # a loaded CI machine can stretch by hundreds of milliseconds.
    summary = concurrency_harness.run(trials=2, resources=15, seed=5, delay_ms=250, workdir=tmp_path)
    assert summary["passed"] == 2, summary["failures"]
    assert summary["exactly_one_proceeded"] == 2


def test_ml_crash_harness_small(tmp_path: Path) -> None:
    summary = ml_crash_harness.run(trials=2, seed=3, workdir=tmp_path)  # one run, one promote
    assert summary["passed"] == 2, summary["failures"]
    # one more run and promotion closed what the kills left open
    assert summary["after_one_more_run_and_promote"] == {
        "open_intents": 0,
        "mlflow_runs_running": 0,
        "run_exit": 0,
    }
