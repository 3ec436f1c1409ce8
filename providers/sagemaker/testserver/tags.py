"""Tags on every taggable ARN, as SageMaker keeps them: a key is set once (adding it again
replaces its value), and model packages, feature groups and monitoring schedules are
taggable too (moto finds only objects keyed by a single-segment name)."""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

from .extensions import Original, ext


def _resource(response: SageMakerResponse, resource_arn: str) -> Any:
    backend = response.sagemaker_backend
    kind, _, name = resource_arn.split(":", 5)[-1].partition("/")
    found: Any = None
    if kind == "model-package":
        found = backend.model_packages.get(resource_arn)
    elif kind == "feature-group":
        found = backend.feature_groups.get(resource_arn)
    elif kind == "monitoring-schedule":
        found = ext(response).schedules.get(name)
    elif "/" not in name:
        try:
            found = backend._get_resource_from_arn(resource_arn)
        except (AttributeError, ValidationError):
            found = None
    if found is None:
        raise ValidationError(f"Could not find the resource {resource_arn}.")
    if getattr(found, "tags", None) is None:
        found.tags = []
    return found


def add_tags(response: SageMakerResponse, original: Original) -> ActionResult:
    resource = _resource(response, response._get_param("ResourceArn"))
    new = {t["Key"]: t["Value"] for t in response._get_param("Tags") or []}
    resource.tags = [t for t in resource.tags if t["Key"] not in new]
    resource.tags.extend({"Key": k, "Value": v} for k, v in new.items())
    return ActionResult({"Tags": resource.tags})


def list_tags(response: SageMakerResponse, original: Original) -> ActionResult:
    resource = _resource(response, response._get_param("ResourceArn"))
    return ActionResult({"Tags": list(resource.tags)})


def delete_tags(response: SageMakerResponse, original: Original) -> Any:
    resource = _resource(response, response._get_param("ResourceArn"))
    gone = set(response._get_param("TagKeys") or [])
    resource.tags = [t for t in resource.tags if t["Key"] not in gone]
    return EmptyResult()


ACTIONS = {"add_tags": add_tags, "list_tags": list_tags, "delete_tags": delete_tags}
