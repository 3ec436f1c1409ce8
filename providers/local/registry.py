"""The local MLflow registry: tracking and registry on SQLite under the provider's data dir.

mlflow is imported here lazily, on the first call that needs it (importing it costs about a
second, creating a new database another second or more), so `--help`, `validate` and plans
without models never pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from mlops_decl.provider import ProviderError

from .privacy import private_file
from .quiet import mlflow_quiet

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

T = TypeVar("T")

# Opening a store runs MLflow's schema migrations, and alembic keeps its migration context in
# module globals: two providers (two data dirs) opening at once in one process break each other.
_OPENING = threading.Lock()

MISSING = "RESOURCE_DOES_NOT_EXIST"
EXISTS = "RESOURCE_ALREADY_EXISTS"


def error_code(exc: BaseException) -> str | None:
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else None


class Registry:
    """One MlflowClient per provider, created on first use under a lock.

    Calls are serialised too: SQLite takes one writer at a time anyway, and MLflow's SQLite
    store answers "database is locked" rather than waiting when threads race.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.db_path = data_dir / "mlflow.db"
        self.artifacts = data_dir / "mlartifacts"
        self.uri = f"sqlite:///{self.db_path}"
        self._lock = threading.RLock()
        self._client: MlflowClient | None = None

    def exists(self) -> bool:
        """Whether the registry database exists: when not, no model can, and asking costs a
        migration."""
        return self.db_path.exists()

    def client(self) -> MlflowClient:
        with self._lock:
            if self._client is None:
                with _OPENING:
                    self._client = self._open()
            return self._client

    def _open(self) -> MlflowClient:
        try:
            from mlflow.tracking import MlflowClient

            self.data_dir.mkdir(parents=True, exist_ok=True)
            if not self.db_path.exists():
                # Create the schema ourselves so the default experiment keeps its artifacts
                # under our data dir; MlflowClient alone would pick ./mlruns in the cwd. The
                # migrations log "Creating initial MLflow database tables..." at INFO.
                with mlflow_quiet(below=logging.WARNING):
                    self._create_database()
            return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        except ImportError as exc:
            raise ProviderError(f"the local provider needs mlflow: {exc} (pip install mlflow)") from exc
        except Exception as exc:
            raise ProviderError(f"cannot open the local MLflow registry {self.db_path}: {exc}") from exc

    def _create_database(self) -> None:
        """MLflow's migrations under a temporary name, then linked into place: a process
        killed half-way through them must not leave a half-made database that every later
        open refuses ("index ... already exists"). link() fails if another process got there
        first; its database is as good as ours."""
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        from mlops_decl.state.fsutil import pid_alive

        prefix = f".{self.db_path.name}."
        for left in self.data_dir.glob(prefix + "*.tmp*"):  # of killed processes, with journals
            pid = left.name[len(prefix) :].split(".", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                left.unlink(missing_ok=True)
        tmp = self.db_path.with_name(f"{prefix}{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        private_file(tmp)  # owner-only from the start; the link keeps the mode
        try:
            store = SqlAlchemyStore(f"sqlite:///{tmp}", self.artifacts.as_uri())
            store.engine.dispose()
            with contextlib.suppress(FileExistsError):
                os.link(tmp, self.db_path)
        finally:
            for left in (tmp, tmp.with_name(tmp.name + "-journal")):
                left.unlink(missing_ok=True)

    def call(self, what: str, fn: Callable[[MlflowClient], T]) -> T:
        """Run fn(client); turn MLflow's errors into ProviderError naming `what`."""
        client = self.client()
        with self._lock:
            try:
                return fn(client)
            except ProviderError:
                raise
            except Exception as exc:
                raise _provider_error(what, exc) from exc

    def find(self, what: str, fn: Callable[[MlflowClient], T]) -> T | None:
        """Like call, but RESOURCE_DOES_NOT_EXIST answers None."""
        client = self.client()
        with self._lock:
            try:
                return fn(client)
            except ProviderError:
                raise
            except Exception as exc:
                if error_code(exc) == MISSING:
                    return None
                raise _provider_error(what, exc) from exc

    def experiment_id(self, name: str) -> str:
        """The id of an experiment whose artifacts live under our data dir (for training runs)."""

        def get_or_create(c: MlflowClient) -> str:
            exp = c.get_experiment_by_name(name)
            if exp is not None:
                return str(exp.experiment_id)
            return str(c.create_experiment(name, artifact_location=(self.artifacts / name).as_uri()))

        return self.call(f"experiment {name}", get_or_create)


def _provider_error(what: str, exc: Exception) -> ProviderError:
    code = error_code(exc)
    message = getattr(exc, "message", None) or str(exc)
    # Only a locked database (another process writing) is worth retrying.
    locked = "database is locked" in str(exc)
    return ProviderError(f"MLflow {what}: {message}" + (f" ({code})" if code else ""), retryable=locked)
