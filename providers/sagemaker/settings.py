"""The SageMaker provider's declared schema: its settings, its `sagemaker:` block per kind and
the attributes each kind computes. Plain data, read by `validate` without configuring the
provider (and without boto3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_decl.provider_schema import KindSchema, ProviderSchema, check_settings

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
        "execution_role": {
            **_ARN,
            "description": "the role SageMaker jobs and models run as (default for blocks)",
        },
        "max_attempts": {
            "type": "integer",
            "minimum": 1,
            "maximum": 20,
            "default": 1,
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

SCHEMA = ProviderSchema(
    settings=SETTINGS,
    kinds={"dataset": _DATASET, "model": _MODEL, "feature_group": _FEATURE_GROUP},
)


@dataclass(frozen=True)
class Settings:
    region: str
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    execution_role: str | None = None
    max_attempts: int = 1


def parse(settings: dict[str, Any]) -> Settings:
    check_settings(SETTINGS, settings, "sagemaker")
    return Settings(
        region=str(settings["region"]),
        profile=settings.get("profile"),
        role_arn=settings.get("role_arn"),
        endpoint_url=str(settings["endpoint_url"]).rstrip("/") if settings.get("endpoint_url") else None,
        tags={str(k): str(v) for k, v in (settings.get("tags") or {}).items()},
        execution_role=settings.get("execution_role"),
        max_attempts=int(settings.get("max_attempts", 1)),
    )
