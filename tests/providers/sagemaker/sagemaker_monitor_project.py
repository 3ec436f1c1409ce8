"""A churn project on the SageMaker provider for the monitor tests: data in S3, a feature
group, a pipeline the double really trains, gates, an endpoint and a drift monitor on it; and
captured requests written in SageMaker's data-capture layout."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sagemaker_helpers import ROLE, client, fake_credentials

from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import cli

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1.4"
FEATURES = ["tenure", "spend", "plan"]


def rows(n: int, seed: int, shift: float = 0.0, noise: float = 0.0) -> list[dict[str, Any]]:
    """Customers whose churn follows tenure and plan; `shift` moves tenure and spend up,
    `noise` flips that share of the labels."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        tenure = rng.randint(1, 60) + int(shift * 40)
        spend = round(rng.uniform(10, 100) + shift * 80, 2)
        plan = rng.choice(["basic", "plus", "pro"])
        churned = int(tenure < 20 or (plan == "basic" and spend > 70))
        if rng.random() < noise:
            churned = 1 - churned
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


def csv_of(table: list[dict[str, Any]], columns: list[str]) -> bytes:
    lines = [",".join(columns)] + [",".join(str(r[c]) for c in columns) for r in table]
    return ("\n".join(lines) + "\n").encode()


def upload(server: SageMakerServer, key: str, table: list[dict[str, Any]], columns: list[str]) -> None:
    client(server, "s3").put_object(Bucket="data", Key=key, Body=csv_of(table, columns))


def start(server: SageMakerServer) -> None:
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="data")
    s3.put_bucket_versioning(Bucket="data", VersioningConfiguration={"Status": "Enabled"})
    data = rows(400, seed=1)
    upload(server, "history.csv", data, ["customer_id", "ts", *FEATURES, "churned"])
    upload(server, "train.csv", data, [*FEATURES, "churned"])
    upload(server, "reference.csv", data, FEATURES)


@contextmanager
def served() -> Iterator[SageMakerServer]:
    """A fresh server holding the project's data."""
    with (
        fake_credentials(),
        SageMakerServer(options=Options(endpoint_delay=0.2, pipeline_delay=0.2)) as server,
    ):
        start(server)
        yield server


def project(
    root: Path,
    server: SageMakerServer,
    schedule: str = "@daily",
    floor: float = 0.8,
    monitor_block: dict[str, Any] | None = None,
) -> None:
    config = {
        "project": "shop",
        "default_provider": "sagemaker",
        "providers": {
            "sagemaker": {
                "region": "us-east-1",
                "endpoint_url": server.url,
                "execution_role": ROLE,
                "artifacts": "s3://data/mlops",
            }
        },
        "resources": {
            "dataset": {
                "history": {"uri": "s3://data/history.csv"},
                "train": {"uri": "s3://data/train.csv"},
                "reference": {"uri": "s3://data/reference.csv"},
            },
            "feature_group": {
                "customers": {
                    "source": "${dataset.history}",
                    "entity": ["customer_id"],
                    "event_time": "ts",
                    "features": [{"name": "tenure", "dtype": "int"}, {"name": "spend", "dtype": "float"}],
                }
            },
            "model": {"churn": {}},
            "training_pipeline": {
                "train": {
                    "inputs": ["${feature_group.customers}"],
                    "labels": "${dataset.train}",
                    "label": "churned",
                    "estimator": "sklearn.ensemble.RandomForestClassifier",
                    "hyperparameters": {"n_estimators": 20, "random_state": 0},
                    "registers": "${model.churn}",
                    "sagemaker": {"image_uri": IMAGE},
                }
            },
            "registry_policy": {
                "gates": {
                    "model": "${model.churn}",
                    "gates": [{"type": "metric_threshold", "metric": "accuracy", "min": floor}],
                }
            },
            "endpoint": {"api": {"model": "${model.churn}", "instance_type": "ml.m5.large"}},
            "monitor": {
                "drift": {
                    "endpoint": "${endpoint.api}",
                    "baseline": "${dataset.reference}",
                    "features": FEATURES,
                    "schedule": schedule,
                    "on_drift": {"retrain": "${training_pipeline.train}", "cooldown": "1m"},
                    **({"sagemaker": monitor_block} if monitor_block else {}),
                }
            },
        },
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2))


def ok(root: Path, *args: str) -> str:
    run = cli(root, *args)
    assert run.rc == 0, run.output
    return run.output


def capture(
    server: SageMakerServer, endpoint: str, table: list[dict[str, Any]], per_request: int = 10
) -> None:
    """Requests as SageMaker's data capture writes them: JSON lines under the endpoint config's
    DestinationS3Uri, `{endpoint}/{variant}/yyyy/mm/dd/hh/`, CSV bodies without a header."""
    sm, s3 = client(server, "sagemaker"), client(server, "s3")
    config = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    destination = config["DataCaptureConfig"]["DestinationS3Uri"]
    variant = config["ProductionVariants"][0]["VariantName"]
    bucket, _, prefix = destination[5:].partition("/")
    now = datetime.now(timezone.utc)
    lines = []
    for i in range(0, len(table), per_request):
        body = "\n".join(",".join(str(r[c]) for c in FEATURES) for r in table[i : i + per_request])
        lines.append(
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "text/csv",
                            "mode": "INPUT",
                            "data": body,
                            "encoding": "CSV",
                        },
                        "endpointOutput": {
                            "observedContentType": "application/json",
                            "mode": "OUTPUT",
                            "data": "[0]",
                            "encoding": "JSON",
                        },
                    },
                    "eventMetadata": {"eventId": f"e{i}", "inferenceTime": now.isoformat()},
                    "eventVersion": "0",
                }
            )
        )
    key = f"{prefix}/{endpoint}/{variant}/{now:%Y/%m/%d/%H}/{now:%M-%S-%f}-capture.jsonl"
    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(lines) + "\n").encode())


def clear_captures(server: SageMakerServer, endpoint: str) -> None:
    s3 = client(server, "s3")
    for o in s3.list_objects_v2(Bucket="data", Prefix="mlops/capture/").get("Contents", []):
        if f"/{endpoint}/" in o["Key"]:
            s3.delete_object(Bucket="data", Key=o["Key"])


def report(root: Path, *args: str) -> dict[str, Any]:
    """`monitor check ... --json` as a user runs it: the report it prints on stdout."""
    import os

    from click.testing import CliRunner

    from mlops_decl.cli.main import cli as group

    cwd = os.getcwd()
    try:
        res = CliRunner().invoke(group, ["-C", str(root), "--no-color", "monitor", "check", *args, "--json"])
    finally:
        os.chdir(cwd)
    assert res.exit_code == 0, res.output
    found: dict[str, Any] = json.loads(res.stdout)
    return found


def attributes(root: Path, address: str) -> dict[str, Any]:
    from mlops_decl.cli.common import backend_for

    store, _ = backend_for(root)
    return dict(store.read().resources[address].attributes)
