"""examples/sagemaker as a user walks it (its README.md), through the CLI, against the extended
moto server: apply, re-plan to no change, run the pipeline, promote through the gates, serve and
predict (captured to S3), change the endpoint's instance count in place, detect drift on the
captured requests, retrain, promote, serve the new version, and destroy. The only difference from AWS is
AWS_ENDPOINT_URL, which points boto3 at the double; the example's files are used unchanged."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import client, fake_credentials

from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import cli, state_ids

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "sagemaker"
DATA = REPO / "examples" / "churn" / "data"


@pytest.fixture
def walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, SageMakerServer]]:
    with (
        fake_credentials(),
        SageMakerServer(options=Options(endpoint_delay=0.3, pipeline_delay=0.2)) as server,
    ):
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        s3 = client(server, "s3")
        for bucket in ("churn-ml-data", "churn-ml-artifacts"):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="churn-ml-data", Key="customers.csv", Body=(DATA / "customers.csv").read_bytes())
        root = tmp_path / "sagemaker"
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mlops", "README.md"))
        yield root, server


def ok(root: Path, *args: str) -> str:
    run = cli(root, *args)
    assert run.rc == 0, f"mlops-decl {' '.join(args)}:\n{run.output}"
    return run.output


def json_of(output: str) -> Any:
    """The JSON document of a `--json` command; progress lines (stderr) come before it."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("{"))
    return json.loads("\n".join(lines[start:]))


def no_changes(root: Path) -> None:
    run = cli(root, "plan", "--detailed-exitcode")
    assert run.rc == 0, run.output


def set_replicas(root: Path, n: int) -> None:
    text = (root / "ml.yaml").read_text()
    old = [line for line in text.splitlines() if line.strip().startswith("replicas:")]
    assert len(old) == 1
    (root / "ml.yaml").write_text(text.replace(old[0], f"      replicas: {n}"))


def clear_captures(server: SageMakerServer) -> None:
    """Forget what was captured so far, as a monitor's window would start after it."""
    s3 = client(server, "s3")
    listed = s3.list_object_versions(Bucket="churn-ml-artifacts", Prefix="mlops/capture/")
    for v in listed.get("Versions", []):
        s3.delete_object(Bucket="churn-ml-artifacts", Key=v["Key"], VersionId=v["VersionId"])


def endpoint(sm: Any, root: Path) -> dict[str, Any]:
    live: dict[str, Any] = sm.describe_endpoint(EndpointName=state_ids(root)["endpoint.churn_api"])
    return live


def test_the_sagemaker_example_walks_from_apply_to_destroy(walk: tuple[Path, SageMakerServer]) -> None:
    root, server = walk
    sm = client(server, "sagemaker")

    ok(root, "validate")
    ok(root, "apply", "--auto-approve")
    ids = state_ids(root)
    assert set(ids) == {
        "dataset.customers",
        "feature_group.customer_features",
        "model.churn",
        "training_pipeline.churn_training",
        "registry_policy.churn_gates",
        "endpoint.churn_api",
        "monitor.churn_drift",
    }
    assert sm.list_endpoints()["Endpoints"] == []  # pending_model until a version is promoted
    no_changes(root)

    run = json_of(ok(root, "run", "training_pipeline.churn_training", "--json"))
    assert run["status"].lower() in ("succeeded", "completed"), run
    packages = sm.list_model_packages(ModelPackageGroupName=ids["model.churn"])["ModelPackageSummaryList"]
    assert len(packages) == 1

    verdict = json_of(ok(root, "promote", "model.churn", "--version", "1", "--json"))
    assert verdict.get("promoted") is True, verdict
    planned = cli(root, "plan", "--detailed-exitcode")
    assert planned.rc == 2 and "serving_version" in planned.output, planned.output
    # the monitor is planned from its endpoint's change: the apply that deploys it schedules it
    assert '"pending_endpoint" -> "scheduled"' in planned.output, planned.output
    ok(root, "apply", "--auto-approve")
    live = endpoint(sm, root)
    assert live["EndpointStatus"] == "InService"
    assert live["DataCaptureConfig"]["EnableCapture"] is True
    no_changes(root)
    scheduled = sm.describe_monitoring_schedule(MonitoringScheduleName=state_ids(root)["monitor.churn_drift"])
    assert scheduled["MonitoringScheduleStatus"] == "Scheduled"

    shutil.copy(DATA / "score_me.csv", root / "score_me.csv")
    scored = json_of(ok(root, "predict", "endpoint.churn_api", "--data", "score_me.csv", "--json"))
    n_rows = len((DATA / "score_me.csv").read_text().strip().splitlines()) - 1
    assert scored["version"] == 1 and len(scored["predictions"]) == n_rows
    assert set(scored["predictions"]) <= {0, 1} and all(0.0 <= p <= 1.0 for p in scored["scores"])
    captured = client(server, "s3").list_objects_v2(Bucket="churn-ml-artifacts", Prefix="mlops/capture/")
    assert captured.get("KeyCount", 0) >= 1  # the request went to S3 as SageMaker captures it

    set_replicas(root, 2)  # in place: a new config, update_endpoint, then the old config goes
    planned = cli(root, "plan")
    assert "endpoint.churn_api will be updated in-place" in planned.output, planned.output
    assert "replicas        = 1 -> 2" in planned.output and "1 to change, 0 to replace" in planned.output
    ok(root, "apply", "--auto-approve")
    live = endpoint(sm, root)
    assert live["EndpointStatus"] == "InService", live.get("FailureReason")
    assert live["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    assert state_ids(root)["endpoint.churn_api"] == ids["endpoint.churn_api"]  # not replaced
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == [
        live["EndpointConfigName"]
    ]
    no_changes(root)
    again = json_of(ok(root, "predict", "endpoint.churn_api", "--data", "score_me.csv", "--json"))
    assert again["predictions"] == scored["predictions"]  # the same version, now on two instances

    schedule = sm.describe_monitoring_schedule(MonitoringScheduleName=state_ids(root)["monitor.churn_drift"])
    assert schedule["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == "cron(0 * ? * * *)"

    # Customers as they look later: scored through the endpoint, their requests captured to S3,
    # then checked against the training table. Drift retrains, the gates pass, the alias moves.
    clear_captures(server)
    shutil.copy(DATA / "customers_shifted.csv", root / "later.csv")
    ok(root, "predict", "endpoint.churn_api", "--data", "later.csv")
    checked = json_of(ok(root, "monitor", "check", "monitor.churn_drift", "--json"))
    assert checked["dataset_drift"] is True and "captured inputs" in checked["data"], checked
    assert checked["on_drift"]["retrained"] is True, checked
    assert checked["on_drift"]["promotion"] == {"promoted": True, "version": 2}, checked
    planned = cli(root, "plan", "--detailed-exitcode")
    assert planned.rc == 2 and "serving_version" in planned.output, planned.output
    ok(root, "apply", "--auto-approve")
    served = json_of(ok(root, "predict", "endpoint.churn_api", "--data", "score_me.csv", "--json"))
    assert served["version"] == 2 and endpoint(sm, root)["EndpointStatus"] == "InService"
    no_changes(root)

    ok(root, "destroy", "--auto-approve")
    assert state_ids(root) == {}
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_models()["Models"] == []
    assert sm.list_pipelines()["PipelineSummaries"] == []
    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    assert sm.list_monitoring_schedules()["MonitoringScheduleSummaries"] == []


def test_the_double_on_its_own_starts_with_the_buckets_and_data_the_readme_names(tmp_path: Path) -> None:
    import subprocess
    import sys
    from types import SimpleNamespace

    table = DATA / "customers.csv"
    args = [
        "--port",
        "0",
        "--bucket",
        "churn-ml-artifacts",
        "--put",
        f"{table}=s3://churn-ml-data/customers.csv",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl.providers.sagemaker.testserver", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        s3 = client(SimpleNamespace(url=url), "s3")
        assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == {"churn-ml-artifacts", "churn-ml-data"}
        got = s3.get_object(Bucket="churn-ml-data", Key="customers.csv")
        assert got["Body"].read() == table.read_bytes() and got.get("VersionId")  # versioned bucket
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    bad = subprocess.run(
        [sys.executable, "-m", "mlops_decl.providers.sagemaker.testserver", "--port", "0", "--put", "x.csv"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "FILE=s3://BUCKET/KEY" in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops_decl.providers.sagemaker.testserver",
            "--port",
            "0",
            "--put",
            f"{tmp_path / 'nope.csv'}=s3://churn-ml-data/k.csv",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "cannot upload" in missing.stderr and "Traceback" not in missing.stderr
    invalid = subprocess.run(
        [sys.executable, "-m", "mlops_decl.providers.sagemaker.testserver", "--port", "0", "--bucket", "B_"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert invalid.returncode == 1 and "InvalidBucketName" in invalid.stderr, invalid.stderr
    assert "Traceback" not in invalid.stderr
