"""training_pipeline: a SageMaker Pipeline whose definition JSON is generated from the resource
(pipelines/definition.py: train, evaluate, register); its runs are actions/training.py.

The training data is the `labels` dataset when given, else the first input: an S3 dataset's
id (`s3://bucket/key`). The `sagemaker:` block carries `image_uri`, `instance_type` and
`role` (default: the provider's execution_role); run artifacts go under the provider's
`artifacts` prefix (or the block's). read() answers the hash of the live definition, plan()
the hash of the one the resource generates, so an edit on either side is a change.
"""

from __future__ import annotations

import hashlib

from mlops_decl.operation import Operation
from mlops_decl.provider import (
    DETACHED,
    NAME_KEY,
    Attributes,
    Category,
    CheckContext,
    ConfigError,
    Planned,
    ProviderError,
)

from .base import MANAGED, SageMakerHandler, block_of, public, tag_dict
from .client import attempt, call, found
from .errors import already_exists, provider_error
from .pipelines.definition import PipelineSpec, dumps
from .schedules import drop_schedule, eventbridge_cron, problems, put_schedule, read_schedule

BLOCK_KEYS = {"image_uri", "instance_type", "role", "artifacts", "schedule_role"}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class TrainingPipelineHandler(SageMakerHandler):
    kind = "training_pipeline"
    idempotent_create = True  # names from the identity: a retried create adopts its object
    computed = frozenset({"id", "name", "arn", "definition_sha"})

    def spec(self, desired: Attributes, name: str) -> PipelineSpec:
        block = block_of(desired, BLOCK_KEYS, "pipeline")
        if desired.get("entrypoint"):
            raise ConfigError("on sagemaker a pipeline trains an `estimator`", field=("entrypoint",))
        data = desired.get("labels") or (desired.get("inputs") or [None])[0]
        if not str(data or "").startswith("s3://"):
            raise ConfigError(
                "on sagemaker the training data is an S3 dataset",
                field=("labels",) if desired.get("labels") else ("inputs", 0),
                hint="point it at a dataset on the sagemaker provider (uri: s3://...)",
            )
        for key, fallback in (
            ("image_uri", None),
            ("role", self.clients.settings.execution_role),
            ("artifacts", self.clients.settings.artifacts),
        ):
            if not (block.get(key) or fallback):
                raise ConfigError(f"the pipeline needs sagemaker.{key}", field=("sagemaker", key))
        split = dict(desired.get("split") or {})
        return PipelineSpec(
            training_data=str(data),
            label=str(desired["label"]),
            group=str(desired["registers"]),
            artifacts=f"{str(block.get('artifacts') or self.clients.settings.artifacts).rstrip('/')}/{name}",
            image_uri=str(block["image_uri"]),
            role=str(block.get("role") or self.clients.settings.execution_role),
            instance_type=str(block.get("instance_type") or "ml.m5.large"),
            estimator=str(desired.get("estimator") or "sklearn.linear_model.LogisticRegression"),
            hyperparameters=dict(desired.get("hyperparameters") or {}),
            task=desired.get("task"),
            test_size=float(split.get("test_size", 0.2)),
            seed=int(split.get("seed", 42)),
            metadata={"mlops:pipeline": name},
            record={k: v for k, v in public(desired).items() if k not in self.computed},
        )

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned:
        planned = public(desired)
        name = prior["name"] if prior else self.name_for(DETACHED, desired)
        planned["name"] = name
        planned["definition_sha"] = _sha(dumps(self.spec(desired, name)))
        if prior and prior.get("arn"):
            planned["arn"] = prior["arn"]
        return Planned(planned)

    def validate(self, desired: Attributes, ctx: CheckContext) -> list[ConfigError]:
        return problems(desired)  # at plan: an apply would fail half-way

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        got = found(self.clients.sagemaker.describe_pipeline, f"read pipeline {id}", PipelineName=id)
        if got is None:
            return None
        fields = {k: v for k, v in prior.items() if k not in self.computed}
        if not fields:  # an import: the resource's fields as the definition recorded them
            fields = _recorded(got["PipelineDefinition"])
        if fields.get("schedule"):  # gone or changed on EventBridge: the plan puts it back
            live = read_schedule(self.clients, id)
            if live != eventbridge_cron(str(fields["schedule"])):
                fields["schedule"] = live
        return {
            **fields,
            "name": id,
            "arn": got["PipelineArn"],
            "definition_sha": _sha(got["PipelineDefinition"]),
        }

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        name, identity = self.name_for(op, desired), self.identity(op, desired)
        spec = self.spec(desired, name)
        sm = self.clients.sagemaker
        _, exc = attempt(
            sm.create_pipeline,
            f"create pipeline {name}",
            PipelineName=name,
            PipelineDefinition=dumps(spec),
            RoleArn=spec.role,
            ClientRequestToken=op.token(),
            Tags=self.tags(desired, identity),
        )
        if exc is not None and not already_exists(exc):
            raise provider_error(exc, f"create pipeline {name}")
        op.record_id(name, {"name": name})
        if exc is not None:
            live = call(sm.describe_pipeline, f"read pipeline {name}", PipelineName=name)
            tags = tag_dict(
                call(sm.list_tags, f"read pipeline {name}", ResourceArn=live["PipelineArn"]).get("Tags")
            )
            if tags.get(MANAGED) != identity:
                raise ProviderError(
                    f"a pipeline named {name} exists and is not this resource's; import it with "
                    f"`mlops-decl import training_pipeline.{desired.get(NAME_KEY)} {name}`",
                    category=Category.CONFLICT,
                )
            return name, self.update(name, {}, desired, op)
        attrs = self._attributes(name, desired, spec)
        if desired.get("schedule"):
            self._schedule(name, desired, attrs["arn"], spec, op)
        return name, attrs

    def _attributes(self, name: str, desired: Attributes, spec: PipelineSpec) -> Attributes:
        live = call(self.clients.sagemaker.describe_pipeline, f"read pipeline {name}", PipelineName=name)
        return {
            **public(desired),
            "name": name,
            "arn": live["PipelineArn"],
            "definition_sha": _sha(dumps(spec)),
        }

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        spec = self.spec(desired, id)
        sm = self.clients.sagemaker
        call(
            sm.update_pipeline,
            f"update pipeline {id}",
            PipelineName=id,
            PipelineDefinition=dumps(spec),
            RoleArn=spec.role,
        )
        attrs = self._attributes(id, desired, spec)
        call(
            sm.add_tags,
            f"tag pipeline {id}",
            ResourceArn=attrs["arn"],
            Tags=self.tags(desired, self.identity(op, desired)),
        )
        self._schedule(id, desired, attrs["arn"], spec, op)
        return attrs

    def _schedule(self, name: str, desired: Attributes, arn: str, spec: PipelineSpec, op: Operation) -> None:
        """The pipeline's schedule on EventBridge Scheduler, or none when it has none."""
        if not desired.get("schedule"):
            drop_schedule(self.clients, name)
            return
        role = block_of(desired, BLOCK_KEYS, "pipeline").get("schedule_role") or spec.role
        expression = eventbridge_cron(str(desired["schedule"]))
        put_schedule(self.clients, name, expression, arn, str(role), self.identity(op, desired))

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        got = found(self.clients.sagemaker.describe_pipeline, f"read pipeline {id}", PipelineName=id)
        if got is not None:
            drop_schedule(self.clients, id)
            found(
                self.clients.sagemaker.delete_pipeline,
                f"delete pipeline {id}",
                PipelineName=id,
                ClientRequestToken=op.token(id),
            )

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By the pipeline's name or ARN."""
        name = ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref
        got = self.read(name, {}, op)
        return None if got is None else (name, got)


def _recorded(definition: str) -> Attributes:
    import json

    try:
        got = json.loads(definition).get("Metadata", {}).get("mlops-decl", {})
    except (ValueError, AttributeError):
        return {}
    return got if isinstance(got, dict) else {}
