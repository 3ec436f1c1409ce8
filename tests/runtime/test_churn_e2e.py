"""The churn example end to end, offline, as docs/churn-walkthrough.md walks through it: apply,
run, promote, predict, serve, a drift check on shifted data that retrains and promotes a new
champion, lineage and audit."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from runtime_helpers import mlops

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("churn") / "churn"
    shutil.copytree(REPO / "examples" / "churn", dest, ignore=shutil.ignore_patterns(".mlops"))
    return dest


def test_the_whole_loop(churn: Path) -> None:
    applied = mlops(churn, "apply", "--auto-approve")
    assert "Apply complete! Resources: 7 added" in applied.stdout

    # the endpoint waits for a champion, and predict says what to run first
    pending = mlops(churn, "predict", "endpoint.churn_api", "--data", "data/score_me.csv", check=False)
    assert pending.returncode == 1
    assert (
        "pending_model" in pending.stderr
        and "mlops-decl run training_pipeline.churn_training" in pending.stderr
    )

    # features: the online store has the latest row per customer
    row = json.loads(
        mlops(churn, "features", "get", "feature_group.customer_features", "--entity", "10681").stdout
    )
    assert "tenure_months" in json.dumps(row)

    run1 = json.loads(mlops(churn, "run", "training_pipeline.churn_training", "--json").stdout)
    assert run1["version"] == 1 and run1["metrics"]["auc"] > 0.7
    assert run1["dataset_versions"]

    promoted = mlops(churn, "promote", "model.churn", "--version", "1")
    assert "Promoted" in promoted.stdout and "demographic_parity" in promoted.stdout + promoted.stderr

    scored = json.loads(
        mlops(churn, "predict", "endpoint.churn_api", "--data", "data/score_me.csv", "--json").stdout
    )
    assert scored["version"] == 1 and len(scored["predictions"]) == 5

    # serve: a real HTTP server on 127.0.0.1
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", "serve", "endpoint.churn_api", "--port", str(port)],
        cwd=churn,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 60
        health = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    health = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.2)
        assert health is not None and health["version"] == 1
        body = json.dumps(
            [
                {
                    "tenure_months": 3,
                    "monthly_spend": 80.0,
                    "support_calls": 6,
                    "plan": "pro",
                    "contract": "monthly",
                    "region": "east",
                }
            ]
        ).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            answer = json.loads(r.read())
        assert len(answer["predictions"]) == 1
    finally:
        server.terminate()
        server.wait(timeout=30)

    # drift on the shifted period: retrain and promote a new champion
    report = json.loads(
        mlops(
            churn, "monitor", "check", "monitor.churn_drift", "--data", "data/customers_shifted.csv", "--json"
        ).stdout
    )
    assert report["dataset_drift"] is True
    assert report["features"]["tenure_months"]["drifted"] is True
    assert report["on_drift"]["retrained"] is True
    assert report["on_drift"]["promotion"]["promoted"] is True
    assert Path(report["report_html"]).is_file()
    # a second check inside the cooldown does not retrain again
    again = json.loads(
        mlops(
            churn, "monitor", "check", "monitor.churn_drift", "--data", "data/customers_shifted.csv", "--json"
        ).stdout
    )
    assert again["on_drift"]["retrained"] is False

    lineage = mlops(churn, "lineage", "model.churn@2").stdout
    for part in (
        "dataset.customers",
        "feature_group.customer_features",
        "training_pipeline.churn_training",
        "model.churn version 2",
        "endpoint.churn_api",
        "monitor.churn_drift",
    ):
        assert part in lineage
    events = mlops(churn, "lineage", "model.churn@2", "--format", "openlineage").stdout
    assert '"eventType": "COMPLETE"' in events

    audit = mlops(churn, "audit").stdout
    for event in ("apply", "run", "promotion", "drift", "retrain"):
        assert f" {event} " in audit
    assert "hash chain verified" in mlops(churn, "audit", "verify").stdout
