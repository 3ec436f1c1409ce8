"""Endpoints on the SageMaker provider, through the CLI as a user runs it, against the extended
moto server: pending until the alias points at a version, then deployed with data capture;
an instance-count change makes a new config, waits for update_endpoint and only then
deletes the old config; promoting another version moves the endpoint; destroy removes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import ROLE, client, fake_credentials

from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import cli, state_ids


@pytest.fixture
def aws() -> Iterator[SageMakerServer]:
    with fake_credentials(), SageMakerServer(options=Options(endpoint_delay=0.3)) as server:
        client(server, "s3").create_bucket(Bucket="artifacts")
        yield server


def project(root: Path, server: SageMakerServer, replicas: int = 1) -> None:
    config = {
        "project": "shop",
        "default_provider": "sagemaker",
        "providers": {
            "sagemaker": {
                "region": "us-east-1",
                "endpoint_url": server.url,
                "execution_role": ROLE,
                "artifacts": "s3://artifacts/mlops",
            }
        },
        "resources": {
            "model": {"churn": {}},
            "endpoint": {
                "api": {"model": "${model.churn}", "replicas": replicas, "instance_type": "ml.m5.large"}
            },
        },
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2))


def register(sm: Any, group: str, alias: str | None = "champion") -> int:
    """A new model package in the group, as a pipeline run registers one; the alias moved to it."""
    arn = sm.create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification={
            "Containers": [{"Image": "img", "ModelDataUrl": "s3://artifacts/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    version = int(arn.rsplit("/", 1)[1])
    if alias:
        group_arn = sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
        sm.add_tags(ResourceArn=group_arn, Tags=[{"Key": f"mlops-decl:alias:{alias}", "Value": str(version)}])
    return version


def applied(tmp_path: Path, server: SageMakerServer) -> tuple[Any, Path]:
    """A boto3 client and the project, applied once: the model made, the endpoint pending."""
    root = tmp_path / "shop"
    project(root, server)
    apply(root)
    return client(server, "sagemaker"), root


def apply(root: Path) -> str:
    run = cli(root, "apply", "--auto-approve")
    assert run.rc == 0, run.output
    return run.output


def test_an_endpoint_waits_for_a_version_then_serves_it_and_moves_through_updates(
    tmp_path: Path, aws: SageMakerServer
) -> None:
    sm, root = applied(tmp_path, aws)
    ids = state_ids(root)
    group, name = ids["model.churn"], ids["endpoint.api"]
    assert sm.list_endpoints()["Endpoints"] == []  # pending_model: nothing runs yet
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    register(sm, group)  # a run registered version 1 and promotion moved the alias to it
    planned = cli(root, "plan", "--detailed-exitcode")
    assert planned.rc == 2 and "serving_version" in planned.output, planned.output
    apply(root)
    live = sm.describe_endpoint(EndpointName=name)
    assert live["EndpointStatus"] == "InService"
    assert live["DataCaptureConfig"]["DestinationS3Uri"] == f"s3://artifacts/mlops/capture/{name}"
    first_config = live["EndpointConfigName"]
    group_tags = sm.list_tags(
        ResourceArn=sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    )["Tags"]
    assert not [t for t in group_tags if t["Key"].startswith("mlops-decl:endpoint:")]  # no longer pending
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    project(root, aws, replicas=2)  # in place: a new config, update_endpoint, then the old one goes
    output = apply(root)
    assert "1 changed" in output or "changed" in output, output
    live = sm.describe_endpoint(EndpointName=name)
    assert live["EndpointStatus"] == "InService", live.get("FailureReason")  # Failed if deleted too early
    assert live["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    configs = [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
    assert configs == [live["EndpointConfigName"]] and first_config not in configs
    assert state_ids(root)["endpoint.api"] == name
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    register(sm, group)  # version 2 promoted: the endpoint moves to it
    apply(root)
    state = json.loads((root / ".mlops" / "state.json").read_text())
    assert state["resources"]["endpoint.api"]["attributes"]["serving_version"] == 2
    models = [m["ModelName"] for m in sm.list_models()["Models"]]
    assert len(models) == 1 and models[0].endswith("-v2")  # version 1's model went with its config
    assert cli(root, "plan", "--detailed-exitcode").rc == 0

    gone = cli(root, "destroy", "--auto-approve")
    assert gone.rc == 0, gone.output
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_models()["Models"] == [] and state_ids(root) == {}


def test_an_endpoint_on_a_version_number_deploys_at_once_and_imports_by_arn(
    tmp_path: Path, aws: SageMakerServer
) -> None:
    sm, root = applied(tmp_path, aws)
    group = state_ids(root)["model.churn"]
    register(sm, group, alias=None)
    config = json.loads((root / "mlops.yaml").read_text())
    config["resources"]["endpoint"]["api"]["version"] = 1
    (root / "mlops.yaml").write_text(json.dumps(config))
    apply(root)
    name = state_ids(root)["endpoint.api"]
    arn = sm.describe_endpoint(EndpointName=name)["EndpointArn"]
    assert cli(root, "state", "rm", "endpoint.api").rc == 0
    imported = cli(root, "import", "endpoint.api", arn)
    assert imported.rc == 0, imported.output
    assert state_ids(root)["endpoint.api"] == name
    again = cli(root, "plan", "--detailed-exitcode")
    assert again.rc == 0, again.output


def test_resources_gone_outside_and_removed_from_the_config_leave_the_state(
    tmp_path: Path, aws: SageMakerServer
) -> None:
    """Deleted behind mlops-decl's back, then taken out of the configuration: the apply
    forgets them (their reads find nothing), with no delete of what is not there."""
    sm, root = applied(tmp_path, aws)
    sm.delete_model_package_group(ModelPackageGroupName=state_ids(root)["model.churn"])
    config = json.loads((root / "mlops.yaml").read_text())
    config["resources"] = {}
    (root / "mlops.yaml").write_text(json.dumps(config))
    run = cli(root, "apply", "--auto-approve")
    assert run.rc == 0, run.output
    assert "Traceback" not in run.output and "KeyError" not in run.output
    assert state_ids(root) == {}
    assert cli(root, "plan", "--detailed-exitcode").rc == 0
