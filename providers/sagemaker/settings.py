"""The SageMaker provider's declared schema: its settings, its `sagemaker:` block per kind and
the attributes each kind computes. Plain data, read by `validate` without configuring the
provider (and without boto3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_decl.provider_schema import KindSchema, ProviderSchema, check_settings

# botocore's attempts per call unless set (its standard mode's own default): a throttled call
# is tried again at once, after up to 1 s and 2 s, before the engine sees it and retries the
# whole operation on its longer schedule. At 30% of calls throttled, 3% of calls reach the
# engine.
DEFAULT_ATTEMPTS = 3
_STR = {"type": "string"}
_ARN = {"type": "string", "pattern": "^arn:aws[a-z-]*:"}
_TAGS = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 256}}

SETTINGS = {
    "type": "object",
    "properties": {
        "region": {
            "type": "string",
            "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$",
            "description": "e.g. eu-west-1",
        },
        "profile": {"type": "string", "minLength": 1, "description": "a profile from the AWS config files"},
        "role_arn": {**_ARN, "description": "an IAM role to assume (STS) for every call"},
        "endpoint_url": {
            "type": "string",
            "pattern": "^https?://",
            "description": "a local endpoint for every service (the test double)",
        },
        "tags": {**_TAGS, "description": "tags put on everything the provider creates"},
        "artifacts": {
            "type": "string",
            "pattern": "^s3://[^/]+",
            "description": "s3://bucket/prefix for captured requests, pipeline runs and model artifacts",
        },
        "execution_role": {
            **_ARN,
            "description": "the role SageMaker jobs and models run as (default for blocks)",
        },
        "max_attempts": {
            "type": "integer",
            "minimum": 1,
            "maximum": 20,
            "default": DEFAULT_ATTEMPTS,
            "description": "botocore's attempts per call; the engine retries by error category on top",
        },
    },
    "required": ["region"],
    "additionalProperties": False,
}

_DATASET = KindSchema(
    computed={
        "version": {
            "type": "string",
            "description": "the object's VersionId (ETag when unversioned) when registered",
        },
        "latest_version": {"type": "string", "description": "the object's version now"},
        "size": {"type": "integer"},
        "columns": {"type": "array", "items": _STR},
        "rows": {"type": ["integer", "null"], "description": "null for a CSV too large to count"},
    }
)
_MODEL = KindSchema(
    computed={
        "name": {**_STR, "description": "the model package group"},
        "arn": _STR,
        "aliases": {"type": "object", "additionalProperties": {"type": "integer"}},
    }
)

_VERSION = {"type": ["integer", "null"], "description": "a model version number; null before any"}
_ENDPOINT = KindSchema(
    block={
        "type": "object",
        "properties": {
            "role": {
                **_ARN,
                "description": "the role the model runs as (default: the provider's execution_role)",
            },
            "capture_uri": {
                "type": "string",
                "pattern": "^s3://",
                "description": "where captured requests go",
            },
            "sampling": {"type": "integer", "minimum": 1, "maximum": 100, "description": "percent captured"},
            "variant": {"type": "string", "description": "the production variant's name (default main)"},
        },
        "additionalProperties": False,
    },
    computed={
        "name": _STR,
        "arn": {"type": ["string", "null"]},
        "status": {"type": "string", "description": "pending_model, or the endpoint's SageMaker status"},
        "serving_version": _VERSION,
        "target_version": {**_VERSION, "description": "the version the alias points at now"},
        "endpoint_config": {"type": ["string", "null"]},
    },
)

_PIPELINE = KindSchema(
    block={
        "type": "object",
        "properties": {
            "image_uri": {"type": "string", "description": "the training and evaluation image"},
            "instance_type": {"type": "string", "description": "default ml.m5.large"},
            "role": {
                **_ARN,
                "description": "the role the pipeline runs as (default: the provider's execution_role)",
            },
            "artifacts": {
                "type": "string",
                "pattern": "^s3://",
                "description": "default: the provider's artifacts",
            },
            "schedule_role": {
                **_ARN,
                "description": "the role EventBridge Scheduler starts a scheduled run as (default: role)",
            },
        },
        "required": ["image_uri"],
        "additionalProperties": False,
    },
    computed={
        "name": _STR,
        "arn": _STR,
        "definition_sha": {"type": "string", "description": "hash of the pipeline definition JSON"},
    },
)

_FEATURE_GROUP = KindSchema(
    block={
        "type": "object",
        "properties": {
            "role": {**_ARN, "description": "the role SageMaker writes the offline store as"},
            "offline_uri": {
                "type": "string",
                "pattern": "^s3://[^/]+",
                "description": "where the offline store goes (default: s3://<source bucket>/feature-store)",
            },
        },
        "additionalProperties": False,
    },
    computed={
        "name": {**_STR, "description": "the feature group"},
        "arn": _STR,
        "offline_uri": {**_STR, "description": "the offline store's S3 URI"},
    },
)

_NULLABLE = {"type": ["string", "null"]}
_MONITOR = KindSchema(
    block={
        "type": "object",
        "properties": {
            "image_uri": {"type": "string", "description": "the Model Monitor image (default: the region's)"},
            "instance_type": {
                "type": "string",
                "description": "of the monitoring job (default ml.m5.xlarge)",
            },
            "role": {
                **_ARN,
                "description": "the role the job runs as (default: the provider's execution_role)",
            },
            "output_uri": {
                "type": "string",
                "pattern": "^s3://[^/]+",
                "description": "where the baseline and reports go (default: <artifacts>/monitoring)",
            },
        },
        "additionalProperties": False,
    },
    computed={
        "name": _STR,
        "baseline_uri": {**_STR, "description": "the S3 prefix of statistics.json and constraints.json"},
        "baseline_version": {**_NULLABLE, "description": "the baseline object's version now"},
        "job_definition": {**_NULLABLE, "description": "the data-quality job definition"},
        "schedule_arn": {**_NULLABLE, "description": "the monitoring schedule"},
        "status": {
            "type": "string",
            "description": "scheduled, stopped or failed (the schedule's), pending_endpoint, endpoint_ready or no_endpoint",
        },
        "reference_profile": {"type": "object", "description": "the engine's profile of the baseline"},
    },
)

SCHEMA = ProviderSchema(
    settings=SETTINGS,
    kinds={
        "dataset": _DATASET,
        "model": _MODEL,
        "feature_group": _FEATURE_GROUP,
        "endpoint": _ENDPOINT,
        "training_pipeline": _PIPELINE,
        "registry_policy": KindSchema(),  # kept as tags on the model's group: nothing computed
        "monitor": _MONITOR,
    },
)


@dataclass(frozen=True)
class Settings:
    region: str
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    execution_role: str | None = None
    artifacts: str | None = None
    max_attempts: int = DEFAULT_ATTEMPTS


def parse(settings: dict[str, Any]) -> Settings:
    check_settings(SETTINGS, settings, "sagemaker")
    return Settings(
        region=str(settings["region"]),
        profile=settings.get("profile"),
        role_arn=settings.get("role_arn"),
        endpoint_url=str(settings["endpoint_url"]).rstrip("/") if settings.get("endpoint_url") else None,
        tags={str(k): str(v) for k, v in (settings.get("tags") or {}).items()},
        execution_role=settings.get("execution_role"),
        artifacts=str(settings["artifacts"]).rstrip("/") if settings.get("artifacts") else None,
        max_attempts=int(settings.get("max_attempts", DEFAULT_ATTEMPTS)),
    )
