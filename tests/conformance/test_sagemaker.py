"""The provider conformance suite (mlops_decl.testing) on the SageMaker provider, against the
extended moto server (mlops_decl.providers.sagemaker.testserver), all through boto3."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers" / "sagemaker"))

from sagemaker_helpers import ROLE, client, fake_credentials, register_version  # noqa: E402

from mlops_decl.providers.sagemaker.provider import SageMakerProvider  # noqa: E402
from mlops_decl.providers.sagemaker.settings import DEFAULT_ATTEMPTS  # noqa: E402
from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer  # noqa: E402
from mlops_decl.testing import ProviderCase, Sample, conformance  # noqa: E402

SALES = "customer_id,ts,amount,label\n" + "".join(
    f"c{i},2024-01-{1 + i % 28:02d},{10 + i * 1.5},{i % 2}\n" for i in range(40)
)


@contextmanager
def aws(project_dir: Path) -> Iterator[SageMakerServer]:
    with (
        fake_credentials(),
        SageMakerServer(options=Options(endpoint_delay=0.2, pipeline_delay=0.1)) as server,
    ):
        s3 = client(server, "s3")
        s3.create_bucket(Bucket="data")
        s3.put_bucket_versioning(Bucket="data", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="data", Key="sales.csv", Body=SALES.encode())
        s3.put_object(Bucket="data", Key="other.csv", Body=SALES.encode())
        yield server


def remove(server: SageMakerServer, kind: str, id: str) -> None:
    """Delete an object behind the provider's back."""
    if kind == "dataset":
        client(server, "s3").delete_object(Bucket="data", Key=id.split("/", 3)[3])
    elif kind == "feature_group":
        client(server, "sagemaker").delete_feature_group(FeatureGroupName=id)
    elif kind == "model":
        sm = client(server, "sagemaker")
        for p in sm.list_model_packages(ModelPackageGroupName=id)["ModelPackageSummaryList"]:
            sm.delete_model_package(ModelPackageName=p["ModelPackageArn"])
        sm.delete_model_package_group(ModelPackageGroupName=id)
    elif kind == "training_pipeline":
        client(server, "sagemaker").delete_pipeline(PipelineName=id, ClientRequestToken="x" * 32)
    elif kind == "registry_policy":  # tags on its model's group
        sm = client(server, "sagemaker")
        arn = sm.describe_model_package_group(ModelPackageGroupName=id)["ModelPackageGroupArn"]
        keys = [
            t["Key"]
            for t in sm.list_tags(ResourceArn=arn)["Tags"]
            if t["Key"].startswith("mlops-decl:policy:")
        ]
        sm.delete_tags(ResourceArn=arn, TagKeys=keys)
    elif kind == "monitor":  # pending its endpoint: its record and baseline in S3
        s3 = client(server, "s3")
        for o in s3.list_objects_v2(Bucket="data", Prefix=f"mlops/monitoring/{id}/").get("Contents", []):
            s3.delete_object(Bucket="data", Key=o["Key"])
    elif kind == "endpoint":  # pending: its registration is a tag on its model's group
        sm = client(server, "sagemaker")
        for group in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]:
            sm.delete_tags(ResourceArn=group["ModelPackageGroupArn"], TagKeys=[f"mlops-decl:endpoint:{id}"])


def other_refs(kind: str, id: str, attrs: dict[str, Any]) -> list[str]:
    if kind == "dataset":
        return ["arn:aws:s3:::" + id[len("s3://") :]]
    return [attrs["arn"]] if attrs.get("arn") else []  # a pending endpoint has no ARN yet


def no_arguments(*_: Any) -> dict[str, Any]:
    return {}


