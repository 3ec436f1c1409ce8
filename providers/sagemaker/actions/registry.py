"""A model's versions as the engine's promotion reads them (mlops_decl/ml/evidence.py): model
packages in the group, their evidence (metrics from the evaluation report ModelMetrics
points at, run and dataset versions from CustomerMetadataProperties), approvals, and the
alias as a tag on the group.

SageMaker has no conditional tag write: `set_alias` compares and then writes, and the
engine holds the model's promotion lock (through the state backend) around it, so two
promotions cannot both pass against the same champion. Moving the alias also approves the
package (ModelApprovalStatus=Approved), which is what SageMaker's own tooling deploys.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from mlops_decl.ml.evidence import (
    AliasConflict,
    AliasMove,
    Approval,
    ModelVersions,
    VersionEvidence,
    VersionSummary,
)
from mlops_decl.provider import Attributes, Category, ProviderError, RuntimeContext

from ..base import tag_dict
from ..client import Clients, call, found
from ..model import ALIAS, aliases_of

APPROVAL = "mlops:approval:"  # CustomerMetadataProperties key per approver
DATASET = "mlops:dataset:"  # ... per dataset address the run trained on -> its version
_UNSAFE = re.compile(r"[^\w.:/=+\-@ ]")


def _group(clients: Clients, name: str) -> dict[str, Any]:
    got: dict[str, Any] | None = found(
        clients.sagemaker.describe_model_package_group, f"read model {name}", ModelPackageGroupName=name
    )
    if got is None:
        raise ProviderError(f"model {name} no longer exists on SageMaker", category=Category.NOT_FOUND)
    return got


def _aliases(clients: Clients, group_arn: str) -> dict[str, int]:
    tags = call(clients.sagemaker.list_tags, f"read the aliases of {group_arn}", ResourceArn=group_arn)
    return aliases_of(tag_dict(tags.get("Tags")))


def _package_arn(group_arn: str, name: str, version: int) -> str:
    head = group_arn.split(":", 5)
    return ":".join(head[:5]) + f":model-package/{name.lower()}/{int(version)}"


def _package(clients: Clients, group_arn: str, name: str, version: int) -> dict[str, Any]:
    arn = _package_arn(group_arn, name, version)
    got: dict[str, Any] | None = found(
        clients.sagemaker.describe_model_package,
        f"read version {version} of model {name}",
        ModelPackageName=arn,
    )
    if got is None:
        raise ProviderError(f"model {name} has no version {version}", category=Category.NOT_FOUND)
    return got


def package_of(clients: Clients, name: str, version: int) -> dict[str, Any]:
    """The model package of version `version` of model (group) `name`, described."""
    return _package(clients, _group(clients, name)["ModelPackageGroupArn"], name, version)


def _iso(value: Any, spec: str = "seconds") -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec=spec)
    return str(value)


def list_versions(clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext) -> ModelVersions:
    group = _group(clients, id)
    sm, out, token = clients.sagemaker, [], None
    while True:
        page = call(
            sm.list_model_packages,
            f"list the versions of model {id}",
            ModelPackageGroupName=id,
            SortBy="CreationTime",
            SortOrder="Ascending",
            **({"NextToken": token} if token else {}),
        )
        for p in page.get("ModelPackageSummaryList") or []:
            out.append(
                VersionSummary(
                    int(p["ModelPackageVersion"]), None, None, _iso(p["CreationTime"], "milliseconds")
                )
            )
        token = page.get("NextToken")
        if not token:
            break
    return ModelVersions(model=id, versions=out, aliases=_aliases(clients, group["ModelPackageGroupArn"]))


def report_uri(package: dict[str, Any]) -> str | None:
    """Where the evaluation report ModelMetrics points at, when it is in S3."""
    uri = (((package.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}).get(
        "S3Uri"
    )
    return str(uri) if uri and str(uri).startswith("s3://") else None


def report(clients: Clients, package: dict[str, Any]) -> dict[str, Any]:
    """The evaluation report of a package ({} when it has none, or it does not parse)."""
    uri = report_uri(package)
    if uri is None:
        return {}
    bucket, _, key = uri[5:].partition("/")
    got = found(clients.s3.get_object, f"read the evaluation report {uri}", Bucket=bucket, Key=key)
    if got is None:
        return {}
    try:
        parsed = json.loads(got["Body"].read())
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def split_uri(package: dict[str, Any], found_report: dict[str, Any]) -> str | None:
    """Where the evaluation step kept the split it scored: the report names the file, beside
    it (`{"evaluation": {"split": "evaluation_split.parquet"}}`)."""
    uri, name = report_uri(package), (found_report.get("evaluation") or {}).get("split")
    if uri is None or not isinstance(name, str) or not name:
        return None
    return name if name.startswith("s3://") else f"{uri.rsplit('/', 1)[0]}/{name}"


def _metrics(found_report: dict[str, Any]) -> dict[str, float]:
    """The numbers in an evaluation report: every `{"value": x}` leaf, by its key
    (`{"metrics": {"auc": {"value": 0.9}}}` -> auc)."""
    out: dict[str, float] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, dict) and isinstance(v.get("value"), int | float):
                    out[str(k)] = float(v["value"])
                else:
                    walk(v)

    walk(found_report)
    return out


def version_evidence(
    clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext, version: int
) -> VersionEvidence:
    group = _group(clients, id)
    package = _package(clients, group["ModelPackageGroupArn"], id, version)
    meta = dict(package.get("CustomerMetadataProperties") or {})
    aliases = _aliases(clients, group["ModelPackageGroupArn"])
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    evaluation = report(clients, package)
    return VersionEvidence(
        model=id,
        version=int(version),
        run_id=meta.get("mlops:execution"),
        metrics=_metrics(evaluation),
        params={k: v for k, v in meta.items() if not k.startswith("mlops:")},
        created=_iso(package.get("CreationTime")),
        aliases=sorted(a for a, v in aliases.items() if v == int(version)),
        approvals=sorted(k[len(APPROVAL) :] for k in meta if k.startswith(APPROVAL)),
        dataset_versions={k[len(DATASET) :]: v for k, v in meta.items() if k.startswith(DATASET)},
        tags={},
        config_hash=meta.get("mlops:config_hash"),
        git_commit=meta.get("mlops:git_commit"),
        pipeline=meta.get("mlops:pipeline"),
        source=containers[0].get("ModelDataUrl"),
        evaluation_split=split_uri(package, evaluation),
    )


def add_approval(
    clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext, version: int, by: str
) -> Approval:
    by = str(by or "").strip()
    if not by:
        raise ProviderError("an approval needs a name (--by NAME)", category=Category.INVALID)
    group = _group(clients, id)
    package = _package(clients, group["ModelPackageGroupArn"], id, version)
    key = APPROVAL + _UNSAFE.sub("_", by)[: 128 - len(APPROVAL)]
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    call(
        clients.sagemaker.update_model_package,
        f"approve version {version} of model {id}",
        ModelPackageArn=package["ModelPackageArn"],
        CustomerMetadataProperties={key: now},
    )
    approvals = {k for k in package.get("CustomerMetadataProperties") or {} if k.startswith(APPROVAL)} | {key}
    return Approval(
        model=id, version=int(version), by=by, approvals=sorted(k[len(APPROVAL) :] for k in approvals)
    )


def set_alias(
    clients: Clients,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    alias: str,
    version: int,
    expected_current: int | None,
) -> AliasMove:
    group = _group(clients, id)
    group_arn = group["ModelPackageGroupArn"]
    package = _package(clients, group_arn, id, version)
    current = _aliases(clients, group_arn).get(alias)
    if current != expected_current:
        raise AliasConflict(id, alias, expected_current, current)
    sm = clients.sagemaker
    call(
        sm.update_model_package,
        f"approve version {version} of model {id}",
        ModelPackageArn=package["ModelPackageArn"],
        ModelApprovalStatus="Approved",
    )
    call(
        sm.add_tags,
        f"move alias {alias} of model {id}",
        ResourceArn=group_arn,
        Tags=[{"Key": ALIAS + alias, "Value": str(int(version))}],
    )
    return AliasMove(model=id, alias=alias, version=int(version), previous=current)


ACTIONS = {
    ("model", "list_versions"): list_versions,
    ("model", "version_evidence"): version_evidence,
    ("model", "add_approval"): add_approval,
    ("model", "set_alias"): set_alias,
}
