"""Runtime actions as a typed part of the provider protocol, through the CLI: the capability
list checked at validate, the engine's retries and error mapping around actions, run /
run --no-wait / run status, and recovery of a run by its job id from another machine."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mlops_decl import provider as protocol
from mlops_decl.audit import AuditLog
from mlops_decl.cli.main import cli

PROJECT = """\
project: jobs
backend: {{type: local}}
default_provider: jobs
providers:
  jobs: {settings}
resources:
  dataset:
    rows: {{uri: rows.csv, provider: local}}
  feature_group:
    f:
      source: ${{dataset.rows}}
      entity: [id]
      features: [{{name: x, dtype: float}}]
  model:
    m: {{}}
  training_pipeline:
    train:
      provider: {pipeline_provider}
      inputs: ["${{feature_group.f}}"]
      label: y
      estimator: sklearn.linear_model.LogisticRegression
      registers: ${{model.m}}
  endpoint:
    api: {{model: "${{model.m}}"}}
  monitor:
    drift:
      provider: local
      baseline: ${{dataset.rows}}
      on_drift:
        retrain: ${{training_pipeline.train}}
"""


@pytest.fixture(autouse=True)
def test_providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, cls in (("jobs", "JobsProvider"), ("norun", "NoRunProvider")):
        monkeypatch.setitem(
            protocol.BUILTIN_PROVIDERS, name, protocol.BuiltinProvider(name, f"jobs_provider:{cls}")
        )
    yield


def project(root: Path, settings: str = "{}", pipeline_provider: str = "jobs") -> Path:
    (root / "mlops.yaml").write_text(PROJECT.format(settings=settings, pipeline_provider=pipeline_provider))
    (root / "rows.csv").write_text("id,x,y\n1,0.5,0\n2,1.5,1\n")
    return root


def mlops(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.chdir(root)
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def applied(root: Path, monkeypatch: pytest.MonkeyPatch, settings: str = "{}") -> Path:
    project(root, settings)
    ok(mlops(root, monkeypatch, "apply", "--auto-approve"))
    return root


def test_validate_rejects_a_retrain_whose_provider_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, pipeline_provider="norun")
    text = (tmp_path / "mlops.yaml").read_text().replace("  jobs: {}", "  jobs: {}\n  norun: {}")
    (tmp_path / "mlops.yaml").write_text(text)
    result = mlops(tmp_path, monkeypatch, "validate")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "retrain:" in ln)
    column = text.splitlines()[line - 1].index("${") + 1
    assert f"mlops.yaml:{line}:{column}" in result.output
    assert (
        "on_drift.retrain names training_pipeline.train, whose provider `norun` cannot `run`" in result.output
    )
    assert "Traceback" not in result.output

    # the same pipeline on a provider that lists `run` validates
    (tmp_path / "mlops.yaml").write_text(text.replace("provider: norun", "provider: jobs"))
    assert "Success!" in ok(mlops(tmp_path, monkeypatch, "validate")).output


def test_a_throttled_run_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = applied(tmp_path, monkeypatch, settings="{fail_runs: 2}")
    done = json.loads(ok(mlops(root, monkeypatch, "run", "training_pipeline.train", "--json")).stdout)
    assert done["status"] == "succeeded" and done["version"] == 1
    calls = json.loads((root / ".mlops" / "jobs" / "calls.json").read_text())
    assert calls["run"] == 3  # two throttled, then started


def test_a_library_exception_in_an_action_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = applied(tmp_path, monkeypatch, settings="{broken_predict: true}")
    (root / "in.csv").write_text("x\n1\n")
    result = mlops(root, monkeypatch, "predict", "endpoint.api", "--data", "in.csv")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    errors = [ln for ln in result.output.splitlines() if ln.startswith("Error")]
    assert errors == ["Error: endpoint.api: predict failed: ZeroDivisionError: division by zero"], (
        result.output
    )
    assert "Traceback" not in result.output


def test_run_waits_by_polling_run_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = applied(tmp_path, monkeypatch, settings="{polls: 2}")
    result = ok(mlops(root, monkeypatch, "run", "training_pipeline.train"))
    assert "running" in result.output and "complete." in result.output
    log = AuditLog(root / ".mlops" / "audit.jsonl")
    events = [(e["event"], e["data"].get("status")) for e in log.entries() if e["event"] != "apply"]
    assert events == [("intent", None), ("started", None), ("run", "succeeded")]
    started = next(e["data"] for e in log.entries() if e["event"] == "started")
    assert started["job_id"].startswith("job-") and log.pending() == []


def test_no_wait_returns_at_once_and_run_status_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = applied(tmp_path, monkeypatch, settings="{polls: 1}")
    begun = json.loads(
        ok(mlops(root, monkeypatch, "run", "training_pipeline.train", "--no-wait", "--json")).stdout
    )
    assert begun["status"] == "running" and begun["job_id"].startswith("job-")
    log = AuditLog(root / ".mlops" / "audit.jsonl")
    assert len(log.pending()) == 1  # going on: no outcome yet

    first = ok(mlops(root, monkeypatch, "run", "status", begun["run_id"]))
    assert f"Run {begun['run_id']} (job {begun['job_id']}): running." in first.output
    assert len(log.pending()) == 1
    final = json.loads(ok(mlops(root, monkeypatch, "run", "status", begun["run_id"], "--json")).stdout)
    assert (final["status"], final["version"], final["metrics"]) == ("succeeded", 1, {"auc": 0.9})
    outcome = list(log.entries())[-1]
    assert outcome["event"] == "run" and outcome["data"]["version"] == 1 and log.pending() == []

    missing = mlops(root, monkeypatch, "run", "status", "nope")
    assert missing.exit_code == 1 and "no run `nope` in the audit log" in missing.output


def test_a_run_is_recovered_by_its_job_id_from_another_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The starter of a --no-wait run is gone; a CI runner (another host) running the pipeline
    next records the first run's outcome from the provider's job status, not from a pid."""
    root = applied(tmp_path, monkeypatch, settings="{polls: 0}")
    begun = json.loads(
        ok(mlops(root, monkeypatch, "run", "training_pipeline.train", "--no-wait", "--json")).stdout
    )
    monkeypatch.setattr(socket, "gethostname", lambda: "ci-runner-7")
    after = ok(mlops(root, monkeypatch, "run", "training_pipeline.train", "--json"))
    assert "was interrupted; recorded what it registered: version 1" in after.output
    log = AuditLog(root / ".mlops" / "audit.jsonl")
    (recovered,) = [e["data"] for e in log.entries() if e["data"].get("recovered")]
    assert (recovered["run_id"], recovered["job_id"], recovered["version"]) == (
        begun["run_id"],
        begun["job_id"],
        1,
    )
    assert log.pending() == [] and log.verify()[1] == []


def test_an_intent_without_ids_from_another_host_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a job id only the pid tells: an intent of another host's process is not ours."""
    root = applied(tmp_path, monkeypatch)
    log = AuditLog(root / ".mlops" / "audit.jsonl")
    other = log.append(
        "intent", {"event": "run", "pipeline": "training_pipeline.train", "pid": 1, "host": "elsewhere"}
    )
    ok(mlops(root, monkeypatch, "run", "training_pipeline.train"))
    assert [e["seq"] for e in log.pending()] == [other["seq"]]
