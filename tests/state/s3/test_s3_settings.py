"""The s3 backend as a plugin: registered under `mlops_decl.backends`, its settings checked by
`validate` without importing boto3 (mistakes at mlops.yaml:line:column are in
tests/test_errors.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlops_decl.state.plugins import BUILTIN_BACKENDS, backend_type, check_settings
from mlops_decl.state.s3.backend import S3Backend

REPO = Path(__file__).resolve().parents[3]
tomllib = pytest.importorskip("tomllib")  # in the standard library from Python 3.11


def test_the_entry_point_names_the_class_validate_finds() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["entry-points"]["mlops_decl.backends"]
    assert declared == BUILTIN_BACKENDS  # found without scanning entry points, declared for tools
    assert backend_type("s3") is S3Backend
    extras = project["optional-dependencies"]
    assert any(r.startswith("boto3>=") for r in extras["s3"]) and "mlops-decl[s3]" in extras["sagemaker"]


@pytest.mark.parametrize(
    ("settings", "path", "says"),
    [
        ({"bucket": "state", "key": "s.json", "region": 3}, ("region",), "must be a string"),
        (
            {"bucket": "state", "key": "s.json", "workspace_key_prefix": "env"},
            ("workspace_key_prefix",),
            "no setting",
        ),
        ({"bucket": "state", "key": "/s.json"}, ("key",), "not an object key"),
        ({"bucket": "a", "key": "s.json"}, ("bucket",), "not a bucket name"),
        (
            {"bucket": "state", "key": "s.json", "endpoint_url": "localhost:9000"},
            ("endpoint_url",),
            "not a URL",
        ),
        ({"bucket": "state", "key": "s.json", "max_retries": -1}, ("max_retries",), "0 or more"),
        ({"bucket": "state", "key": "s.json", "use_lockfile": "yes"}, ("use_lockfile",), "must be a boolean"),
    ],
)
def test_bad_settings(settings: dict[str, object], path: tuple[str, ...], says: str) -> None:
    (problem,) = check_settings({"type": "s3", **settings})
    assert problem.path == path and says in problem.message


def test_good_settings() -> None:
    assert check_settings({"type": "s3", "bucket": "state", "key": "s.json"}) == []
    full = {
        "type": "s3",
        "bucket": "acme.mlops-state",
        "key": "churn/state.json",
        "region": "eu-west-1",
        "profile": "ci",
        "endpoint_url": "https://s3.eu-west-1.amazonaws.com",
        "dynamodb_table": "locks",
        "use_lockfile": True,
        "encrypt": True,
        "kms_key_id": "alias/state",
        "use_path_style": False,
        "max_retries": 8,
    }
    assert check_settings(full) == []


def test_validate_on_an_s3_backend_imports_no_aws_sdk(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text(
        "project: t\nbackend: {type: s3, bucket: state, key: t/state.json, dynamodb_table: locks}\n"
    )
    code = (
        "import sys\n"
        "from mlops_decl.cli.main import main\n"
        "try:\n"
        "    main(['validate'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
