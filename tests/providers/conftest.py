"""Fixtures for provider tests.

Until the distribution is pip-installed, `mlops_decl.providers` is not importable: alias it to
the repo's providers/ folder. Once installed, the real package is found and this does nothing.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _make_importable() -> None:
    try:
        importlib.import_module("mlops_decl.providers")
        return
    except ImportError:
        pass
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import mlops_decl

    pkg = types.ModuleType("mlops_decl.providers")
    pkg.__path__ = [str(ROOT / "providers")]
    sys.modules["mlops_decl.providers"] = pkg
    mlops_decl.providers = pkg  # type: ignore[attr-defined]


_make_importable()

from mlops_decl.providers.local import LocalProvider  # noqa: E402


def make_provider(project: Path, settings: dict | None = None) -> LocalProvider:
    from mlops_decl.provider import ProviderContext

    provider = LocalProvider()
    provider.configure(
        settings or {}, ProviderContext(project_dir=project, data_dir=project / ".mlops" / "local")
    )
    return provider


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def local(project: Path) -> Iterator[LocalProvider]:
    provider = make_provider(project)
    yield provider
    provider.close()


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated MLflow database per session: a migration costs seconds, a copy does not."""
    project = tmp_path_factory.mktemp("mlflow-template")
    provider = make_provider(project)
    provider.env.registry.client()  # creates and migrates mlflow.db
    provider.close()
    return provider.env.registry.db_path


@pytest.fixture
def local_mlflow(project: Path, mlflow_template: Path) -> Iterator[LocalProvider]:
    """A provider whose registry starts as a copy of the session's migrated database."""
    data_dir = project / ".mlops" / "local"
    data_dir.mkdir(parents=True)
    shutil.copyfile(mlflow_template, data_dir / "mlflow.db")
    provider = make_provider(project)
    yield provider
    provider.close()


def spec(kind: str, name: str, **fields: object) -> dict:
    """What the engine hands a handler (as mlops_decl.resolve.attributes_of does): the kind's
    resolved fields as JSON without meta-arguments or unset provider blocks, plus the address
    name under `_name`."""
    from mlops_decl.kinds import KINDS, META_ARGUMENTS, PROVIDER_BLOCKS

    desired = KINDS[kind].model_validate(fields).model_dump(mode="json", exclude=set(META_ARGUMENTS))
    for block in PROVIDER_BLOCKS:
        if block != "local" or desired.get(block) is None:
            desired.pop(block, None)
    desired["_name"] = name
    return desired


@pytest.fixture(name="spec")
def spec_fixture():  # noqa: ANN201 - a fixture handing out the helper
    return spec


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(name="write_csv")
def write_csv_fixture():  # noqa: ANN201
    return write_csv


def register_version(provider, name, project) -> int:
    """A model version without training: an MLflow run and an artifact folder."""
    client = provider.env.registry.client()
    exp = provider.env.registry.experiment_id("tests")
    run = client.create_run(exp)
    source = project / "artifacts" / run.info.run_id
    source.mkdir(parents=True)
    mv = client.create_model_version(name, source=source.as_uri(), run_id=run.info.run_id)
    client.set_terminated(run.info.run_id)
    return int(mv.version)


@pytest.fixture(name="register_version")
def register_version_fixture():  # noqa: ANN201
    return register_version


@pytest.fixture(name="make_provider")
def make_provider_fixture():  # noqa: ANN201
    return make_provider
