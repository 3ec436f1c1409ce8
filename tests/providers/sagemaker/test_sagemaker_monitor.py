"""The monitor on SageMaker, through the CLI as a user runs it, against the extended moto
server: pending until its endpoint serves, then a data-quality job definition and a
monitoring schedule on it; `monitor check` runs the engine's drift check on the requests the
endpoint captured in S3 (SageMaker's capture layout), and drift retrains through the gates:
a worse version stays unpromoted, a good one moves the alias and the endpoint follows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sagemaker_helpers import client
from sagemaker_monitor_project import (
    FEATURES,
    attributes,
    capture,
    clear_captures,
    csv_of,
    ok,
    project,
    report,
    rows,
    served,
    upload,
)

from mlops_decl.providers.sagemaker.testserver import SageMakerServer
from mlops_decl.testing.project import cli, state_ids


@pytest.fixture
def aws() -> Iterator[SageMakerServer]:
    with served() as server:
        yield server


def versions(server: SageMakerServer, group: str) -> dict[int, str]:
    packages = client(server, "sagemaker").list_model_packages(ModelPackageGroupName=group)
    return {
        p["ModelPackageVersion"]: p.get("ModelApprovalStatus", "")
        for p in packages["ModelPackageSummaryList"]
    }


def test_drift_on_captured_requests_retrains_through_the_gates(aws: SageMakerServer, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    project(root, aws)
    ok(root, "apply", "--auto-approve")
    assert attributes(root, "monitor.drift")["status"] == "pending_endpoint"
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    ok(root, "run", "training_pipeline.train")
    ok(root, "promote", "model.churn", "--version", "1")
    # The endpoint serves v1; the monitor, planned from the endpoint's change, is scheduled by
    # the same apply (a saved plan: derived again from what it records, it must come out the same).
    plan = cli(root, "plan", "--detailed-exitcode", "-out", "next.plan")
    assert plan.rc == 2 and "monitor.drift" in plan.output and "endpoint.api" in plan.output, plan.output
    assert '"pending_endpoint" -> "scheduled"' in plan.output, plan.output
    ok(root, "apply", "next.plan")
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    sm, s3 = client(aws, "sagemaker"), client(aws, "s3")
    monitor, endpoint = attributes(root, "monitor.drift"), state_ids(root)["endpoint.api"]
    assert monitor["status"] == "scheduled"
    schedule = sm.describe_monitoring_schedule(MonitoringScheduleName=state_ids(root)["monitor.drift"])
    config = schedule["MonitoringScheduleConfig"]
    assert config["ScheduleConfig"]["ScheduleExpression"] == "cron(0 0 ? * * *)"
    job = sm.describe_data_quality_job_definition(JobDefinitionName=config["MonitoringJobDefinitionName"])
    assert job["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == endpoint
    statistics = job["DataQualityBaselineConfig"]["StatisticsResource"]["S3Uri"]
    bucket, _, key = statistics[5:].partition("/")
    baseline = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert [f["name"] for f in baseline["features"]] == FEATURES
    assert baseline["dataset"]["item_count"] == 400

    # in place: the schedule moves onto a new job definition, and the old one goes after
    project(root, aws, schedule="0 */6 * * *", monitor_block={"instance_type": "ml.c5.xlarge"})
    plan = cli(root, "plan", "--detailed-exitcode")
    assert plan.rc == 2 and "1 to change" in plan.output and "0 to replace" in plan.output, plan.output
    ok(root, "apply", "--auto-approve")
    config = sm.describe_monitoring_schedule(MonitoringScheduleName=state_ids(root)["monitor.drift"])[
        "MonitoringScheduleConfig"
    ]
    assert config["ScheduleConfig"]["ScheduleExpression"] == "cron(0 0/6 ? * * *)"
    jobs = sm.list_data_quality_job_definitions()["JobDefinitionSummaries"]
    assert [j["MonitoringJobDefinitionName"] for j in jobs] == [config["MonitoringJobDefinitionName"]]
    job = sm.describe_data_quality_job_definition(JobDefinitionName=config["MonitoringJobDefinitionName"])
    assert job["JobResources"]["ClusterConfig"]["InstanceType"] == "ml.c5.xlarge"
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    # the same population, scored through the endpoint (its captures are base64 JSON bodies)
    (root / "now.csv").write_bytes(csv_of(rows(300, seed=2), FEATURES))
    ok(root, "predict", "endpoint.api", "--data", "now.csv")
    calm = report(root, "monitor.drift")
    assert calm["dataset_drift"] is False and calm["on_drift"] is None, calm
    assert calm["rows"]["current"] == 300 and "captured inputs" in calm["data"]
    group = state_ids(root)["model.churn"]
    assert list(versions(aws, group)) == [1]

    clear_captures(aws, endpoint)
    capture(aws, endpoint, rows(300, seed=3, shift=1.0))  # customers stay longer and spend more
    upload(aws, "train.csv", rows(400, seed=4, noise=0.5), [*FEATURES, "churned"])  # labels gone bad
    drifted = report(root, "monitor.drift")
    assert drifted["dataset_drift"] is True
    assert drifted["features"]["tenure"]["drifted"] and drifted["features"]["spend"]["drifted"]
    assert drifted["on_drift"]["retrained"] is True
    assert drifted["on_drift"]["promotion"] == {"promoted": False, "version": 2}  # the gate held
    assert versions(aws, group)[2] != "Approved" and attributes(root, "model.churn") is not None

    upload(aws, "train.csv", rows(400, seed=5), [*FEATURES, "churned"])  # good data again
    ok(root, "run", "training_pipeline.train")
    ok(root, "promote", "model.churn", "--version", "3")
    assert versions(aws, group)[3] == "Approved"
    ok(root, "apply", "--auto-approve")
    assert attributes(root, "endpoint.api")["serving_version"] == 3
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    ok(root, "destroy", "--auto-approve")
    assert sm.list_monitoring_schedules()["MonitoringScheduleSummaries"] == []
    assert sm.list_data_quality_job_definitions()["JobDefinitionSummaries"] == []


def test_a_check_without_captures_or_with_a_file(aws: SageMakerServer, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    project(root, aws)
    ok(root, "apply", "--auto-approve")
    pending = cli(root, "monitor", "check", "monitor.drift")  # the endpoint is not deployed
    assert pending.rc == 1 and "not deployed" in pending.output and "Traceback" not in pending.output
    (root / "now.csv").write_bytes(
        b"tenure,spend,plan\n" + b"".join(b"%d,%d.5,pro\n" % (90 + i % 7, 150 + i) for i in range(80))
    )
    shifted = report(root, "monitor.drift", "--data", "now.csv")
    assert shifted["dataset_drift"] is True and shifted["data"].endswith("now.csv")
    assert shifted["on_drift"]["retrained"] is True  # on_drift runs from a file check too
