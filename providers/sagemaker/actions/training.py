"""A training pipeline's runs: pipeline executions, started and followed (with progress) or
looked up by their ARN, which is both the run's id and its job's: any machine can follow it."""

from __future__ import annotations

from typing import Any

from mlops_decl.actions.results import FAILED, RUNNING, SUCCEEDED, RunHandle, RunStatus
from mlops_decl.cloud.operations import Statuses, StillRunning, follow
from mlops_decl.operation import detached
from mlops_decl.provider import Attributes, Category, ProviderError, RuntimeContext

from ..client import Clients, call, found
from .registry import version_evidence

STATUS = {
    "Executing": RUNNING,
    "Stopping": RUNNING,
    "Succeeded": SUCCEEDED,
    "Failed": FAILED,
    "Stopped": "killed",
}
EXECUTION: Statuses[dict[str, Any]] = Statuses(
    status=lambda d: d["PipelineExecutionStatus"],
    done={"Succeeded"},
    failed={"Failed", "Stopped"},
    reason=lambda d: d.get("FailureReason"),
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else None


def run(clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext, wait: bool = True) -> RunHandle:
    """Start an execution; with `wait`, follow it to its end, showing progress."""
    sm = clients.sagemaker
    started = call(sm.start_pipeline_execution, f"run pipeline {id}", PipelineName=id)
    arn = str(started["PipelineExecutionArn"])
    rt.started(arn, arn)
    if not wait:
        return RunHandle(arn, RUNNING, arn)
    op = detached("run", f"training_pipeline.{id}")
    op.on_progress = rt.emit
    describe = lambda: call(sm.describe_pipeline_execution, f"follow run {arn}", PipelineExecutionArn=arn)  # noqa: E731
    try:
        follow(describe, EXECUTION, op, f"pipeline {id}", interval=1.0, max_interval=15.0)
    except StillRunning:
        return RunHandle(arn, RUNNING, arn)
    except ProviderError:
        return RunHandle(arn, FAILED, arn)
    return RunHandle(arn, SUCCEEDED, arn)


def run_status(clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext, run_id: str) -> RunStatus:
    sm = clients.sagemaker
    got = found(sm.describe_pipeline_execution, f"read run {run_id}", PipelineExecutionArn=run_id)
    if got is None:
        raise ProviderError(f"pipeline {id} has no run {run_id}", category=Category.NOT_FOUND)
    status = STATUS.get(str(got["PipelineExecutionStatus"]), RUNNING)
    steps = call(sm.list_pipeline_execution_steps, f"read run {run_id}", PipelineExecutionArn=run_id)
    package = next(
        (
            s["Metadata"]["RegisterModel"]["Arn"]
            for s in steps.get("PipelineExecutionSteps") or []
            if (s.get("Metadata") or {}).get("RegisterModel")
        ),
        None,
    )
    model, version, evidence = None, None, None
    if package:
        model, version = package.split("/")[-2], int(package.rsplit("/", 1)[1])
        group = attrs.get("registers") or model
        evidence = version_evidence(clients, str(group), {}, rt, version)
        model = str(group)
    return RunStatus(
        run_id=run_id,
        status=status,
        job_id=run_id,
        model=model,
        version=version,
        metrics=dict(evidence.metrics) if evidence else {},
        params=dict(evidence.params) if evidence else {},
        dataset_versions=dict(evidence.dataset_versions) if evidence else {},
        started=_iso(got.get("CreationTime")),
        ended=_iso(got.get("LastModifiedTime")) if status != RUNNING else None,
        error=got.get("FailureReason") or None,
    )
