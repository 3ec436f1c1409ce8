"""Pipeline executions that run: start_pipeline_execution leaves an execution Executing for
a moment (moto makes it Succeeded at once), then the double runs its definition
(runner.py): a real fit, an evaluation writing its metrics to S3, and a model package
registered with them. list_pipeline_execution_steps (missing from moto) reports the steps
and what each made; a ClientRequestToken makes a start idempotent."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.s3.models import s3_backends
from moto.sagemaker.exceptions import ResourceNotFound
from moto.sagemaker.responses import SageMakerResponse

from . import runner
from .extensions import Original, arn, ext, options
from .registry import new_package


@dataclass
class Execution:
    arn: str
    pipeline: str
    done_at: float
    token: str | None
    steps: list[runner.Step] = field(default_factory=list)
    failure: str | None = None
    finished: bool = False


def start_pipeline_execution(response: SageMakerResponse, original: Original) -> Any:
    token = response._get_param("ClientRequestToken")
    for execution in ext(response).executions.values():
        if token and execution.token == token:
            return ActionResult({"PipelineExecutionArn": execution.arn})
    assert original is not None
    result = original()
    execution_arn = result.result["PipelineExecutionArn"]
    pipeline = response._get_param("PipelineName").rsplit("/", 1)[-1]
    moto_execution = response.sagemaker_backend.pipelines[pipeline].pipeline_executions[execution_arn]
    moto_execution.pipeline_execution_status = "Executing"
    ext(response).executions[execution_arn] = Execution(
        execution_arn, pipeline, time.monotonic() + options(response).pipeline_delay, token
    )
    return result


def describe_pipeline_execution(response: SageMakerResponse, original: Original) -> Any:
    assert original is not None
    result = original()
    found = ext(response).executions.get(response._get_param("PipelineExecutionArn"))
    if found is not None and found.failure:
        result.result["FailureReason"] = found.failure
    return result


def list_pipeline_execution_steps(response: SageMakerResponse, original: Original) -> ActionResult:
    execution_arn = response._get_param("PipelineExecutionArn")
    found = ext(response).executions.get(execution_arn)
    if found is None:
        raise ResourceNotFound(f"Pipeline execution {execution_arn} not found.")
    steps = [s.summary() for s in found.steps]
    if response._get_param("SortOrder", "Descending") == "Descending":
        steps.reverse()
    return ActionResult({"PipelineExecutionSteps": steps})


ACTIONS = {
    "start_pipeline_execution": start_pipeline_execution,
    "describe_pipeline_execution": describe_pipeline_execution,
    "list_pipeline_execution_steps": list_pipeline_execution_steps,
}


def settle(response: SageMakerResponse) -> None:
    """Executions whose time has come run now, in the request that notices it."""
    now = time.monotonic()
    for execution in ext(response).executions.values():
        if not execution.finished and execution.done_at <= now:
            execution.finished = True
            _run(response, execution)


def _run(response: SageMakerResponse, execution: Execution) -> None:
    backend = response.sagemaker_backend
    pipeline = backend.pipelines.get(execution.pipeline)
    if pipeline is None or execution.arn not in pipeline.pipeline_executions:
        return
    moto_execution = pipeline.pipeline_executions[execution.arn]
    s3 = s3_backends[response.current_account][response.partition]
    try:
        definition = _definition(moto_execution)
        parameters = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters") or []}
        parameters.update({p["Name"]: p["Value"] for p in moto_execution.pipeline_parameters or []})
        ctx = runner.Context(
            execution_id=execution.arn.rsplit("/", 1)[-1],
            parameters={k: str(v) for k, v in parameters.items() if v is not None},
            get_object=lambda uri: _get(s3, uri),
            put_object=lambda uri, data: _put(s3, uri, data),
            register=lambda args: new_package(response, args),
            arn=lambda kind, name: arn(response, kind, name),
        )
        runner.run(definition, ctx, execution.steps)
        moto_execution.pipeline_execution_status = "Succeeded"
    except runner.StepFailed as exc:
        execution.failure = str(exc)
        moto_execution.pipeline_execution_status = "Failed"
    moto_execution.last_modified_time = utcnow()


def _definition(moto_execution: Any) -> dict[str, Any]:
    try:
        found = json.loads(moto_execution.pipeline_definition_for_execution or "{}")
    except ValueError as exc:
        raise runner.StepFailed(f"the pipeline definition is not JSON: {exc}") from None
    return found if isinstance(found, dict) else {}


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise runner.StepFailed(f"{uri} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _put(s3: Any, uri: str, data: bytes) -> None:
    s3.put_object(*_split(uri), data)


def _get(s3: Any, uri: str) -> tuple[bytes, str | None]:
    """The object at `uri`, or the first under it when it is a prefix (S3Prefix channels)."""
    bucket_name, key = _split(uri)
    found = s3.get_object(bucket_name, key)
    if found is None:
        bucket = s3.get_bucket(bucket_name)
        under = sorted(k for k in bucket.keys if k.startswith(key.rstrip("/") + "/"))
        found = s3.get_object(bucket_name, under[0]) if under else None
    if found is None:
        raise runner.StepFailed(f"no training data at {uri}")
    return bytes(found.value), None
