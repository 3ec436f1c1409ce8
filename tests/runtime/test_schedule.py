"""`schedule` does what it says: expressions are checked at validate, `plan` shows each next
run, `schedule tick` runs what fell due exactly once (audited, claimed through the state
backend), and `schedule run` loops until Ctrl-C, which it survives without a traceback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from runtime_helpers import mlops

from mlops_decl.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]

PROJECT = """\
project: sched
resources:
  dataset:
    rows: {{uri: rows.csv}}
  feature_group:
    f:
      source: ${{dataset.rows}}
      entity: [id]
      features:
        - {{name: x, dtype: float}}
        - {{name: z, dtype: float}}
  model:
    m: {{}}
  training_pipeline:
    train:
      inputs: ["${{feature_group.f}}"]
      labels: ${{dataset.rows}}
      label: y
      estimator: sklearn.linear_model.LogisticRegression
      registers: ${{model.m}}
      schedule: "{train}"
  endpoint:
    api: {{model: "${{model.m}}", version: latest}}
  monitor:
    watch:
      endpoint: ${{endpoint.api}}
      baseline: ${{dataset.rows}}
      features: [x, z]
      schedule: "{watch}"
"""


def _project(root: Path, train: str = "@hourly", watch: str = "@hourly") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(PROJECT.format(train=train, watch=watch))
    rows = "".join(f"{i},{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(80))
    (root / "rows.csv").write_text("id,x,z,y\n" + rows)
    return root


def _log(root: Path) -> list[dict]:
    return list(AuditLog(root / ".mlops" / "audit.jsonl").entries())


def _events(root: Path, event: str, address: str | None = None) -> list[dict]:
    key = "pipeline" if event == "run" else "address"
    return [
        e for e in _log(root) if e["event"] == event and (address is None or e["data"].get(key) == address)
    ]


def _last_tick_was(root: Path, address: str, ago: timedelta) -> None:
    """As if a tick had covered `address` up to `ago` before now (a cron that stopped for a while)."""
    through = (datetime.now(timezone.utc) - ago).isoformat(timespec="seconds")
    AuditLog(root / ".mlops" / "audit.jsonl").append(
        "schedule", {"address": address, "schedule": "@hourly", "through": through}
    )


# -- validate and plan ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("train", "message"),
    [
        ("61 3 * * 1", "`61 3 * * 1` is not a valid cron expression"),
        ("0 3 * *", "`0 3 * *` has 4 fields; a cron expression has five"),
        ("0 0 30 2 *", "`0 0 30 2 *` is not a valid cron expression"),  # never happens
        ("@hourlyy", "`@hourlyy` is not a schedule alias"),
        ("every hour", "`every hour` has 2 fields"),
    ],
)
def test_validate_reports_a_bad_schedule_where_it_is(tmp_path: Path, train: str, message: str) -> None:
    root = _project(tmp_path / "p", train=train)
    bad = mlops(root, "validate", check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert f"mlops.yaml:21:17: training_pipeline.train: {message}" in bad.stderr
    assert "hint: write five fields" in bad.stderr and "@hourly" in bad.stderr
    assert not (root / ".mlops").exists()


def test_a_scheduled_monitor_needs_an_endpoint(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    (root / "mlops.yaml").write_text(
        (root / "mlops.yaml").read_text().replace("      endpoint: ${endpoint.api}\n", "")
    )
    bad = mlops(root, "validate", check=False)
    assert bad.returncode == 1 and "monitor.watch: a scheduled check reads the inputs" in bad.stderr
    assert "mlops.yaml:28:17" in bad.stderr and "--data FILE" in bad.stderr


def test_plan_shows_each_schedules_next_run(tmp_path: Path) -> None:
    from croniter import croniter

    root = tmp_path / "churn"
    shutil.copytree(REPO / "examples" / "churn", root, ignore=shutil.ignore_patterns(".mlops"))
    before = datetime.now(timezone.utc)
    out = mlops(root, "plan").stdout
    weekly = croniter("0 3 * * 1", before).get_next(datetime)
    assert "Schedules (run by `mlops-decl schedule run` or `schedule tick`):" in out
    line = next(
        ln for ln in out.splitlines() if "training_pipeline.churn_training" in ln and "next run" in ln
    )
    assert "0 3 * * 1" in line and f"next run {weekly:%Y-%m-%d %H:%M} UTC" in line
    assert any("monitor.churn_drift" in ln and "@hourly" in ln for ln in out.splitlines())


# -- tick -----------------------------------------------------------------------------------
def test_the_first_tick_runs_nothing_due_only_before_the_schedule_existed(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", train="0 0 1 1 *", watch="0 0 1 1 *")  # last due on 1 January
    mlops(root, "apply", "--auto-approve")
    out = mlops(root, "schedule", "tick").stdout
    assert "Nothing was due." in out and "next: training_pipeline.train (0 0 1 1 *) at" in out
    assert not _events(root, "run") and not _events(root, "drift")


def test_tick_runs_what_fell_due_once_through_run_and_monitor_check(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    mlops(root, "apply", "--auto-approve")
    _last_tick_was(root, "training_pipeline.train", timedelta(hours=3))  # three occurrences missed
    first = mlops(root, "schedule", "tick")
    assert (
        "training_pipeline.train: run " in first.stdout and "succeeded, registered version 1" in first.stdout
    )
    runs = _events(root, "run", "training_pipeline.train")
    assert len(runs) == 1 and runs[0]["data"]["version"] == 1  # once, for the latest occurrence
    claims = [e for e in _events(root, "schedule", "training_pipeline.train") if e["data"].get("due")]
    due = datetime.fromisoformat(claims[0]["data"]["due"])
    assert len(claims) == 1 and due.minute == 0 and datetime.now(timezone.utc) - due < timedelta(hours=1)
    again = mlops(root, "schedule", "tick")
    assert "Nothing was due." in again.stdout and len(_events(root, "run")) == 1
    # the monitor checks the endpoint's captured inputs, as `monitor check` without --data does
    scored = root / "score.csv"
    scored.write_text("id,x,z\n" + "".join(f"{i},{i % 7},{(i * 3) % 5}\n" for i in range(40)))
    mlops(root, "predict", "endpoint.api", "--data", str(scored))
    _last_tick_was(root, "monitor.watch", timedelta(minutes=90))
    checked = mlops(root, "schedule", "tick")
    assert "monitor.watch: no dataset drift" in checked.stdout
    assert (
        len(_events(root, "drift", None)) == 1
        and _events(root, "drift")[0]["data"]["monitor"] == "monitor.watch"
    )
    assert "Audit log intact" in mlops(root, "audit", "verify").stdout


def test_two_ticks_at_once_run_an_occurrence_once(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    mlops(root, "apply", "--auto-approve")
    _last_tick_was(root, "training_pipeline.train", timedelta(hours=2))
    env = {**os.environ, "NO_COLOR": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mlops_decl", "schedule", "tick"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("succeeded" in out for out, _ in outs) == 1
    assert len(_events(root, "run", "training_pipeline.train")) == 1


def test_a_failed_job_is_audited_and_exits_1(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    mlops(root, "apply", "--auto-approve")
    _last_tick_was(root, "monitor.watch", timedelta(hours=2))  # no version served, no captures yet
    bad = mlops(root, "schedule", "tick", check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "monitor.watch: FAILED:" in bad.stderr
    failed = [e for e in _events(root, "schedule", "monitor.watch") if e["data"].get("failed")]
    assert len(failed) == 1
    assert "Nothing was due." in mlops(root, "schedule", "tick").stdout  # claimed: not retried


# -- the loop -------------------------------------------------------------------------------
def _wait_for(predicate, timeout: float = 300) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)


def test_schedule_run_finishes_the_running_job_on_ctrl_c(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    mlops(root, "apply", "--auto-approve")
    _last_tick_was(root, "training_pipeline.train", timedelta(hours=2))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", "schedule", "run"],
        cwd=root,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: bool(_events(root, "intent")))  # the job has begun
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "Stopping once the running job finishes" in err and out.rstrip().endswith("Stopped.")
    assert len(_events(root, "run", "training_pipeline.train")) == 1  # it finished, audited
    assert json.loads((root / ".mlops" / "state.json").read_text())["audit"]["entries"] == len(_log(root))


def test_schedule_run_stops_cleanly_when_idle(tmp_path: Path) -> None:
    import threading

    root = _project(tmp_path / "p", train="0 0 1 1 *", watch="0 0 1 1 *")
    mlops(root, "apply", "--auto-approve")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", "schedule", "run"],
        cwd=root,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        _wait_for(lambda: any("next:" in ln for ln in lines) or proc.poll() is not None, timeout=120)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    out = "".join(lines)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "next: training_pipeline.train (0 0 1 1 *)" in out and out.rstrip().endswith("Stopped.")
    assert not _events(root, "run")


# -- start-up -------------------------------------------------------------------------------
def test_validate_of_common_schedules_does_not_import_croniter(tmp_path: Path) -> None:
    """croniter (with dateutil) costs validate ~15%: the churn example's "0 3 * * 1" and
    "@hourly" are judged without it; anything past the plain shapes goes to croniter."""
    shutil.copytree(REPO / "examples" / "churn", tmp_path / "churn", ignore=shutil.ignore_patterns(".mlops"))
    code = (
        "import sys\n"
        "from mlops_decl.cli.main import main\n"
        "try:\n"
        "    main(['validate'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('croniter' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path / "churn", capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout + out.stderr


def test_the_plain_shapes_validate_accepts_alone_are_ones_croniter_accepts() -> None:
    import random

    from croniter import croniter

    from mlops_decl.schedule import problem

    values = ["*", "*/0", "*/1", "*/7", "*/60", "0", "6", "7", "12", "13", "23", "24", "29", "31", "32", "60"]
    rng = random.Random(7)
    for _ in range(3000):
        expr = " ".join(rng.choice(values) for _ in range(5))
        try:
            croniter(expr, datetime(2026, 1, 1, tzinfo=timezone.utc)).get_next(datetime)
            valid = True
        except ValueError:
            valid = False
        assert (problem(expr) is None) == valid, expr


# -- a schedule read from a variable ---------------------------------------------------------
def _var_project(root: Path) -> Path:
    _project(root, train="${var.cron}")
    (root / "vars.yaml").write_text("variables:\n  cron: {type: string, default: '@daily'}\n")
    return root


@pytest.mark.parametrize(
    "how",
    [
        ("validate", "-var", "cron=61 3 * * 1"),
        ("validate", "--var-file", "../bad.yaml"),
        ("plan", "-var", "cron=61 3 * * 1"),
        ("plan", "env"),
    ],
)
def test_a_schedule_from_a_variable_is_checked_once_its_value_is_known(
    tmp_path: Path, how: tuple, run_cli
) -> None:
    root = _var_project(tmp_path / "p")
    (tmp_path / "bad.yaml").write_text("cron: '61 3 * * 1'\n")  # outside: not a config file
    args, env = list(how), {}
    if how[-1] == "env":
        args, env = [how[0]], {"MLOPS_VAR_cron": "61 3 * * 1"}
    rc, _, err = run_cli(args, root, env=env, timeout=300)
    assert rc == 1 and "Traceback" not in err, err
    assert "mlops.yaml:21:17: training_pipeline.train: `61 3 * * 1` is not a valid cron expression" in err, (
        err
    )
    assert "(`schedule: ${var.cron}`)" in err
    assert "hint: write five fields" in err
    assert not (root / ".mlops").exists()


def test_a_good_schedule_from_a_variable_validates_and_plan_shows_its_next_run(tmp_path: Path) -> None:
    root = _var_project(tmp_path / "p")
    mlops(root, "validate")
    out = mlops(root, "plan", "-var", "cron=*/15 * * * *").stdout
    assert any(
        "training_pipeline.train" in ln and "*/15 * * * *" in ln and "next run" in ln
        for ln in out.splitlines()
    ), out
