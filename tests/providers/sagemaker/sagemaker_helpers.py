"""The extended moto server, fresh per test, and boto3 clients against it (no retries inside
botocore: a test sees every answer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


FAKE_ENV = {  # any credentials do; no config files, so a developer's own profile is never used
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}


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
