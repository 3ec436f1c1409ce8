"""Model package groups and model packages as SageMaker keeps them: a group's name is unique,
version numbers are never reused (moto counts the packages left), a ClientToken makes a
create idempotent, an update changes only the fields it names (moto clears the rest), and
packages and groups can be deleted (moto cannot)."""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import camelcase_to_underscores
from moto.sagemaker.exceptions import ConflictException, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from .extensions import Original, arn, ext, unique

create_model_package_group = unique(
    "ModelPackageGroupName",
    "model_package_groups",
    lambda response, name: ValidationError(
        f"Model Package Group already exists: {arn(response, 'model-package-group', name)}"
    ),
)


def delete_model_package_group(response: SageMakerResponse, original: Original) -> Any:
    backend, name = response.sagemaker_backend, _group_name(response._get_param("ModelPackageGroupName"))
    if name not in backend.model_package_groups:
        raise ValidationError(
            f"ModelPackageGroup {arn(response, 'model-package-group', name)} does not exist."
        )
    if any(p.model_package_group_name == name for p in backend.model_packages.values()):
        raise ConflictException(f"Model Package Group {name} still has model packages: delete them first.")
    del backend.model_package_groups[name]
    return EmptyResult()


def create_model_package(response: SageMakerResponse, original: Original) -> Any:
    params = {k: response._get_param(k) for k in PACKAGE_FIELDS}
    return ActionResult({"ModelPackageArn": new_package(response, params)})


# CreateModelPackage's members that moto's backend takes, by its keyword names
PACKAGE_FIELDS = (
    "ModelPackageName",
    "ModelPackageGroupName",
    "ModelPackageDescription",
    "InferenceSpecification",
    "ValidationSpecification",
    "SourceAlgorithmSpecification",
    "CertifyForMarketplace",
    "Tags",
    "ModelApprovalStatus",
    "MetadataProperties",
    "ModelMetrics",
    "ClientToken",
    "CustomerMetadataProperties",
    "DriftCheckBaselines",
    "Domain",
    "Task",
    "SamplePayloadUrl",
    "AdditionalInferenceSpecifications",
)


def new_package(response: SageMakerResponse, params: dict[str, Any]) -> str:
    """A model package from CreateModelPackage's arguments: a repeated ClientToken returns the
    first package, a version number is never given twice in a group."""
    backend, state = response.sagemaker_backend, ext(response)
    token = params.get("ClientToken")
    if token and token in state.tokens and state.tokens[token] in backend.model_packages:
        return state.tokens[token]
    kwargs: dict[str, Any] = {camelcase_to_underscores(k): params.get(k) for k in PACKAGE_FIELDS}
    kwargs["certify_for_marketplace"] = bool(kwargs["certify_for_marketplace"])
    package_arn = backend.create_model_package(**kwargs)
    package: Any = backend.model_packages[package_arn]
    group = package.model_package_group_name
    if group:
        issued = state.issued.get(group, 0)
        if package.model_package_version <= issued:
            package_arn = _renumber(backend, package, issued + 1)
        state.issued[group] = package.model_package_version
    if token:
        state.tokens[token] = package_arn
    return str(package_arn)


def _renumber(backend: Any, package: Any, version: int) -> str:
    old = package.arn
    new = f"{old.rsplit('/', 1)[0]}/{version}"
    package.model_package_version, package.arn = version, new
    for status in package.model_package_status_details.values():
        for entry in status:
            entry["Name"] = new
    backend.model_packages[new] = backend.model_packages.pop(old)
    backend.model_package_name_mapping.pop(old, None)
    backend.model_package_name_mapping[new] = new
    backend.model_package_name_mapping[package.model_package_name] = new
    return str(new)


def update_model_package(response: SageMakerResponse, original: Original) -> ActionResult:
    package = _package(response, response._get_param("ModelPackageArn"))
    status = response._get_param("ModelApprovalStatus")
    if status is not None:
        package.set_model_approval_status(status)
    description = response._get_param("ApprovalDescription")
    if description is not None:
        package.approval_description = description
    properties = dict(package.customer_metadata_properties or {})
    properties.update(response._get_param("CustomerMetadataProperties") or {})
    for key in response._get_param("CustomerMetadataPropertiesToRemove") or []:
        properties.pop(key, None)
    package.customer_metadata_properties = properties or None
    package.add_additional_inference_specifications(
        response._get_param("AdditionalInferenceSpecificationsToAdd")
    )
    package.modifications_done()
    return ActionResult({"ModelPackageArn": package.arn})


def delete_model_package(response: SageMakerResponse, original: Original) -> Any:
    backend = response.sagemaker_backend
    package = _package(response, response._get_param("ModelPackageName"))
    del backend.model_packages[package.arn]
    for key, value in list(backend.model_package_name_mapping.items()):
        if value == package.arn:
            del backend.model_package_name_mapping[key]
    return EmptyResult()


def _package(response: SageMakerResponse, ref: str) -> Any:
    backend = response.sagemaker_backend
    found = backend.model_packages.get(backend.model_package_name_mapping.get(ref, ref))
    if found is None:
        raise ValidationError(f"Model package {ref} not found")
    return found


def _group_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref


ACTIONS = {
    "create_model_package_group": create_model_package_group,
    "delete_model_package_group": delete_model_package_group,
    "create_model_package": create_model_package,
    "update_model_package": update_model_package,
    "delete_model_package": delete_model_package,
}
