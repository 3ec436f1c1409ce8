"""A SageMaker project as a user writes it (a dataset in S3, a feature group, a model, a
training pipeline and an endpoint), taken through the CLI against the double to a deployed
endpoint: apply, run the pipeline, promote the version, apply again. And the model artifact
a version serves, read straight from S3 with tarfile and pickle (not through the provider),
to compare the endpoint's answers with."""

from __future__ import annotations

import io
import json
import pickle
import random
import tarfile
from pathlib import Path
from typing import Any

from sagemaker_helpers import REGION, ROLE, client

from mlops_decl.testing.project import cli, state_ids

COLUMNS = ["customer_id", "ts", "tenure", "spend", "plan", "churned"]
FEATURES = ["customer_id", "ts", "tenure", "spend", "plan"]  # the pipeline trains on every other column


def customers(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """Rows whose label follows tenure and plan, with noise: a classifier learns something."""
    draw = random.Random(seed)
    out = []
    for i in range(n):
        tenure, plan = draw.randint(1, 60), draw.choice(["basic", "pro", "team"])
        spend = round(draw.uniform(5, 120), 2)
        churned = int(tenure < 20 and plan == "basic" or draw.random() < 0.15)
        out.append(
            {
                "customer_id": f"c{i}",
                "ts": f"2024-01-{1 + i % 28:02d}",
                "tenure": tenure,
                "spend": spend,
                "plan": plan,
                "churned": churned,
            }
        )
    return out


def csv_text(rows: list[dict[str, Any]], columns: list[str] = COLUMNS) -> str:
    return ",".join(columns) + "\n" + "".join(",".join(str(r[c]) for c in columns) + "\n" for r in rows)


def write_project(root: Path, server: Any, rows: list[dict[str, Any]]) -> None:
    s3 = client(server, "s3")
    for bucket in ("data", "artifacts"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket="data", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="data", Key="customers.csv", Body=csv_text(rows).encode())
    config = {
        "project": "shop",
        "default_provider": "sagemaker",
        "providers": {
            "sagemaker": {
                "region": REGION,
                "endpoint_url": server.url,
                "execution_role": ROLE,
                "artifacts": "s3://artifacts/mlops",
            }
        },
        "resources": {
            "dataset": {"customers": {"uri": "s3://data/customers.csv"}},
            "feature_group": {
                "profile": {
                    "source": "${dataset.customers}",
                    "entity": ["customer_id"],
                    "event_time": "ts",
                    "features": [
                        {"name": "tenure", "dtype": "int"},
                        {"name": "spend", "dtype": "float"},
                        {"name": "plan", "dtype": "string"},
                    ],
                }
            },
            "model": {"churn": {}},
            "training_pipeline": {
                "train": {
                    "inputs": ["${feature_group.profile}"],
                    "labels": "${dataset.customers}",
                    "label": "churned",
                    "estimator": "sklearn.linear_model.LogisticRegression",
                    "hyperparameters": {"max_iter": 1000},
                    "registers": "${model.churn}",
                    "sagemaker": {"image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.4"},
                }
            },
            "endpoint": {"api": {"model": "${model.churn}"}},
        },
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2) + "\n")


def ok(root: Path, *args: str) -> str:
    run = cli(root, *args)
    assert run.rc == 0, f"mlops-decl {' '.join(args)}:\n{run.output}"
    return run.output


def train_and_deploy(root: Path, server: Any) -> int:
    """Run the pipeline, promote what it registered, and apply: the endpoint serves it. The
    version it serves."""
    ok(root, "run", "training_pipeline.train")
    group = state_ids(root)["model.churn"]
    listed = client(server, "sagemaker").list_model_packages(ModelPackageGroupName=group)
    version = max(int(p["ModelPackageVersion"]) for p in listed["ModelPackageSummaryList"])
    ok(root, "promote", "model.churn", "--version", str(version))
    ok(root, "apply", "--auto-approve")
    return version


def served_artifact(server: Any, endpoint: str) -> dict[str, Any]:
    """What the endpoint's model package points at in S3, unpacked: {"model", "features", ...}."""
    sm, s3 = client(server, "sagemaker"), client(server, "s3")
    config = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    package = sm.describe_model_package(ModelPackageName=model["PrimaryContainer"]["ModelPackageName"])
    url = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    bucket, _, key = url[len("s3://") :].partition("/")
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        handle = tar.extractfile("model.pkl")
        assert handle is not None
        found: dict[str, Any] = pickle.loads(handle.read())
    return found
