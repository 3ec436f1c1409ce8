"""A project on the SageMaker provider validates without importing boto3 or botocore, and a
missing SDK or bad settings are one clear error, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("boto3", "botocore", "moto", "pandas", "pyarrow", "sklearn", "pydantic")

MLOPS = """project: shop
default_provider: sagemaker
providers:
  sagemaker: {region: eu-west-1, tags: {owner: ml}}
"""
ML = """resources:
  dataset:
    sales: {uri: "s3://data/sales.csv"}
  model:
    churn: {description: churn classifier}
"""


def _project(root: Path, mlops: str = MLOPS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(mlops)
    (root / "ml.yaml").write_text(ML)
    return root


def _imports(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mlops_decl", *args],
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = {
        line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")
    }
    return proc, modules


def test_validate_and_help_import_no_sdk(tmp_path: Path) -> None:
    root = _project(tmp_path / "shop")
    for args in (["validate"], ["--help"]):
        proc, modules = _imports(args, root)
        assert proc.returncode == 0, proc.stderr[-2000:]
        heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
        assert not heavy, f"{args} imports {heavy}"
    _, modules = _imports(["validate"], root)
    assert "mlops_decl.providers.sagemaker.settings" in modules  # the schema was read, offline


def test_bad_settings_are_one_error_at_their_line(tmp_path: Path) -> None:
    root = _project(tmp_path / "shop", MLOPS.replace("region: eu-west-1", "region: Europe"))
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "validate"],
        cwd=root,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "mlops.yaml:4:" in proc.stderr and "region" in proc.stderr, proc.stderr


def _plan(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "mlops_decl", "plan"],
        cwd=root,
        env={**clean, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_credentials_are_one_error_at_the_provider_before_any_read(tmp_path: Path) -> None:
    root = _project(tmp_path / "shop")
    nowhere = {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    proc = _plan(root, nowhere)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: mlops.yaml:4:14: provider `sagemaker`: no AWS credentials found"], proc.stderr
    assert "AWS_PROFILE" in proc.stderr and "Refreshing" not in proc.stdout + proc.stderr

    proc = _plan(root, {**nowhere, "AWS_PROFILE": "team"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "The config profile (team) could not be found" in proc.stderr, proc.stderr
