"""Shared helpers: a copy of the quickstart project and a way to run the real CLI in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from mlops_decl.testing.aws import MotoServer

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"

RunCli = Callable[..., tuple[int, str, str]]


def _run_cli(
    args: Sequence[str],
    cwd: Path | str,
    *,
    env: dict[str, str] | None = None,
    stdin: str = "",
    timeout: float = 120,
) -> tuple[int, str, str]:
    """`mlops-decl ARGS` in cwd, as a user runs it: (exit code, stdout, stderr)."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_decl", *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(autouse=True, scope="session")
def _own_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLIs the tests run keep their cache (checks/classpath_cache.py) out of the user's."""
    old = os.environ.get("MLOPS_DECL_CACHE_DIR")
    os.environ["MLOPS_DECL_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("MLOPS_DECL_CACHE_DIR", None)
    else:
        os.environ["MLOPS_DECL_CACHE_DIR"] = old


@pytest.fixture
def run_cli() -> RunCli:
    """`run_cli(["validate"], cwd)` -> (rc, stdout, stderr)."""
    return _run_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of examples/quickstart (without any .mlops/ left in the example)."""
    dest = tmp_path / "project"
    shutil.copytree(QUICKSTART, dest, ignore=shutil.ignore_patterns(".mlops", "__pycache__"))
    return dest


@pytest.fixture(scope="session")
def moto_session() -> Iterator[MotoServer]:
    """One moto server for the test session (mlops_decl/testing/aws.py)."""
    from mlops_decl.testing.aws import moto_server

    with moto_server() as server:
        yield server


@pytest.fixture
def aws(moto_session: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """moto's server, emptied, with this process's AWS environment (fake credentials, the
    endpoint) pointing at it; pass `aws.env` to subprocesses."""
    moto_session.reset()
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in moto_session.env.items():
        monkeypatch.setenv(name, value)
    return moto_session
