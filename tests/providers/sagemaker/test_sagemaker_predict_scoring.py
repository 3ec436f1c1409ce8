"""A model version's own predictions on SageMaker, for the engine's champion comparison: the
evaluation step keeps its held-out split beside its report (evaluation_rows), and `score`
predicts with a version's artifact downloaded from S3. `mlops-decl promote` through a
registry_policy compares the champion with the candidate on the candidate's split."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import client, fake_credentials, register_version
from sagemaker_predict_project import csv_text, customers, ok, write_project

from mlops_decl.actions.invoke import invoke
from mlops_decl.provider import ProviderContext, RuntimeContext
from mlops_decl.providers.sagemaker.provider import SageMakerProvider
from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import state_ids

POLICY = {
    "model": "${model.churn}",
    "promote_to": "champion",
    "gates": [
        {"type": "champion_comparison", "metric": "auc", "min_delta": -1.0},
        {"type": "bias", "metric": "demographic_parity_difference", "sensitive_feature": "plan", "max": 1.0},
    ],
}


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SageMakerServer, Any]]:
    """Version 1 (the champion) and version 2 trained on other rows, and a configured provider."""
    root = tmp_path_factory.mktemp("shop")
    with (
        fake_credentials(),
        SageMakerServer(options=Options(endpoint_delay=0.2, pipeline_delay=0.1)) as server,
    ):
        write_project(root, server, customers(200))
        config = json.loads((root / "mlops.yaml").read_text())
        config["resources"]["registry_policy"] = {"gates": POLICY}
        (root / "mlops.yaml").write_text(json.dumps(config, indent=2))
        ok(root, "apply", "--auto-approve")
        ok(root, "run", "training_pipeline.train")
        ok(root, "promote", "model.churn", "--version", "1")
        client(server, "s3").put_object(
            Bucket="data", Key="customers.csv", Body=csv_text(customers(200, 5)).encode()
        )
        ok(root, "run", "training_pipeline.train")
        provider = SageMakerProvider()
        settings = config["providers"]["sagemaker"]
        provider.configure(
            settings, ProviderContext(project_dir=root, data_dir=root / ".mlops", project="shop")
        )
        yield root, server, provider
        provider.close()


def action(root: Path, provider: Any, name: str, **arguments: Any) -> Any:
    group = state_ids(root)["model.churn"]
    rt = RuntimeContext(root, "hash", None, "test")
    return invoke(provider, "sagemaker", "model.churn", "model", name, group, {}, rt, **arguments)


def artifact_of(server: SageMakerServer, group: str, version: int) -> Any:
    import io
    import pickle
    import tarfile

    sm, s3 = client(server, "sagemaker"), client(server, "s3")
    arn = next(
        p["ModelPackageArn"]
        for p in sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
        if p["ModelPackageVersion"] == version
    )
    url = sm.describe_model_package(ModelPackageName=arn)["InferenceSpecification"]["Containers"][0][
        "ModelDataUrl"
    ]
    bucket, _, key = url[len("s3://") :].partition("/")
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        handle = tar.extractfile("model.pkl")
        assert handle is not None
        return pickle.loads(handle.read())


def test_the_evaluation_split_is_the_held_out_rows_with_the_versions_predictions(two_versions: Any) -> None:
    root, server, provider = two_versions
    found = action(root, provider, "evaluation_rows", version=2)
    assert found.version == 2 and found.source.endswith("/evaluation_split.parquet")
    rows = found.rows
    assert len(rows) == 40  # test_size 0.2 of 200
    assert {"__label__", "__pred__", "__score__", "tenure", "plan"} <= set(rows.columns)
    v2 = artifact_of(server, state_ids(root)["model.churn"], 2)
    features = rows[v2["features"]]
    assert rows["__pred__"].tolist() == v2["model"].predict(features).tolist()
    assert action(root, provider, "version_evidence", version=2).evaluation_split == found.source


def test_score_predicts_with_the_versions_own_artifact(two_versions: Any) -> None:
    root, server, provider = two_versions
    rows = action(root, provider, "evaluation_rows", version=2).rows
    features = rows[[c for c in rows.columns if not c.startswith("__")]]
    v1 = artifact_of(server, state_ids(root)["model.churn"], 1)
    scored = action(root, provider, "score", version=1, rows=features)
    assert scored.error is None and scored.version == 1
    assert list(scored.predictions) == v1["model"].predict(features[v1["features"]]).tolist()
    assert list(scored.scores) == pytest.approx(v1["model"].predict_proba(features[v1["features"]])[:, 1])
    lacking = action(root, provider, "score", version=1, rows=features.drop(columns=["plan"]))
    assert lacking.predictions is None and lacking.error == "the rows lack column(s) plan"


def test_promote_compares_the_champion_on_the_candidates_split(two_versions: Any) -> None:
    root, _, _ = two_versions
    result = json.loads(ok(root, "promote", "model.churn", "--version", "2", "--json"))
    assert result["promoted"] is True and result["previous"] == 1
    comparison, bias = result["gates"]
    assert (
        "vs champion v1" in comparison["evidence"]
        and "on v2's evaluation split (40 rows)" in comparison["evidence"]
    )
    assert "across 3 groups of plan" in bias["evidence"]


def test_a_version_without_a_split_has_no_evaluation_rows(two_versions: Any) -> None:
    root, server, provider = two_versions
    version = register_version(server, state_ids(root)["model.churn"], bucket="data")
    assert action(root, provider, "evaluation_rows", version=version) is None
    assert action(root, provider, "version_evidence", version=version).evaluation_split is None
