"""The s3 backend's tests run on moto's server (the `aws` fixture of tests/conftest.py)."""

from __future__ import annotations

import pytest
from s3_fixtures import make_bucket

from mlops_decl.testing.aws import MotoServer


@pytest.fixture
def bucket(aws: MotoServer) -> MotoServer:
    """An empty versioned bucket and lock table on the test server."""
    make_bucket(aws)
    return aws
