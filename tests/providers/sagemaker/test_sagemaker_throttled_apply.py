"""A SageMaker project through the CLI against the double with faults on: under 30% throttled
calls, with the provider's default retry settings, an apply converges with no object made
twice (an endpoint's Model, EndpointConfig and Endpoint included), and a no-op plan makes at
most two API calls per resource (counted with botocore's event hooks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import REGION, ROLE, client, fake_credentials, register_version

from mlops_decl.providers.sagemaker.calls import counting
from mlops_decl.providers.sagemaker.model import ALIAS
from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import cli

DATA = "customer_id,ts,amount,label\n" + "".join(
    f"c{i},2024-01-0{1 + i % 9},{i}.5,{i % 2}\n" for i in range(20)
)


@pytest.fixture
def double() -> Iterator[SageMakerServer]:
    with fake_credentials(), SageMakerServer(options=Options(endpoint_delay=0.2, pipeline_delay=0.1)) as s:
        yield s


def project(root: Path, server: SageMakerServer, n: int, **settings: Any) -> int:
    """n datasets, n models and n feature groups (one on each dataset); the number of
    resources."""
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="data")
    s3.put_bucket_versioning(Bucket="data", VersioningConfiguration={"Status": "Enabled"})
    for i in range(n):
        s3.put_object(Bucket="data", Key=f"d{i}.csv", Body=DATA.encode())
    resources: dict[str, dict[str, Any]] = {
        "dataset": {f"d{i}": {"uri": f"s3://data/d{i}.csv"} for i in range(n)},
        "model": {f"m{i}": {"description": f"model {i}", "tags": {"n": str(i)}} for i in range(n)},
        "feature_group": {
            f"f{i}": {
                "source": f"${{dataset.d{i}}}",
                "entity": ["customer_id"],
                "event_time": "ts",
                "features": [{"name": "amount", "dtype": "float"}],
                "online": i % 2 == 0,
                "sagemaker": {"role": ROLE},
            }
            for i in range(n)
        },
    }
    config = {
        "project": "faults",
        "default_provider": "sagemaker",
        "providers": {"sagemaker": {"region": REGION, "endpoint_url": server.url, **settings}},
        "resources": resources,
    }
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2) + "\n")
    return sum(len(v) for v in resources.values())


def groups(server: SageMakerServer) -> list[str]:
    sm = client(server, "sagemaker")
    return sorted(
        g["ModelPackageGroupName"] for g in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
    )


def feature_groups(server: SageMakerServer) -> list[str]:
    sm = client(server, "sagemaker")
    return sorted(g["FeatureGroupName"] for g in sm.list_feature_groups()["FeatureGroupSummaries"])


def registrations(server: SageMakerServer, key: str) -> list[str]:
    tags = client(server, "s3").get_object_tagging(Bucket="data", Key=key)["TagSet"]
    return [t["Key"] for t in tags if t["Key"].startswith("mlops-decl:dataset:")]


def test_an_apply_with_30_percent_of_calls_throttled_converges_without_duplicates(
    double: SageMakerServer, tmp_path: Path
) -> None:
    n = 4
    project(tmp_path, double, n)  # default settings: no max_attempts
    double.inject(throttle=0.3, seed=2026)
    applied = cli(tmp_path, "apply", "--auto-approve")
    assert applied.rc == 0, applied.output
    throttled = double.throttled
    assert throttled > 0
    again = cli(tmp_path, "plan", "--detailed-exitcode")  # still throttled
    assert again.rc == 0, again.output
    assert "No changes" in again.output
    double.inject(throttle=0.0)
    assert len(groups(double)) == n  # one group per model, none made twice
    assert len(feature_groups(double)) == n
    assert all(len(registrations(double, f"d{i}.csv")) == 1 for i in range(n))


def test_a_no_op_plan_makes_at_most_two_calls_per_resource(double: SageMakerServer, tmp_path: Path) -> None:
    resources = project(tmp_path, double, 3)
    assert cli(tmp_path, "apply", "--auto-approve").rc == 0
    before = double.requests
    with counting() as counter:
        planned = cli(tmp_path, "plan", "--detailed-exitcode")
    assert planned.rc == 0, planned.output
    assert 0 < counter.total() <= 2 * resources, counter.snapshot()
    assert double.requests - before == counter.total()  # the server saw the same calls


@pytest.mark.parametrize("seed", [2026, 7])
def test_an_endpoint_deploys_with_30_percent_of_calls_throttled_making_each_object_once(
    double: SageMakerServer, tmp_path: Path, seed: int
) -> None:
    project(tmp_path, double, 1, artifacts="s3://data/mlops")
    config = json.loads((tmp_path / "mlops.yaml").read_text())
    endpoint = {"model": "${model.m0}", "instance_type": "ml.m5.large", "sagemaker": {"role": ROLE}}
    config["resources"]["endpoint"] = {"api": endpoint}
    (tmp_path / "mlops.yaml").write_text(json.dumps(config))
    double.inject(throttle=0.3, seed=seed)
    first = cli(tmp_path, "apply", "--auto-approve")  # the endpoint waits for a version
    assert first.rc == 0, first.output
    double.inject(throttle=0.0)
    sm = client(double, "sagemaker")
    group = groups(double)[0]
    version = register_version(double, group)
    arn = sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": ALIAS + "champion", "Value": str(version)}])
    double.inject(throttle=0.3, seed=seed + 1)
    deployed = cli(tmp_path, "apply", "--auto-approve")  # Model, EndpointConfig, Endpoint
    assert deployed.rc == 0, deployed.output
    assert "already exist" not in deployed.output.lower()
    assert double.throttled > 0
    again = cli(tmp_path, "plan", "--detailed-exitcode")
    assert again.rc == 0, again.output
    double.inject(throttle=0.0)
    endpoints = sm.list_endpoints()["Endpoints"]
    assert [e["EndpointStatus"] for e in endpoints] == ["InService"]
    assert len(sm.list_endpoint_configs()["EndpointConfigs"]) == 1
    assert len(sm.list_models()["Models"]) == 1
