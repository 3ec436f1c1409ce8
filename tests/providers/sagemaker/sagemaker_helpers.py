"""The extended moto server, fresh per test, and boto3 clients against it (no retries inside
botocore: a test sees every answer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.aws import FAKE_ENV  # fake credentials, no AWS config files

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"


@pytest.fixture
def server() -> Iterator[SageMakerServer]:
    with SageMakerServer(
        options=Options(endpoint_delay=1.0, pipeline_delay=1.0)
    ) as s:  # long enough to see a status pass
        yield s


def client(server: SageMakerServer, service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def sm(server: SageMakerServer) -> Any:
    return client(server, "sagemaker")


@pytest.fixture
def s3(server: SageMakerServer) -> Any:
    return client(server, "s3")


@contextmanager
def fake_credentials() -> Iterator[None]:
    """The environment a user of the offline double has: fake credentials, no AWS files."""
    import os

    before = {k: os.environ.get(k) for k in FAKE_ENV}
    os.environ.update(FAKE_ENV)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def register_version(
    server: Any, group: str, metrics: dict[str, float] | None = None, bucket: str = "data"
) -> int:
    """A model package in `group` as a pipeline run registers one, its evaluation report in S3;
    its version number."""
    import json

    sm, s3 = client(server, "sagemaker"), client(server, "s3")
    n = len(sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]) + 1
    key = f"runs/{group}/{n}/evaluation.json"
    report = {"metrics": {k: {"value": v} for k, v in (metrics or {"auc": 0.8}).items()}}
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(report).encode())
    arn = sm.create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification={
            "Containers": [{"Image": "img", "ModelDataUrl": f"s3://{bucket}/runs/{group}/{n}/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/{key}"}
            }
        },
        CustomerMetadataProperties={
            "mlops:execution": f"exec-{n}",
            "mlops:dataset:dataset.sales": f"v{n}",
            "C": "0.5",
        },
    )["ModelPackageArn"]
    return int(arn.rsplit("/", 1)[1])
