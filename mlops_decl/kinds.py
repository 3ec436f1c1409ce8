"""The seven resource kinds, provider-neutral, as pydantic models (docs/kinds.md).

The single definition of what each kind holds. These validate *resolved* values.
`mlops_decl.schema` derives from them the raw-YAML models (where any field may also hold a
`${...}` string) and the JSON Schema in schemas/; `mlops_decl.compile_kinds` derives the
pydantic-core schemas in kinds_compiled.py, which the commands validate with, so that a start
does not pay for importing pydantic and building these classes (~50 ms). Names and the
cross-field rules live in kind_rules.py, shared by both; computed attributes are each
provider's (mlops_decl.provider_schema).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlops_decl import kind_rules as rules
from mlops_decl.kind_rules import META_ARGUMENTS, PROVIDER_BLOCKS

__all__ = ["KINDS", "META_ARGUMENTS", "PROVIDER_BLOCKS"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# A duration as Terraform's timeouts take it: 30m, 1h, 90s, 1h30m.
Duration = Annotated[
    str,
    Field(
        pattern=rules.TIMEOUT_PATTERN,
        min_length=2,
        description="a duration: hours, minutes, seconds, e.g. 30m, 1h, 90s, 1h30m",
    ),
]


class Timeouts(Strict):
    """How long one call on this resource may take before the apply gives up waiting; the
    default is the provider's for the kind (cloud endpoints: tens of minutes)."""

    create: Duration | None = None
    update: Duration | None = None
    delete: Duration | None = None
    read: Duration | None = None


class Lifecycle(Strict):
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    ignore_changes: list[str] = Field(default_factory=list)
    timeouts: Timeouts = Field(default_factory=Timeouts)


class Resource(Strict):
    """Fields every kind has. Meta-arguments are not sent to providers as attributes."""

    # meta-arguments
    provider: str | None = Field(None, description="provider name; default: the project's default_provider")
    depends_on: list[str] = Field(default_factory=list, description="extra dependencies: kind.name addresses")
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    # attributes every kind carries
    tags: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    # provider-specific extras, e.g. sagemaker: {image_uri: ...}
    local: dict[str, Any] | None = None
    sagemaker: dict[str, Any] | None = None
    vertex: dict[str, Any] | None = None
    databricks: dict[str, Any] | None = None


class Dataset(Resource):
    uri: str = Field(description="path (relative to the project) or URI of the data")
    format: Literal["csv", "parquet"] | None = Field(None, description="default: from the file suffix")


class Feature(Strict):
    name: str
    dtype: Literal["int", "float", "string", "bool", "datetime"]
    description: str | None = None


class FeatureGroup(Resource):
    source: str = Field(description="${dataset.NAME}")
    entity: Annotated[list[str], Field(min_length=1)]
    event_time: str | None = None
    features: Annotated[list[Feature], Field(min_length=1)]
    online: bool = False


class Model(Resource):
    pass


class Split(Strict):
    test_size: Annotated[float, Field(gt=0, lt=1)] = 0.2
    seed: int = 42


class TrainingPipeline(Resource):
    inputs: Annotated[list[str], Field(min_length=1, description="${feature_group.NAME} references")]
    labels: str | None = Field(None, description="${dataset.NAME} holding the label spine")
    label: str
    estimator: str | None = Field(None, description="importable scikit-learn-style class path")
    entrypoint: str | None = Field(None, description="a Python file with a train() function")
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    registers: str = Field(description="${model.NAME}")
    task: Literal["classification", "regression"] | None = None
    split: Split = Field(default_factory=Split)
    schedule: str | None = None

    @model_validator(mode="after")
    def _one_way_to_train(self) -> TrainingPipeline:
        rules.one_way_to_train(self.__dict__)
        return self


class MetricThresholdGate(Strict):
    type: Literal["metric_threshold"]
    metric: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _gate_has_bound(self) -> MetricThresholdGate:
        rules.gate_has_bound(self.__dict__)
        return self


