"""registry_policy on the SageMaker provider, through the CLI as a user runs it: the policy
kept as tags on the model's group (the next plan empty, an edit on AWS seen as drift), the
engine's gates deciding `promote`, and a promotion approving the package and moving the
alias tag while a worse version stays unapproved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sagemaker_helpers import client, fake_credentials, register_version
from sagemaker_monitor_project import ok

from mlops_decl.providers.sagemaker.testserver import SageMakerServer
from mlops_decl.testing.project import cli, state_ids


@pytest.fixture
def aws() -> Iterator[SageMakerServer]:
    with fake_credentials(), SageMakerServer() as server:
        client(server, "s3").create_bucket(Bucket="data")
        yield server


def project(root: Path, server: SageMakerServer, floor: float = 0.7) -> None:
    config = {
        "project": "shop",
        "default_provider": "sagemaker",
        "providers": {"sagemaker": {"region": "us-east-1", "endpoint_url": server.url}},
        "resources": {
            "model": {"churn": {}},
            "registry_policy": {
                "gates": {
                    "model": "${model.churn}",
                    "gates": [
                        {"type": "metric_threshold", "metric": "auc", "min": floor},
                        {"type": "metric_threshold", "metric": "f1", "min": 0.5},
                        {"type": "champion_comparison", "metric": "auc", "min_delta": 0.0},
                    ],
                }
            },
        },
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2))


def group_tags(server: SageMakerServer, group: str) -> dict[str, str]:
    sm = client(server, "sagemaker")
    arn = sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    return {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}


def approval(server: SageMakerServer, group: str, version: int) -> str:
    sm = client(server, "sagemaker")
    packages = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    return next(p.get("ModelApprovalStatus", "") for p in packages if p["ModelPackageVersion"] == version)


def test_the_policy_lives_on_the_group_and_replans_to_no_change(aws: SageMakerServer, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    project(root, aws)
    ok(root, "apply", "--auto-approve")
    group = state_ids(root)["model.churn"]
    assert state_ids(root)["registry_policy.gates"] == group
    assert any(k.startswith("mlops-decl:policy:") for k in group_tags(aws, group))
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    project(root, aws, floor=0.8)  # a stricter floor: an update in place, kept on the group
    plan = cli(root, "plan", "--detailed-exitcode")
    assert plan.rc == 2 and "1 to change" in plan.output, plan.output
    ok(root, "apply", "--auto-approve")
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    ok(root, "state", "rm", "registry_policy.gates")  # another checkout adopts it by the group
    ok(root, "import", "registry_policy.gates", group)
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    sm = client(aws, "sagemaker")  # someone removes the policy on AWS: the plan puts it back
    arn = sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    sm.delete_tags(ResourceArn=arn, TagKeys=[k for k in group_tags(aws, group) if "policy" in k])
    plan = cli(root, "plan", "--detailed-exitcode")
    assert plan.rc == 2 and "1 to add" in plan.output, plan.output

    ok(root, "destroy", "--auto-approve")
    assert state_ids(root) == {}


def test_gates_promote_a_better_version_and_block_a_worse_one(aws: SageMakerServer, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    project(root, aws)
    ok(root, "apply", "--auto-approve")
    group = state_ids(root)["model.churn"]
    register_version(aws, group, {"auc": 0.82, "f1": 0.7})
    register_version(aws, group, {"auc": 0.6, "f1": 0.7})  # below the auc floor
    register_version(aws, group, {"auc": 0.9, "f1": 0.4})  # below the f1 floor
    register_version(aws, group, {"auc": 0.9, "f1": 0.8})
    register_version(aws, group, {"auc": 0.85, "f1": 0.9})  # above both floors, below the champion

    first = ok(root, "promote", "model.churn", "--version", "1")
    assert group_tags(aws, group)["mlops-decl:alias:champion"] == "1", first
    assert approval(aws, group, 1) == "Approved"

    for version, metric in ((2, "auc"), (3, "f1")):
        blocked = cli(root, "promote", "model.churn", "--version", str(version))
        assert metric in blocked.output and "not promoted" in blocked.output.lower(), blocked.output
        assert group_tags(aws, group)["mlops-decl:alias:champion"] == "1", blocked.output
        assert approval(aws, group, version) != "Approved"

    ok(root, "promote", "model.churn", "--version", "4")
    assert group_tags(aws, group)["mlops-decl:alias:champion"] == "4"
    assert approval(aws, group, 4) == "Approved"

    worse = cli(root, "promote", "model.churn", "--version", "5")  # compared with v4 as logged
    assert "champion" in worse.output and "not promoted" in worse.output.lower(), worse.output
    assert group_tags(aws, group)["mlops-decl:alias:champion"] == "4"
    assert approval(aws, group, 5) != "Approved"
