"""The audit log's hash chain: intact logs verify, any edit, deletion or reorder is found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlops_decl.audit import AuditLog


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    for i in range(n):
        log.append("run", {"pipeline": "training_pipeline.t", "version": i + 1})
    return log


def test_chain_links_each_entry_to_the_one_before(tmp_path: Path) -> None:
    log = _log(tmp_path)
    entries = list(log.entries())
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    for before, after in zip(entries, entries[1:], strict=False):
        assert after["prev"] == before["hash"]
    assert log.verify() == (5, [])
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"


def test_edit_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["data"]["version"] = 99
    lines[2] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    log.path.write_text("\n".join(lines) + "\n")
    n, problems = log.verify()
    assert n == 5 and [p.line for p in problems] == [3]


def test_deleted_entry_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    del lines[1]
    log.path.write_text("\n".join(lines) + "\n")
    _, problems = log.verify()
    assert problems and problems[0].line == 2


def test_rehashed_edit_still_breaks_the_link_to_the_next_entry(tmp_path: Path) -> None:
    from mlops_decl.audit import _digest

    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["who"] = "mallory@nowhere"
    entry["hash"] = _digest(entry)  # a forger who recomputes this entry's hash...
    lines[1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    log.path.write_text("\n".join(lines) + "\n")
    _, problems = log.verify()
    assert [p.line for p in problems] == [3]  # ...is caught by the next entry's `prev`


def test_audit_verify_cli_exits_1_on_tampering(tmp_path: Path) -> None:
    log = _log(tmp_path)
    (tmp_path / "mlops.yaml").write_text("project: t\n")
    ok = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "audit", "verify"], cwd=tmp_path, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "5 entries" in ok.stdout
    log.path.write_text(log.path.read_text().replace('"version":2', '"version":3', 1))
    bad = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "audit", "verify"], cwd=tmp_path, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "audit.jsonl:2" in bad.stderr and "Traceback" not in bad.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "audit"], cwd=tmp_path, capture_output=True, text=True
    )
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == 5


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from mlops_decl.audit import AuditLog\n"
        "log = AuditLog(Path(sys.argv[1]))\n"
        "for i in range(50): log.append('run', {'i': i})\n"
    )
    path = tmp_path / "audit.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)]) for _ in range(4)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    assert AuditLog(path).verify() == (200, [])


KILLER_PROJECT = """\
project: wal
resources:
  dataset:
    rows: {uri: rows.csv}
  feature_group:
    f:
      source: ${dataset.rows}
      entity: [id]
      features:
        - {name: x, dtype: float}
  model:
    m: {}
  training_pipeline:
    train:
      inputs: ["${feature_group.f}"]
      labels: ${dataset.rows}
      label: y
      entrypoint: train.py
      registers: ${model.m}
"""

# train() dies like a killed process when told to: no exception handler, no atexit
KILLER_TRAIN = """\
import os, signal
from sklearn.linear_model import LogisticRegression

def train(X, y, hyperparameters):
    if os.environ.get("MLOPS_TEST_KILL_TRAINING"):
        os.kill(os.getpid(), signal.SIGKILL)
    return LogisticRegression().fit(X, y)