class ChampionComparisonGate(Strict):
    type: Literal["champion_comparison"]
    metric: str
    min_delta: float = 0.0


class BiasGate(Strict):
    type: Literal["bias"]
    metric: Literal["demographic_parity_difference", "equalized_odds_difference"]
    sensitive_feature: str
    max: float


class ManualApprovalGate(Strict):
    type: Literal["manual_approval"]
    approvers: Annotated[int, Field(ge=1)] = 1


Gate = Annotated[
    MetricThresholdGate | ChampionComparisonGate | BiasGate | ManualApprovalGate,
    Field(discriminator="type"),
]


class RegistryPolicy(Resource):
    model: str = Field(description="${model.NAME}")
    promote_to: str = "champion"
    gates: list[Gate] = Field(default_factory=list)


class Endpoint(Resource):
    model: str = Field(description="${model.NAME}")
    version: str | int = Field("champion", description="an alias or a version number")
    instance_type: str | None = None
    replicas: Annotated[int, Field(ge=0)] = 1


DriftMethod = Literal["wasserstein", "ks", "psi", "jensen_shannon", "chi2", "linf"]


class FeatureDrift(Strict):
    method: DriftMethod | None = None
    threshold: float | None = None


class OnDrift(Strict):
    retrain: str | None = Field(None, description="${training_pipeline.NAME}")
    promote: bool = True
    cooldown: Annotated[
        str,
        Field(
            pattern=rules.COOLDOWN_PATTERN,
            description="the least time between two retrains: a number and a unit, e.g. 30m, 1h, 2d",
        ),
    ] = "1h"


class Monitor(Resource):
    endpoint: str | None = Field(None, description="${endpoint.NAME}; without it checks take --data")
    baseline: str = Field(description="${dataset.NAME}")
    features: list[str] | None = None
    method: DriftMethod | None = None
    threshold: float | None = None
    per_feature: dict[str, FeatureDrift] = Field(default_factory=dict)
    drift_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    schedule: str | None = None
    on_drift: OnDrift | None = None


KINDS: dict[str, type[Resource]] = {
    "dataset": Dataset,
    "feature_group": FeatureGroup,
    "training_pipeline": TrainingPipeline,
    "model": Model,
    "registry_policy": RegistryPolicy,
    "endpoint": Endpoint,
    "monitor": Monitor,
}

# --- the project file -------------------------------------------------------------------


class Backend(BaseModel):
    # `type` names a state backend plugin; its other settings are checked at validate against
    # that backend's own settings schema (mlops_decl/state/plugins.py), so extras pass here.
    model_config = ConfigDict(extra="allow", defer_build=True)
    type: str = Field("local", description="the state backend: local (built in) or an installed plugin")
    path: str | None = Field(None, description="local: state file, default .mlops/state.json")


class Variable(Strict):
    type: Literal["string", "number", "bool", "list", "map", "any"] = "any"
    default: Any = None
    description: str | None = None
    sensitive: bool = False


class ProjectSettings(Strict):
    project: str
    backend: Backend = Field(default_factory=lambda: Backend())
    default_provider: str = "local"
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    allow_paths: list[str] = Field(
        default_factory=list,
        description="data files outside the project that datasets may read: directories "
        "(data/shared, /mnt/lake) or glob patterns (/mnt/lake/*.parquet); relative to the project",
    )


# --- a file's shape, checked before the bodies in it -------------------------------------


class ResourceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    variables: dict[str, dict[str, Any]] | None = None
    resources: dict[str, dict[str, dict[str, Any]] | None] | None = None
    outputs: dict[str, Any] | None = None


class ProjectFile(ResourceFile):
    # checked field by field by ProjectSettings when the project is built
    project: Any = None
    backend: Any = None
    default_provider: Any = None
    providers: Any = None
    allow_paths: Any = None
