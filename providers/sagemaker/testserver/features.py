"""Feature groups beyond moto's create/describe: list, delete, update (feature additions), the
description and online store config kept, an online-only group accepted (moto needs an
offline store), and a missing group answered ResourceNotFound (moto answers 500)."""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from .extensions import Original, arn

_PLACEHOLDER = {"S3StorageConfig": {"S3Uri": "s3://online-only"}}


def _group(response: SageMakerResponse, name: str | None = None) -> Any:
    name = name or response._get_param("FeatureGroupName")
    if name.startswith("arn:"):
        name = name.rsplit("/", 1)[-1]
    found = response.sagemaker_backend.feature_groups.get(arn(response, "feature-group", name.lower()))
    if found is None:
        raise ResourceNotFound(f"Resource Not Found: FeatureGroup with name {name} does not exist.")
    return found


def create_feature_group(response: SageMakerResponse, original: Original) -> Any:
    online = response._get_param("OnlineStoreConfig")
    offline = response._get_param("OfflineStoreConfig")
    if not online and not offline:
        raise ValidationError("A feature group needs an OnlineStoreConfig, an OfflineStoreConfig or both.")
    if offline is None:
        response.params["OfflineStoreConfig"] = {k: dict(v) for k, v in _PLACEHOLDER.items()}
    assert original is not None
    result = original()
    group: Any = response.sagemaker_backend.feature_groups[result.result["FeatureGroupArn"]]
    if offline is None:
        group.offline_store_config = None
    group.online_store_config = online
    group.description = response._get_param("Description")
    group.last_modified_time = group.creation_time
    return result


def describe_feature_group(response: SageMakerResponse, original: Original) -> ActionResult:
    group = _group(response)
    described = group.describe()
    extra = {
        "OnlineStoreConfig": getattr(group, "online_store_config", None),
        "Description": getattr(group, "description", None),
        "LastModifiedTime": getattr(group, "last_modified_time", None),
        "OfflineStoreConfig": group.offline_store_config,
        "OfflineStoreStatus": {"Status": "Active"} if group.offline_store_config else None,
    }
    described.update({k: v for k, v in extra.items() if v is not None})
    if group.offline_store_config is None:
        described.pop("OfflineStoreConfig", None)
    return ActionResult(described)


def update_feature_group(response: SageMakerResponse, original: Original) -> ActionResult:
    group = _group(response)
    known = {f["FeatureName"] for f in group.feature_definitions}
    for feature in response._get_param("FeatureAdditions") or []:
        if feature["FeatureName"] in known:
            raise ValidationError(
                f"Feature {feature['FeatureName']} already exists in {group.feature_group_name}."
            )
        group.feature_definitions.append(feature)
    online = response._get_param("OnlineStoreConfig")
    if online:
        group.online_store_config = {**(getattr(group, "online_store_config", None) or {}), **online}
    group.last_modified_time = utcnow()
    return ActionResult({"FeatureGroupArn": group.arn})


def delete_feature_group(response: SageMakerResponse, original: Original) -> Any:
    del response.sagemaker_backend.feature_groups[_group(response).arn]
    return EmptyResult()


def list_feature_groups(response: SageMakerResponse, original: Original) -> ActionResult:
    contains = response._get_param("NameContains") or ""
    groups = sorted(response.sagemaker_backend.feature_groups.values(), key=lambda g: g.creation_time)
    summaries = [
        {
            "FeatureGroupName": g.feature_group_name,
            "FeatureGroupArn": g.arn,
            "CreationTime": g.creation_time,
            "FeatureGroupStatus": "Created",
            **({"OfflineStoreStatus": {"Status": "Active"}} if g.offline_store_config else {}),
        }
        for g in groups
        if contains in g.feature_group_name
    ]
    return ActionResult({"FeatureGroupSummaries": summaries})


ACTIONS = {
    "create_feature_group": create_feature_group,
    "describe_feature_group": describe_feature_group,
    "update_feature_group": update_feature_group,
    "delete_feature_group": delete_feature_group,
    "list_feature_groups": list_feature_groups,
}
