"""The state backend contract (mlops_decl.testing.backend_contract) on the s3 backend against
moto's server, with each lock style: an S3 object created only if absent, a DynamoDB item put
only if absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from s3_fixtures import make_bucket, s3_settings

from mlops_decl.state import open_state_backend
from mlops_decl.testing.aws import MotoServer
from mlops_decl.testing.backend_contract import BackendCase, BackendContract


class TestS3Backend(BackendContract):
    cases = [
        BackendCase("s3-lockfile", lambda root: s3_settings("lockfile"), lock_dies_with_holder=False),
        BackendCase("s3-dynamodb", lambda root: s3_settings("dynamodb"), lock_dies_with_holder=False),
    ]

    @pytest.fixture(autouse=True)
    def _bucket(self, aws: MotoServer, case: BackendCase, tmp_path: Path) -> None:
        make_bucket(aws)  # the subprocesses inherit aws's environment (credentials, endpoint)
        # Build this process's clients now, so a timed step of a test does not pay for it.
        assert open_state_backend(tmp_path, case.settings(tmp_path)).lock().holder() is None
