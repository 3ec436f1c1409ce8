"""Schedules on SageMaker: a config's cron in EventBridge's six-field form (the `?` day rule,
days of the week by name), refused at plan when EventBridge cannot say it; a training
pipeline's schedule as an EventBridge Scheduler schedule starting the pipeline, through the
CLI against the moto server; a monitor's schedule within what SageMaker monitoring runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sagemaker_helpers import client
from sagemaker_monitor_project import (
    ok,
    project,
    served,
)

from mlops_decl.provider import ConfigError
from mlops_decl.providers.sagemaker.schedules import eventbridge_cron, every_few_hours
from mlops_decl.providers.sagemaker.testserver import SageMakerServer
from mlops_decl.testing.project import cli, state_ids


@pytest.fixture
def aws() -> Iterator[SageMakerServer]:
    with served() as server:
        yield server


@pytest.mark.parametrize(
    ("cron", "eventbridge"),
    [
        ("0 3 * * 1", "cron(0 3 ? * MON *)"),
        ("*/15 * * * *", "cron(0/15 * ? * * *)"),
        ("30 2 1,15 * *", "cron(30 2 1,15 * ? *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)"),
        ("0 0 * * 0,6", "cron(0 0 ? * SUN,SAT *)"),
        ("0 0 * * 7", "cron(0 0 ? * SUN *)"),
        ("0 0 * * 5-7", "cron(0 0 ? * FRI-SAT,SUN *)"),
        ("0 12 */2 * *", "cron(0 12 1/2 * ? *)"),
        ("15 4 * 1-6 *", "cron(15 4 ? 1-6 * *)"),
        ("0 6 * * sun", "cron(0 6 ? * SUN *)"),
        ("@hourly", "cron(0 * ? * * *)"),
        ("@daily", "cron(0 0 ? * * *)"),
        ("@weekly", "cron(0 0 ? * SUN *)"),
        ("@monthly", "cron(0 0 1 * ? *)"),
        ("@yearly", "cron(0 0 1 1 ? *)"),
    ],
)
def test_cron_in_eventbridge_form(cron: str, eventbridge: str) -> None:
    assert eventbridge_cron(cron) == eventbridge


@pytest.mark.parametrize(
    ("cron", "why"),
    [
        ("0 0 1 * 1", "both a day of the month and a day of the week"),
        ("0 0 * * */2", "day-of-week step"),
        ("0 0 * * 5-1", "runs backwards"),
        ("0 0 * *", "five cron fields"),
    ],
)
def test_what_eventbridge_cannot_say_is_a_config_error(cron: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why) as info:
        eventbridge_cron(cron)
    assert info.value.field == ("schedule",)


def test_a_monitor_runs_hourly_daily_or_every_few_hours() -> None:
    assert every_few_hours("0 */4 * * *") == "cron(0 0/4 ? * * *)"
    assert every_few_hours("0 6 * * *") == "cron(0 6 ? * * *)"
    for cron in ("30 * * * *", "0 3 * * 1", "@monthly"):
        with pytest.raises(ConfigError, match="hourly, daily or every few hours"):
            every_few_hours(cron)


def with_schedule(root: Path, server: SageMakerServer, cron: str | None, monitor: str = "@daily") -> None:
    import json

    project(root, server, schedule=monitor)
    config = json.loads((root / "mlops.yaml").read_text())
    pipeline = config["resources"]["training_pipeline"]["train"]
    if cron is None:
        pipeline.pop("schedule", None)
    else:
        pipeline["schedule"] = cron
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2))


def test_a_pipeline_schedule_is_an_eventbridge_schedule_starting_the_pipeline(
    aws: SageMakerServer, tmp_path: Path
) -> None:
    root = tmp_path / "shop"
    with_schedule(root, aws, "0 3 * * 1")
    ok(root, "apply", "--auto-approve")
    scheduler = client(aws, "scheduler")
    name = state_ids(root)["training_pipeline.train"]
    got = scheduler.get_schedule(Name=name)
    assert got["ScheduleExpression"] == "cron(0 3 ? * MON *)" and got["ScheduleExpressionTimezone"] == "UTC"
    pipeline_arn = client(aws, "sagemaker").describe_pipeline(PipelineName=name)["PipelineArn"]
    assert got["Target"]["Arn"] == pipeline_arn and "SageMakerPipelineParameters" in got["Target"]
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    with_schedule(root, aws, "@daily")  # changed: the schedule is updated in place
    plan = cli(root, "plan", "--detailed-exitcode")
    assert plan.rc == 2 and "1 to change" in plan.output, plan.output
    ok(root, "apply", "--auto-approve")
    assert scheduler.get_schedule(Name=name)["ScheduleExpression"] == "cron(0 0 ? * * *)"

    scheduler.delete_schedule(Name=name)  # deleted on AWS: the plan puts it back
    assert cli(root, "plan", "--detailed-exitcode").rc == 2
    ok(root, "apply", "--auto-approve")
    assert scheduler.get_schedule(Name=name)["ScheduleExpression"] == "cron(0 0 ? * * *)"

    with_schedule(root, aws, None)  # no schedule any more: none on EventBridge either
    ok(root, "apply", "--auto-approve")
    assert scheduler.list_schedules()["Schedules"] == []
    with_schedule(root, aws, "0 0 * * *")
    ok(root, "apply", "--auto-approve")
    ok(root, "destroy", "--auto-approve")
    assert scheduler.list_schedules()["Schedules"] == []


@pytest.mark.parametrize(
    ("pipeline", "monitor", "field"),
    [("0 0 1 * 1", "@daily", "training_pipeline.train"), (None, "30 * * * *", "monitor.drift")],
)
def test_a_schedule_aws_cannot_run_fails_the_plan_before_anything_is_made(
    aws: SageMakerServer, tmp_path: Path, pipeline: str | None, monitor: str, field: str
) -> None:
    root = tmp_path / "shop"
    with_schedule(root, aws, pipeline, monitor=monitor)
    plan = cli(root, "plan")
    assert plan.rc == 1 and "Traceback" not in plan.output, plan.output
    assert "mlops.yaml:" in plan.output and field in plan.output and "schedule" in plan.output
    assert client(aws, "sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    assert state_ids(root) == {}
