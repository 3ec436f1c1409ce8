"""The local MLflow registry: tracking and registry on SQLite under the provider's data dir.

Its client is opened (client.open_mlflow) on the first call that needs it: importing mlflow
costs about a second, creating a new database another second or more, so `--help`,
`validate` and plans without models never pay for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from mlops_decl.provider import ProviderError

from ..errors import MISSING, error_code, mlflow_error

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

T = TypeVar("T")


class Registry:
    """One MlflowClient per provider, created on first use under a lock.

    Calls are serialised too: SQLite takes one writer at a time anyway, and MLflow's SQLite
    store answers "database is locked" rather than waiting when threads race.
    """

    def __init__(self, data_dir: Path, open: Callable[[Path, Path, Path], MlflowClient]):
        self.data_dir = data_dir
        self._open = open  # client.open_mlflow
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
                self._client = self._open(self.data_dir, self.db_path, self.artifacts)
            return self._client

    def call(self, what: str, fn: Callable[[MlflowClient], T]) -> T:
        """Run fn(client); turn MLflow's errors into ProviderError naming `what`."""
        client = self.client()
        with self._lock:
            try:
                return fn(client)
            except ProviderError:
                raise
            except Exception as exc:
                raise mlflow_error(what, exc) from exc

    def find(self, what: str, fn: Callable[[MlflowClient], T]) -> T | None:
        """Like call, but RESOURCE_DOES_NOT_EXIST answers None."""
        try:
            return self.call(what, fn)
        except ProviderError as exc:
            if error_code(exc.__cause__) == MISSING:
                return None
            raise

    def experiment_id(self, name: str) -> str:
        """The id of an experiment whose artifacts live under our data dir (for training runs)."""

        def get_or_create(c: MlflowClient) -> str:
            exp = c.get_experiment_by_name(name)
            if exp is not None:
                return str(exp.experiment_id)
            return str(c.create_experiment(name, artifact_location=(self.artifacts / name).as_uri()))

        return self.call(f"experiment {name}", get_or_create)