def scorable(server: SageMakerServer, id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """A version whose artifact in S3 is a real fit on SALES (as a pipeline run leaves it),
    and rows to score."""
    import io

    import pandas as pd

    from mlops_decl.providers.sagemaker.testserver import training

    table = pd.read_csv(io.StringIO(SALES))
    fitted = training.artifact(training.fit(table, {"mlops_label": "label"}))
    version = register_version(server, id)
    client(server, "s3").put_object(Bucket="data", Key=f"runs/{id}/{version}/model.tar.gz", Body=fitted)
    return {"version": version, "rows": table.drop(columns=["label"])}


CASE = ProviderCase(
    provider=SageMakerProvider,
    server=aws,
    settings=lambda server: {
        "region": "us-east-1",
        "endpoint_url": server.url,
        "tags": {"owner": "ml-platform"},
        "execution_role": "arn:aws:iam::123456789012:role/sagemaker-execution",
        "artifacts": "s3://data/mlops",
    },
    samples=[
        Sample(
            "dataset",
            "sales",
            {"uri": "s3://data/sales.csv"},
            in_place={"description": "daily sales"},
            force_new={"uri": "s3://data/other.csv"},
        ),
        Sample(
            "model", "churn", {}, in_place={"tags": {"team": "ml"}}, force_new={"description": "churn v2"}
        ),
        Sample(
            "feature_group",
            "customers",
            lambda ids: {
                "source": ids["dataset"],
                "entity": ["customer_id"],
                "event_time": "ts",
                "features": [{"name": "amount", "dtype": "float"}],
                "sagemaker": {"role": ROLE},
            },
            in_place={"features": [{"name": "amount", "dtype": "float"}, {"name": "label", "dtype": "int"}]},
            force_new={"online": True},
            needs=("dataset",),
        ),
        Sample(  # no version carries the alias yet: pending_model (tests/providers/sagemaker deploy one)
            "endpoint",
            "api",
            lambda ids: {"model": ids["model"], "sagemaker": {"sampling": 50}},
            in_place={"replicas": 2},
            force_new={"model": "another"},
            needs=("model",),
        ),
        Sample(
            "training_pipeline",
            "train",
            lambda ids: {
                "inputs": [ids["feature_group"]],
                "labels": ids["dataset"],  # the training table: an S3 dataset
                "label": "label",
                "estimator": "sklearn.linear_model.LogisticRegression",
                "registers": ids["model"],
                "sagemaker": {"image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.4"},
            },
            in_place={"hyperparameters": {"C": 0.5}},
            needs=("dataset", "feature_group", "model"),
        ),
        Sample(
            "registry_policy",
            "gates",
            lambda ids: {
                "model": ids["model"],
                "gates": [
                    {"type": "metric_threshold", "metric": "auc", "min": 0.7},
                    {"type": "champion_comparison", "metric": "auc", "min_delta": 0.01},
                ],
            },
            in_place={"promote_to": "production"},
            force_new={"model": "another-model"},
            needs=("model",),
        ),
        Sample(  # its endpoint is pending: the schedule waits for it (tests/providers/sagemaker schedule one)
            "monitor",
            "drift",
            lambda ids: {
                "endpoint": ids["endpoint"],
                "baseline": ids["dataset"],
                "features": ["amount", "label"],
                "schedule": "@daily",
            },
            in_place={"drift_share": 0.3},
            force_new={"endpoint": "another-endpoint"},
            needs=("dataset", "endpoint"),
        ),
    ],
    files={"current.csv": SALES},
    bad_settings=[
        ({}, ("region",)),
        ({"region": "eu-west-1", "endpoint_url": "ftp://example.org"}, ("endpoint_url",)),
        ({"region": "eu-west-1", "max_attempts": 0}, ("max_attempts",)),
        ({"region": "eu-west-1", "regoin": "eu-west-1"}, ("regoin",)),
        ({"region": "eu-west-1", "role_arn": "admin"}, ("role_arn",)),
    ],
    api_calls=lambda server: server.requests,
    # n calls throttled as the provider sees them: each after botocore's attempts
    throttle=lambda server, n: server.throttle(n * DEFAULT_ATTEMPTS),
    remove=remove,
    import_refs=other_refs,
    actions={  # each prepares the double first: a version registered as a pipeline run does
        ("model", "list_versions"): lambda server, id, attrs: no_arguments(register_version(server, id)),
        ("model", "version_evidence"): lambda server, id, attrs: {"version": register_version(server, id)},
        ("model", "add_approval"): lambda server, id, attrs: {
            "version": register_version(server, id),
            "by": "ana",
        },
        ("training_pipeline", "run"): lambda server, id, attrs: {"wait": True},
        ("training_pipeline", "run_status"): lambda server, id, attrs: {
            "run_id": client(server, "sagemaker").start_pipeline_execution(PipelineName=id)[
                "PipelineExecutionArn"
            ]
        },
        ("model", "score"): scorable,
        # a version registered without the evaluation split: None, "there is none"
        ("model", "evaluation_rows"): lambda server, id, attrs: {"version": register_version(server, id)},
        ("monitor", "reference_data"): lambda server, id, attrs: {"read": True},
        ("monitor", "current_data"): lambda server, id, attrs: {
            "data": "current.csv",
            "columns": ["amount", "label"],
        },
        ("model", "set_alias"): lambda server, id, attrs: {
            "alias": "champion",
            "version": register_version(server, id),
            "expected_current": None,
        },
    },
)

TestSageMakerConformance = conformance(CASE)
