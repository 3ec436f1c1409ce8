"""Fixtures for the SageMaker provider's tests (sagemaker_helpers.py). Every test runs with
fake AWS credentials and no AWS config files, as a user of the offline double does."""

from collections.abc import Iterator

import pytest
from sagemaker_helpers import fake_credentials, s3, server, sm

__all__ = ["s3", "server", "sm"]


@pytest.fixture(autouse=True)
def _fake_aws_credentials() -> Iterator[None]:
    with fake_credentials():
        yield
