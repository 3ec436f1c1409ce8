"""A pipeline execution, run by the double: the definition JSON's steps in order, each step's
Arguments checked against botocore's shape of the request it stands for (CreateTrainingJob,
CreateProcessingJob, CreateModelPackage), references resolved (`{"Get": "Parameters.X"}`,
`{"Get": "Execution.PipelineExecutionId"}`, `{"Get": "Steps.S.ModelArtifacts.
S3ModelArtifacts"}`, `{"Std:Join": {"On": "/", "Values": [...]}}`).

- Training: a real fit on the first input channel's S3 object (training.py); the model
  artifact is written to `<S3OutputPath>/<job>/output/model.tar.gz`.
- Processing, with a PropertyFiles entry: the evaluation; it writes the trained model's
  metrics as `{"metrics": {name: {"value": v}}}` to the named output's S3 URI + FilePath,
  and beside it the held-out split it scored (training.split), which the report names
  (`{"evaluation": {"split": "evaluation_split.parquet"}}`).
- RegisterModel: a model package in its group, as CreateModelPackage makes one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow

from . import training

SPLIT_FILE = "evaluation_split.parquet"  # the held-out rows the evaluation scored
TRAIN_TRIM = ("TrainingJobName",)  # filled by the pipeline, not by the definition
PROCESS_TRIM = ("ProcessingJobName",)


@dataclass
class Step:
    name: str
    type: str
    status: str = "Executing"
    started: datetime = field(default_factory=utcnow)
    ended: datetime | None = None
    failure: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "StepName": self.name,
            "StepType": self.type,
            "StartTime": self.started,
            "StepStatus": self.status,
            "Metadata": self.metadata,
            **({"EndTime": self.ended} if self.ended else {}),
            **({"FailureReason": self.failure} if self.failure else {}),
        }


class StepFailed(Exception):
    pass


@dataclass
class Context:
    """What a run needs from the double: S3 reads and writes, the registry, ARNs."""

    execution_id: str
    parameters: dict[str, str]
    get_object: Callable[[str], tuple[bytes, str | None]]  # s3 uri -> (bytes, content type)
    put_object: Callable[[str, bytes], None]
    register: Callable[[dict[str, Any]], str]  # CreateModelPackage arguments -> its ARN
    arn: Callable[[str, str], str]  # (kind, name) -> ARN
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # step -> its properties
    trained: dict[str, training.Trained] = field(default_factory=dict)


def run(definition: dict[str, Any], ctx: Context, steps: list[Step]) -> None:
    """Run every step, appending each to `steps`; a failing step raises StepFailed."""
    done: set[str] = set()
    for raw in definition.get("Steps") or []:
        step = Step(str(raw.get("Name")), str(raw.get("Type")))
        steps.append(step)
        try:
            waiting = [d for d in raw.get("DependsOn") or [] if d not in done]
            if waiting:
                raise StepFailed(
                    f"step {step.name} depends on {', '.join(waiting)}, which did not run before it"
                )
            args = resolve(raw.get("Arguments") or {}, ctx)
            RUNNERS.get(step.type, _unknown)(step, raw, args, ctx)
        except Exception as exc:  # a failing step fails the execution with its reason
            step.status, step.failure, step.ended = "Failed", f"{type(exc).__name__}: {exc}", utcnow()
            raise StepFailed(f"step {step.name} failed: {exc}") from exc
        step.status, step.ended = "Succeeded", utcnow()
        done.add(step.name)


def resolve(value: Any, ctx: Context) -> Any:
    if isinstance(value, list):
        return [resolve(v, ctx) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Get"}:
        return _get(str(value["Get"]), ctx)
    if set(value) == {"Std:Join"}:
        join = value["Std:Join"]
        return str(join.get("On", "")).join(str(resolve(v, ctx)) for v in join.get("Values") or [])
    return {k: resolve(v, ctx) for k, v in value.items()}


def _get(path: str, ctx: Context) -> Any:
    head, _, rest = path.partition(".")
    if head == "Parameters" and rest in ctx.parameters:
        return ctx.parameters[rest]
    if path == "Execution.PipelineExecutionId":
        return ctx.execution_id
    if head == "Steps":
        name, _, prop = rest.partition(".")
        found: Any = ctx.outputs.get(name)
        for part in prop.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if found is not None:
            return found
    raise StepFailed(f"the reference {path} names nothing known at this point of the execution")


def _checked(args: dict[str, Any], operation: str, trim: tuple[str, ...]) -> None:
    from botocore.validate import ParamValidator

    from .shapes import operation as op_model

    shape = op_model(operation).input_shape
    wanted = {**{k: "x" for k in trim}, **args}
    report = ParamValidator().validate(wanted, shape)
    if report.has_errors():
        raise StepFailed(f"the {operation} arguments are wrong: {report.generate_report()}")


def _train(step: Step, raw: dict[str, Any], args: dict[str, Any], ctx: Context) -> None:
    _checked(args, "CreateTrainingJob", TRAIN_TRIM)
    channels = args.get("InputDataConfig") or []
    if not channels:
        raise StepFailed("the training step has no input channel")
    uri = channels[0]["DataSource"]["S3DataSource"]["S3Uri"]
    data, content_type = ctx.get_object(uri)
    table = training.read_table(data, channels[0].get("ContentType") or content_type, uri)
    trained = training.fit(table, dict(args.get("HyperParameters") or {}))
    job = f"{step.name.lower()}-{ctx.execution_id}"
    model_uri = f"{args['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job}/output/model.tar.gz"
    ctx.put_object(model_uri, training.artifact(trained))
    ctx.trained[step.name] = trained
    ctx.outputs[step.name] = {"ModelArtifacts": {"S3ModelArtifacts": model_uri}, "TrainingJobName": job}
    step.metadata = {"TrainingJob": {"Arn": ctx.arn("training-job", job)}}


def _process(step: Step, raw: dict[str, Any], args: dict[str, Any], ctx: Context) -> None:
    _checked(args, "CreateProcessingJob", PROCESS_TRIM)
    job = f"{step.name.lower()}-{ctx.execution_id}"
    step.metadata = {"ProcessingJob": {"Arn": ctx.arn("processing-job", job)}}
    outputs = {o["OutputName"]: o for o in (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []}
    for prop in raw.get("PropertyFiles") or []:
        if not ctx.trained:
            raise StepFailed("an evaluation step needs a training step before it")
        trained = list(ctx.trained.values())[-1]
        output = outputs.get(prop.get("OutputName"))
        if output is None:
            raise StepFailed(f"the property file {prop.get('PropertyFileName')} names no output")
        report = {
            "metrics": {k: {"value": v} for k, v in training.metrics(trained).items()},
            "evaluation": {
                "rows": len(trained.y_test),
                "of": trained.rows,
                "label": trained.label,
                "split": SPLIT_FILE,  # beside the report
            },
        }
        folder = output["S3Output"]["S3Uri"].rstrip("/")
        ctx.put_object(f"{folder}/{prop['FilePath']}", json.dumps(report, indent=2).encode())
        ctx.put_object(f"{folder}/{SPLIT_FILE}", training.split(trained))
    ctx.outputs[step.name] = {"ProcessingJobName": job}


def _register(step: Step, raw: dict[str, Any], args: dict[str, Any], ctx: Context) -> None:
    _checked(args, "CreateModelPackage", ())
    package = ctx.register(args)
    step.metadata = {"RegisterModel": {"Arn": package}}
    ctx.outputs[step.name] = {"ModelPackageArn": package}


def _unknown(step: Step, raw: dict[str, Any], args: dict[str, Any], ctx: Context) -> None:
    raise StepFailed(f"the double runs Training, Processing and RegisterModel steps, not {step.type}")


RUNNERS = {"Training": _train, "Processing": _process, "RegisterModel": _register}