"""


def _applied_killer_project(root: Path) -> None:
    from runtime_helpers import mlops

    (root / "mlops.yaml").write_text(KILLER_PROJECT)
    (root / "train.py").write_text(KILLER_TRAIN)
    (root / "rows.csv").write_text("id,x,y\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(60)))
    mlops(root, "apply", "--auto-approve")


def test_a_run_killed_midway_leaves_an_intent_that_verify_reports(tmp_path: Path) -> None:
    import os

    from runtime_helpers import mlops

    _applied_killer_project(tmp_path)
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")

    killed = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "run", "training_pipeline.train"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MLOPS_TEST_KILL_TRAINING": "1", "NO_COLOR": "1"},
    )
    assert killed.returncode == -9, killed.stderr
    pending = log.pending()
    assert [(e["event"], e["data"]["event"], e["data"]["pipeline"]) for e in pending] == [
        ("intent", "run", "training_pipeline.train")
    ]
    verify = mlops(tmp_path, "audit", "verify")  # a gap is not tampering: exit 0, but said
    assert "intact" in verify.stdout
    assert f"entry {pending[0]['seq']}" in verify.stderr and "has no outcome" in verify.stderr

    # the next run first closes the killed one's intent with what the registry shows: nothing
    after = mlops(tmp_path, "run", "training_pipeline.train", "--json")
    done = json.loads(after.stdout)
    assert "was interrupted; recorded what it left: no version" in after.stderr
    entries = list(log.entries())
    recovered = next(e for e in entries if e["data"].get("recovered"))
    # its run id was recorded as soon as the run began: the provider says it was killed
    started = next(e["data"] for e in entries if e["event"] == "started" and e["data"]["of"] == pending[0]["seq"])
    assert recovered["data"]["intent"] == pending[0]["seq"] and recovered["data"]["status"] == "killed"
    assert recovered["data"]["run_id"] == started["run_id"] and "ended before" in recovered["data"]["failed"]
    outcome = entries[-1]
    assert outcome["event"] == "run" and outcome["data"]["version"] == done["version"]
    assert entries[outcome["data"]["intent"] - 1]["event"] == "intent"  # seq n is line n
    assert log.pending() == []
    assert log.verify()[1] == []


# dies the moment the engine would record a run's outcome: the version is registered by then
KILL_BEFORE_OUTCOME = """import os, signal, sys
from mlops_decl import audit
append = audit.AuditLog.append
def dying(self, event, data, **kw):
    if event == "run" and "intent" in data and not data.get("recovered"):
        os.kill(os.getpid(), signal.SIGKILL)
    return append(self, event, data, **kw)
