"""A monitor's SageMaker objects: the data-quality job definition (immutable on SageMaker:
named after its content, so a changed one is a new one and a retried create finds its own)
and the monitoring schedule that runs it on the endpoint's captured data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlops_decl.cloud.naming import cloud_name, idempotency_token

from ..client import Clients, absent_ok, call, found

# SageMaker Model Monitor's analyzer image, by region (the account that publishes it)
ANALYZER = {
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
    "ca-central-1": "536280801234",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "eu-central-1": "048819808253",
    "eu-north-1": "895015795356",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "ap-south-1": "126357580389",
    "sa-east-1": "539772159869",
}


@dataclass(frozen=True)
class Job:
    """What the job definition says: where, on what, as whom."""

    endpoint: str
    prefix: str  # s3://.../<monitor>: baseline/ and reports/ under it
    image: str | None  # None: the region's analyzer
    instance_type: str
    role: str


def image_of(clients: Clients, image: str | None) -> str:
    region = clients.settings.region
    return image or f"{ANALYZER[region]}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"


def _arguments(clients: Clients, job: Job) -> dict[str, Any]:
    return {
        "DataQualityBaselineConfig": {
            "ConstraintsResource": {"S3Uri": f"{job.prefix}/baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": f"{job.prefix}/baseline/statistics.json"},
        },
        "DataQualityAppSpecification": {"ImageUri": image_of(clients, job.image)},
        "DataQualityJobInput": {
            "EndpointInput": {
                "EndpointName": job.endpoint,
                "LocalPath": "/opt/ml/processing/input/endpoint",
                "S3InputMode": "File",
            }
        },
        "DataQualityJobOutputConfig": {
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": f"{job.prefix}/reports",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    }
                }
            ]
        },
        "JobResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": job.instance_type, "VolumeSizeInGB": 20}
        },
        "RoleArn": job.role,
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def ensure_job_definition(clients: Clients, name: str, job: Job, tags: list[dict[str, str]]) -> str:
    """The job definition for this content, made unless it exists; its name."""
    args = _arguments(clients, job)
    definition = cloud_name(name, suffix="-" + idempotency_token(json.dumps(args, sort_keys=True), length=10))
    sm = clients.sagemaker
    what = f"job definition {definition}"
    if found(sm.describe_data_quality_job_definition, f"read {what}", JobDefinitionName=definition) is None:
        call(
            sm.create_data_quality_job_definition,
            f"create {what}",
            JobDefinitionName=definition,
            Tags=tags,
            **args,
        )
    return definition


def drop_job_definition(clients: Clients, definition: str) -> None:
    sm = clients.sagemaker
    absent_ok(
        sm.delete_data_quality_job_definition,
        f"delete job definition {definition}",
        JobDefinitionName=definition,
    )


def describe_schedule(clients: Clients, name: str) -> dict[str, Any] | None:
    sm = clients.sagemaker
    got: dict[str, Any] | None = found(
        sm.describe_monitoring_schedule, f"read monitoring schedule {name}", MonitoringScheduleName=name
    )
    return got


def put_schedule(
    clients: Clients, name: str, definition: str, expression: str, tags: list[dict[str, str]]
) -> str:
    """The schedule running `definition` on `expression`: created, or moved onto it in place;
    its ARN."""
    config = {
        "MonitoringJobDefinitionName": definition,
        "MonitoringType": "DataQuality",
        "ScheduleConfig": {"ScheduleExpression": expression},
    }
    sm = clients.sagemaker
    if describe_schedule(clients, name) is None:
        got = call(
            sm.create_monitoring_schedule,
            f"create monitoring schedule {name}",
            MonitoringScheduleName=name,
            MonitoringScheduleConfig=config,
            Tags=tags,
        )
    else:
        got = call(
            sm.update_monitoring_schedule,
            f"update monitoring schedule {name}",
            MonitoringScheduleName=name,
            MonitoringScheduleConfig=config,
        )
    return str(got["MonitoringScheduleArn"])


def drop_schedule(clients: Clients, name: str, known: set[str | None]) -> None:
    """The schedule, then the job definitions it and `known` name (once nothing uses them)."""
    schedule = describe_schedule(clients, name)
    definitions = set(known)
    if schedule is not None:
        definitions.add((schedule.get("MonitoringScheduleConfig") or {}).get("MonitoringJobDefinitionName"))
        sm = clients.sagemaker
        absent_ok(
            sm.delete_monitoring_schedule, f"delete monitoring schedule {name}", MonitoringScheduleName=name
        )
    for definition in sorted(d for d in definitions if d):
        drop_job_definition(clients, definition)
