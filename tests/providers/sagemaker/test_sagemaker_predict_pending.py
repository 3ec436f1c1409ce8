"""`predict` on a SageMaker endpoint that cannot answer yet: pending_model (no version holds
its alias, or one does but is not deployed), or an endpoint still Creating. One error each,
saying what to run first; no request reaches sagemaker-runtime."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import REGION, ROLE, client, fake_credentials, register_version

from mlops_decl.actions.invoke import invoke
from mlops_decl.diagnostics import DiagnosticError
from mlops_decl.provider import ProviderContext, RuntimeContext
from mlops_decl.providers.sagemaker.provider import SageMakerProvider
from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import cli, state_ids


@pytest.fixture
def aws() -> Iterator[SageMakerServer]:
    with fake_credentials(), SageMakerServer(options=Options(endpoint_delay=60.0)) as server:
        client(server, "s3").create_bucket(Bucket="data")
        yield server


def settings(server: SageMakerServer) -> dict[str, Any]:
    return {
        "region": REGION,
        "endpoint_url": server.url,
        "execution_role": ROLE,
        "artifacts": "s3://data/mlops",
    }


def project(root: Path, server: SageMakerServer) -> None:
    config = {
        "project": "shop",
        "default_provider": "sagemaker",
        "providers": {"sagemaker": settings(server)},
        "resources": {"model": {"churn": {}}, "endpoint": {"api": {"model": "${model.churn}"}}},
    }
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2) + "\n")
    (root / "rows.csv").write_text("tenure,plan\n3,basic\n")


def invocations(server: SageMakerServer) -> int:
    return sum(n for action, n in server.calls().items() if action.endswith("/invocations"))


def test_a_pending_endpoint_says_what_to_run_first(tmp_path: Path, aws: SageMakerServer) -> None:
    project(tmp_path, aws)
    assert cli(tmp_path, "apply", "--auto-approve").rc == 0
    predict = ("predict", "endpoint.api", "--data", "rows.csv")
    untrained = cli(tmp_path, *predict)
    assert untrained.rc == 1 and "Traceback" not in untrained.output
    assert (
        "pending_model: no version of model `shop-model-churn` holds alias `champion` yet" in untrained.output
    )
    assert "mlops-decl run training_pipeline.NAME" in untrained.output
    group = state_ids(tmp_path)["model.churn"]
    register_version(aws, group)
    register_version(aws, group)
    trained = cli(tmp_path, *predict)
    assert trained.rc == 1 and "hint: run `mlops-decl promote model.churn --version 2`" in trained.output
    assert cli(tmp_path, "promote", "model.churn", "--version", "2").rc == 0
    promoted = cli(tmp_path, *predict)
    assert promoted.rc == 1 and "version 2 waits for it" in promoted.output
    assert "hint: run `mlops-decl apply` to deploy endpoint.api" in promoted.output
    assert invocations(aws) == 0


def test_an_endpoint_still_creating_is_one_error_naming_its_status(
    tmp_path: Path, aws: SageMakerServer
) -> None:
    sm = client(aws, "sagemaker")
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    sm.create_endpoint_config(
        EndpointConfigName="c",
        ProductionVariants=[
            {
                "VariantName": "main",
                "ModelName": "m",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sm.create_endpoint(EndpointName="slow", EndpointConfigName="c")  # Creating for a minute
    provider = SageMakerProvider()
    provider.configure(
        settings(aws), ProviderContext(project_dir=tmp_path, data_dir=tmp_path / ".mlops", project="shop")
    )
    rt = RuntimeContext(tmp_path, "hash", None, "test")
    try:
        with pytest.raises(DiagnosticError) as creating:
            invoke(
                provider,
                "sagemaker",
                "endpoint.slow",
                "endpoint",
                "predict",
                "slow",
                {"model": "m"},
                rt,
                rows=[{"tenure": 3}],
                capture=True,
            )
    finally:
        provider.close()
    text = str(creating.value)
    assert "endpoint slow is Creating on SageMaker, not InService" in text
    assert invocations(aws) == 0
