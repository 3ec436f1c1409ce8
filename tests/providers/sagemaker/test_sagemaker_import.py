"""`mlops-decl import ADDR ID` for every SageMaker kind, by name and by ARN (a dataset by its
s3:// URI or its S3 ARN), through the CLI against the double: each object applied once,
forgotten with `state rm`, imported back, and the next plan has nothing to do. A reference
to nothing is one clear error that leaves the state as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import ROLE, client, fake_credentials, register_version

from mlops_decl.providers.sagemaker.model import ALIAS
from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import cli, state_ids

DATA = "customer_id,ts,amount,label\n" + "".join(
    f"c{i},2024-01-{1 + i % 28:02d},{10 + i * 1.5},{i % 2}\n" for i in range(40)
)
RESOURCES: dict[str, dict[str, Any]] = {
    "dataset": {"sales": {"uri": "s3://data/sales.csv"}},
    "model": {"churn": {"description": "churn classifier"}},
    "feature_group": {
        "customers": {
            "source": "${dataset.sales}",
            "entity": ["customer_id"],
            "event_time": "ts",
            "features": [{"name": "amount", "dtype": "float"}],
            "sagemaker": {"role": ROLE},
        }
    },
    "training_pipeline": {
        "train": {
            "inputs": ["${feature_group.customers}"],
            "labels": "${dataset.sales}",
            "label": "label",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "registers": "${model.churn}",
            "sagemaker": {"image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.4"},
        }
    },
}
ENDPOINT = {"api": {"model": "${model.churn}", "instance_type": "ml.m5.large", "replicas": 1}}


@pytest.fixture
def applied(tmp_path: Path) -> Iterator[tuple[SageMakerServer, Path]]:
    """Every kind applied, the endpoint serving version 1 of the model."""
    with fake_credentials(), SageMakerServer(options=Options(endpoint_delay=0.2)) as server:
        s3 = client(server, "s3")
        s3.create_bucket(Bucket="data")
        s3.put_bucket_versioning(Bucket="data", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="data", Key="sales.csv", Body=DATA.encode())
        write(tmp_path, server, RESOURCES)
        apply(tmp_path)
        group = state_ids(tmp_path)["model.churn"]
        version = register_version(server, group)
        sm = client(server, "sagemaker")
        arn = sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": ALIAS + "champion", "Value": str(version)}])
        write(tmp_path, server, {**RESOURCES, "endpoint": ENDPOINT})
        apply(tmp_path)
        yield server, tmp_path


def write(root: Path, server: SageMakerServer, resources: dict[str, Any]) -> None:
    config = {
        "project": "imports",
        "default_provider": "sagemaker",
        "providers": {
            "sagemaker": {
                "region": "us-east-1",
                "endpoint_url": server.url,
                "execution_role": "arn:aws:iam::123456789012:role/sagemaker-execution",
                "artifacts": "s3://data/mlops",
            }
        },
        "resources": resources,
    }
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2))


def apply(root: Path) -> None:
    run = cli(root, "apply", "--auto-approve")
    assert run.rc == 0, run.output


def arns(server: SageMakerServer, ids: dict[str, str]) -> dict[str, str]:
    """Each object's ARN, as the AWS console shows it."""
    sm = client(server, "sagemaker")
    return {
        "dataset.sales": "arn:aws:s3:::" + ids["dataset.sales"][len("s3://") :],
        "model.churn": sm.describe_model_package_group(ModelPackageGroupName=ids["model.churn"])[
            "ModelPackageGroupArn"
        ],
        "feature_group.customers": sm.describe_feature_group(FeatureGroupName=ids["feature_group.customers"])[
            "FeatureGroupArn"
        ],
        "training_pipeline.train": sm.describe_pipeline(PipelineName=ids["training_pipeline.train"])[
            "PipelineArn"
        ],
        "endpoint.api": sm.describe_endpoint(EndpointName=ids["endpoint.api"])["EndpointArn"],
    }


@pytest.mark.parametrize("by", ["name", "arn"])
def test_every_kind_imports_by_name_and_by_arn_and_plans_no_change(
    applied: tuple[SageMakerServer, Path], by: str
) -> None:
    server, root = applied
    ids = state_ids(root)
    assert sorted(ids) == sorted(arns(server, ids))  # every kind of the provider is here
    refs = ids if by == "name" else arns(server, ids)
    for address, ref in refs.items():
        assert cli(root, "state", "rm", address).rc == 0
        imported = cli(root, "import", address, ref)
        assert imported.rc == 0, imported.output
        assert state_ids(root)[address] == ids[address]  # the canonical id, whatever the ref
    planned = cli(root, "plan", "--detailed-exitcode")
    assert planned.rc == 0, planned.output
    assert "No changes" in planned.output


def test_importing_what_does_not_exist_is_one_error_and_the_state_is_untouched(
    applied: tuple[SageMakerServer, Path],
) -> None:
    server, root = applied
    ids = state_ids(root)
    account = arns(server, ids)["model.churn"].split(":")[4]
    missing = {
        "model.churn": "no-such-group",
        "feature_group.customers": f"arn:aws:sagemaker:us-east-1:{account}:feature-group/no-such-group",
        "endpoint.api": "no-such-endpoint",
        "dataset.sales": "s3://data/no-such.csv",
    }
    for address, ref in missing.items():
        assert cli(root, "state", "rm", address).rc == 0
        kept = state_ids(root)
        failed = cli(root, "import", address, ref)
        assert failed.rc == 1, failed.output
        assert ref in failed.output and "Traceback" not in failed.output, failed.output
        assert state_ids(root) == kept
