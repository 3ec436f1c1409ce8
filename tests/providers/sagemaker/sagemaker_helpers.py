"""The extended moto server, fresh per test, and boto3 clients against it (no retries inside
botocore: a test sees every answer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"


@pytest.fixture
def server() -> Iterator[SageMakerServer]:
    with SageMakerServer(options=Options(endpoint_delay=0.2, pipeline_delay=0.1)) as s:
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
