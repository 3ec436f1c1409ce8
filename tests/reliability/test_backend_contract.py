"""The state backend contract (mlops_decl.testing.backend_contract) on the local backend, at
its default and at a custom path. The s3 backend will join by adding its BackendCase."""

from __future__ import annotations

from mlops_decl.testing.backend_contract import BackendCase, BackendContract


class TestLocalBackend(BackendContract):
    cases = [
        BackendCase("local", lambda root: {"type": "local"}, lock_dies_with_holder=True),
        BackendCase("local-custom-path", lambda root: {"type": "local", "path": "state/prod.json"}, True),
    ]