audit.AuditLog.append = dying
from mlops_decl.cli.main import main
main(["run", "training_pipeline.train"])
"""


def test_a_version_registered_by_a_killed_run_is_audited_by_the_next(tmp_path: Path) -> None:
    from runtime_helpers import mlops

    _applied_killer_project(tmp_path)
    first = json.loads(mlops(tmp_path, "run", "training_pipeline.train", "--json").stdout)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_OUTCOME], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert killed.returncode == -9, killed.stderr
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    (open_intent,) = log.pending()
    assert not any(e["data"].get("version") == first["version"] + 1 for e in log.entries())  # the gap

    after = mlops(tmp_path, "run", "training_pipeline.train", "--json")
    third = json.loads(after.stdout)
    assert f"registered: version {first['version'] + 1}" in after.stderr
    assert third["version"] == first["version"] + 2
    recovered = [e["data"] for e in log.entries() if e["data"].get("recovered")]
    assert len(recovered) == 1
    assert {k: recovered[0][k] for k in ("pipeline", "intent", "model", "version", "status")} == {
        "pipeline": "training_pipeline.train",
        "intent": open_intent["seq"],
        "model": first["model"],
        "version": first["version"] + 1,
        "status": "succeeded",
    }
    assert recovered[0]["run_id"] and recovered[0]["run_id"] != first["run_id"]
    assert set(recovered[0]["metrics"]) == set(first["metrics"])  # read back through run_status
    ran = sorted(
        e["data"]["version"] for e in log.entries() if e["event"] == "run" and "version" in e["data"]
    )
    assert ran == [first["version"], first["version"] + 1, first["version"] + 2]
    assert log.pending() == [] and log.verify()[1] == []
    listing = mlops(tmp_path, "audit", "--event", "run").stdout
    (line,) = [ln for ln in listing.splitlines() if "recovered" in ln]
    assert f" v{first['version'] + 1} " in line and "(recovered: the run was interrupted" in line


# dies while MLflow logs the run: the tracking run is left RUNNING, no version registered
KILL_WHILE_LOGGING = """import os, signal
from mlflow import MlflowClient
def dying(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
MlflowClient.log_batch = dying  # the provider logs params and metrics through its own client
from mlops_decl.cli.main import main
main(["run", "training_pipeline.train"])
"""


def test_a_tracking_run_left_running_by_a_kill_is_ended_by_the_next_run(tmp_path: Path) -> None:
    from mlflow import MlflowClient
    from runtime_helpers import mlops

    _applied_killer_project(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_WHILE_LOGGING], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert killed.returncode == -9, killed.stderr
    client = MlflowClient(f"sqlite:///{tmp_path / '.mlops' / 'local' / 'mlflow.db'}")
    (exp,) = [e for e in client.search_experiments() if e.name.endswith("/train")]
    (left,) = client.search_runs([exp.experiment_id])
    assert left.info.status == "RUNNING" and left.data.tags["mlops_decl.pipeline"] == "train"

    done = json.loads(mlops(tmp_path, "run", "training_pipeline.train", "--json").stdout)
    assert client.get_run(left.info.run_id).info.status == "KILLED"
    assert client.get_run(done["run_id"]).info.status == "FINISHED"
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    (recovered,) = [e["data"] for e in log.entries() if e["data"].get("recovered")]
    assert (recovered["run_id"], recovered["status"]) == (left.info.run_id, "killed")
    assert "version" not in recovered
    assert log.pending() == [] and log.verify()[1] == []


def test_a_failed_promotion_is_an_outcome(tmp_path: Path) -> None:
    from runtime_helpers import mlops

    _applied_killer_project(tmp_path)
    failed = mlops(tmp_path, "promote", "model.m", "--version", "7", check=False)
    assert failed.returncode == 1
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    last = list(log.entries())[-1]
    assert last["event"] == "promotion" and last["data"]["version"] == 7 and last["data"]["failed"]
    assert log.pending() == []
    listing = mlops(tmp_path, "audit").stdout
    assert "begin promotion of model.m" in listing and "model.m FAILED:" in listing


def test_a_run_still_going_on_elsewhere_is_not_recovered(tmp_path: Path) -> None:
    """An intent whose process is alive (a run in another terminal) is left for that run."""
    import os
    import socket

    from runtime_helpers import mlops

    _applied_killer_project(tmp_path)
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    running = log.append(
        "intent",
        {
            "event": "run",
            "pipeline": "training_pipeline.train",
            "pid": os.getpid(),
            "host": socket.gethostname(),
        },
    )
    after = mlops(tmp_path, "run", "training_pipeline.train")
    assert "was interrupted" not in after.stderr
    assert [e["seq"] for e in log.pending()] == [running["seq"]]
    assert not any(e["data"].get("recovered") for e in log.entries())


KILL_BEFORE_PROMOTION_OUTCOME = KILL_BEFORE_OUTCOME.replace('event == "run"', 'event == "promotion"').replace(
    '["run", "training_pipeline.train"]', '["promote", "model.m", "--version", "1"]'
)


def test_an_alias_moved_by_a_killed_promotion_is_audited_by_the_next(tmp_path: Path) -> None:
    from runtime_helpers import mlops

    _applied_killer_project(tmp_path)
    for _ in range(2):
        mlops(tmp_path, "run", "training_pipeline.train")
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_PROMOTION_OUTCOME],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -9, killed.stderr
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    (open_intent,) = log.pending()
    assert open_intent["data"]["event"] == "promotion" and open_intent["data"]["version"] == 1

    after = mlops(tmp_path, "promote", "model.m", "--version", "2")
    assert "recorded that `champion` points at it" in after.stderr
    promotions = [e["data"] for e in log.entries() if e["event"] == "promotion"]
    assert [(p["version"], p["promoted"], p.get("recovered", False)) for p in promotions] == [
        (1, True, True),
        (2, True, False),
    ]
    assert promotions[0]["intent"] == open_intent["seq"]
    assert log.pending() == [] and log.verify()[1] == []
