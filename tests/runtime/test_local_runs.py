"""The local provider's runs through the CLI: `run --no-wait` trains in a detached worker,
`run status RUN_ID` follows it, and a worker that dies is reported killed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from runtime_helpers import mlops
from test_audit import _applied_killer_project

from mlops_decl.audit import AuditLog


def _status_until_final(root: Path, run_id: str, deadline: float = 300) -> dict[str, Any]:
    end = time.monotonic() + deadline
    while True:
        status: dict[str, Any] = json.loads(mlops(root, "run", "status", run_id, "--json").stdout)
        if status["status"] not in ("queued", "running") or time.monotonic() > end:
            return status
        time.sleep(1)


def test_no_wait_trains_in_the_background_and_run_status_follows(tmp_path: Path) -> None:
    _applied_killer_project(tmp_path)
    begun = mlops(tmp_path, "run", "training_pipeline.train", "--no-wait", "--json")
    handle = json.loads(begun.stdout)
    assert handle["status"] == "running" and handle["job_id"] == handle["run_id"]
    assert "training in the background" in begun.stderr
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    assert [e["data"]["event"] for e in log.pending()] == ["run"]  # not recovered: it is going on

    final = _status_until_final(tmp_path, handle["run_id"])
    assert (final["status"], final["version"], final["model"]) == ("succeeded", 1, "m")
    assert set(final["metrics"]) >= {"accuracy", "auc"} and final["dataset_versions"]
    assert log.pending() == []
    outcome = [e["data"] for e in log.entries() if e["event"] == "run"]
    assert [(o["run_id"], o["version"], o["status"]) for o in outcome] == [(handle["run_id"], 1, "succeeded")]
    assert (
        (tmp_path / ".mlops" / "local" / "runs" / f"{handle['run_id']}.log").read_text().count("registered m")
    )


def test_a_worker_that_dies_is_reported_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _applied_killer_project(tmp_path)
    monkeypatch.setenv("MLOPS_TEST_KILL_TRAINING", "1")  # the worker inherits it and dies in train()
    handle = json.loads(mlops(tmp_path, "run", "training_pipeline.train", "--no-wait", "--json").stdout)
    final = _status_until_final(tmp_path, handle["run_id"])
    assert final["status"] == "killed" and "ended before the run did" in final["error"]
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    assert log.pending() == []
    (outcome,) = [e["data"] for e in log.entries() if e["event"] == "run"]
    assert outcome["status"] == "killed" and outcome["run_id"] == handle["run_id"]
