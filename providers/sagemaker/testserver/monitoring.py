"""Monitoring schedules (moto has none of the calls) and data quality job definitions with
unique names. A schedule names a job definition that must exist; its endpoint is the one
that definition reads. Its ScheduleExpression is one SageMaker documents for monitoring
(hourly `cron(0 * ? * * *)`, daily `cron(0 H ? * * *)`, every few hours `cron(0 H/N ? * *
*)`); a job definition a schedule names cannot be deleted (ResourceInUse)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from .extensions import Original, arn, ext, unique


@dataclass
class Schedule:
    name: str
    arn: str
    config: dict[str, Any]
    monitoring_type: str
    endpoint: str | None
    tags: list[dict[str, str]] = field(default_factory=list)
    created: datetime = field(default_factory=utcnow)
    modified: datetime = field(default_factory=utcnow)

    def describe(self) -> dict[str, Any]:
        return {
            "MonitoringScheduleArn": self.arn,
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": self.monitoring_type,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "MonitoringScheduleConfig": self.config,
            **({"EndpointName": self.endpoint} if self.endpoint else {}),
        }

    def summary(self) -> dict[str, Any]:
        return {
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleArn": self.arn,
            "CreationTime": self.created,
            "LastModifiedTime": self.modified,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": self.monitoring_type,
            **({"EndpointName": self.endpoint} if self.endpoint else {}),
            **(
                {"MonitoringJobDefinitionName": self.config["MonitoringJobDefinitionName"]}
                if self.config.get("MonitoringJobDefinitionName")
                else {}
            ),
        }


def _endpoint_of(response: SageMakerResponse, config: dict[str, Any]) -> tuple[str, str | None]:
    """(monitoring type, endpoint) of a schedule's config; its job definition must exist."""
    kind = config.get("MonitoringType", "DataQuality")
    name = config.get("MonitoringJobDefinitionName")
    if name is None:
        inputs = (config.get("MonitoringJobDefinition") or {}).get("MonitoringInputs") or [{}]
        return kind, (inputs[0].get("EndpointInput") or {}).get("EndpointName")
    job = response.sagemaker_backend.data_quality_job_definitions.get(name)
    if kind == "DataQuality" and job is None:
        raise ValidationError(f"Job definition {name} does not exist.")
    endpoint = (
        ((job.data_quality_job_input or {}).get("EndpointInput") or {}).get("EndpointName") if job else None
    )
    return kind, endpoint


EXPRESSION = re.compile(r"cron\(0 (\*|\d{1,2}|\d{1,2}/\d{1,2}) \? \* \* \*\)")


def _check_expression(config: dict[str, Any]) -> None:
    expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression")
    if expression is not None and not EXPRESSION.fullmatch(str(expression)):
        raise ValidationError(
            f"Invalid ScheduleExpression {expression}: use cron(0 * ? * * *), cron(0 H ? * * *) "
            "or cron(0 H/N ? * * *)."
        )


def _schedule(response: SageMakerResponse) -> Schedule:
    name = response._get_param("MonitoringScheduleName")
    found: Schedule | None = ext(response).schedules.get(name)
    if found is None:
        raise ResourceNotFound(f"Monitoring Schedule {arn(response, 'monitoring-schedule', name)} not found.")
    return found


def create_monitoring_schedule(response: SageMakerResponse, original: Original) -> ActionResult:
    name, schedules = response._get_param("MonitoringScheduleName"), ext(response).schedules
    if name in schedules:
        raise ResourceInUseException(f"Monitoring Schedule {name} already exists.")
    config = response._get_param("MonitoringScheduleConfig")
    _check_expression(config)
    kind, endpoint = _endpoint_of(response, config)
    schedule = Schedule(
        name,
        arn(response, "monitoring-schedule", name),
        config,
        kind,
        endpoint,
        list(response._get_param("Tags") or []),
    )
    schedules[name] = schedule
    return ActionResult({"MonitoringScheduleArn": schedule.arn})


def describe_monitoring_schedule(response: SageMakerResponse, original: Original) -> ActionResult:
    return ActionResult(_schedule(response).describe())


def update_monitoring_schedule(response: SageMakerResponse, original: Original) -> ActionResult:
    schedule = _schedule(response)
    config = response._get_param("MonitoringScheduleConfig")
    _check_expression(config)
    schedule.monitoring_type, schedule.endpoint = _endpoint_of(response, config)
    schedule.config, schedule.modified = config, utcnow()
    return ActionResult({"MonitoringScheduleArn": schedule.arn})


def delete_monitoring_schedule(response: SageMakerResponse, original: Original) -> Any:
    del ext(response).schedules[_schedule(response).name]
    return EmptyResult()


def list_monitoring_schedules(response: SageMakerResponse, original: Original) -> ActionResult:
    endpoint = response._get_param("EndpointName")
    contains = response._get_param("NameContains") or ""
    found = [
        s.summary()
        for s in ext(response).schedules.values()
        if contains in s.name and (endpoint is None or s.endpoint == endpoint)
    ]
    return ActionResult({"MonitoringScheduleSummaries": found})


create_data_quality_job_definition = unique(
    "JobDefinitionName",
    "data_quality_job_definitions",
    lambda response, name: ResourceInUseException(f"Job definition {name} already exists."),
)


def delete_data_quality_job_definition(response: SageMakerResponse, original: Original) -> Any:
    name = response._get_param("JobDefinitionName")
    users = [
        s.name
        for s in ext(response).schedules.values()
        if s.config.get("MonitoringJobDefinitionName") == name
    ]
    if users:
        raise ResourceInUseException(f"Job definition {name} is used by monitoring schedule {users[0]}.")
    assert original is not None
    return original()


ACTIONS = {
    "create_monitoring_schedule": create_monitoring_schedule,
    "describe_monitoring_schedule": describe_monitoring_schedule,
    "update_monitoring_schedule": update_monitoring_schedule,
    "delete_monitoring_schedule": delete_monitoring_schedule,
    "list_monitoring_schedules": list_monitoring_schedules,
    "create_data_quality_job_definition": create_data_quality_job_definition,
    "delete_data_quality_job_definition": delete_data_quality_job_definition,
}
