"""The local provider's client: the only place its library sessions are opened. Here the
"SDK" is SQLite (the catalog), MLflow (tracking and registry on SQLite), DuckDB (the feature
and capture stores) and the data files; `LocalEnv` holds them for one provider instance.

Every session is opened on first use, under its store's lock, so `--help`, `validate` and
plans that need no store never touch disk or import mlflow or duckdb. Nothing here changes
the process: no global MLflow URI, umask, environment variable or logger level.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.provider import ProviderContext, ProviderError

from .stores.catalog import Catalog
from .stores.feature_store import FeatureStore
from .stores.files import FileInspector
from .stores.registry import Registry
from .support.privacy import owner_only, private_file, tighten_at_exit
from .support.quiet import mlflow_quiet

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

# Opening a store runs MLflow's schema migrations, and alembic keeps its migration context in
# module globals: two providers (two data dirs) opening at once in one process break each other.
_OPENING = threading.Lock()


class LocalEnv:
    """The provider's shared state: paths, settings, and lazily opened stores. Shared by all
    handlers and threads; every store guards itself with its own lock."""

    def __init__(self, ctx: ProviderContext, delay_ms: int = 0):
        self.ctx = ctx
        self.delay = delay_ms / 1000.0
        # Each of these opens its file on first use only, under its own lock.
        self.catalog = Catalog(ctx.data_dir / "catalog.db", lambda path: open_sqlite(path, self.make_private))
        self.inspector = FileInspector(self.catalog)
        self.registry = Registry(ctx.data_dir, open_mlflow)
        self.store = FeatureStore(ctx.data_dir / "features.duckdb", open_duckdb)
        self._private = False
        if ctx.data_dir.is_dir():  # an existing project: tighten what an older version made
            self.make_private()

    def make_private(self) -> None:
        """Create the data directory (and .mlops/) owner-only, whatever the umask: the
        catalog, registry and stores below it hold resolved attributes, sensitive ones too.
        Called before the first write; chmod because mkdir's mode is filtered by the umask."""
        if self._private:
            return
        for d in (self.ctx.data_dir.parent, self.ctx.data_dir):
            d.mkdir(mode=0o700, exist_ok=True)
            os.chmod(d, 0o700)
        self._private = True
        tighten_at_exit(self.ctx.data_dir)

    def tighten(self) -> None:
        """Make owner-only what the libraries just created below the data directory. SQLite,
        DuckDB, MLflow and numpy create files through the umask, and the process's umask is
        not a provider's to change: so every call that writes ends here, and a process killed
        after it leaves nothing others can read. The SQLite files are created owner-only."""
        if self._private:
            owner_only(self.ctx.data_dir)

    @property
    def project_dir(self) -> Path:
        return self.ctx.project_dir

    @property
    def data_dir(self) -> Path:
        return self.ctx.data_dir

    def pause(self) -> None:
        """The configured latency (`delay_ms`), for benchmarking refresh against slow APIs."""
        if self.delay > 0:
            time.sleep(self.delay)

    def close(self) -> None:
        self.inspector.flush()
        self.catalog.close()
        self.store.close()
        if self._private:
            owner_only(self.ctx.data_dir)


def open_sqlite(path: Path, prepare: Any = None) -> sqlite3.Connection:
    """A SQLite database of the provider's, created owner-only (its journals follow), in WAL
    mode so a reader in another process (`serve` beside `apply`) does not block the writer;
    busy_timeout waits out another process's write."""
    if prepare is not None:
        prepare()  # the data directory, owner-only, before the file is created
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def open_sqlite_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection, for watching a database another process writes (the server
    watching the registry); fails if the file does not exist."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def open_duckdb(path: Path) -> Any:
    """A DuckDB connection to `path`. DuckDB lets one process at a time hold a file read-write:
    another process holding it raises duckdb.IOException ("... lock ...")."""
    try:
        import duckdb  # lazy: only feature groups and captures need it
    except ImportError as exc:
        raise ProviderError(f"the local provider needs duckdb: {exc} (pip install duckdb)") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path))


def open_scratch_duckdb() -> Any:
    """An in-memory DuckDB connection (reading files in place: a dataset's rows at plan)."""
    try:
        import duckdb
    except ImportError as exc:
        raise ProviderError(f"the local provider needs duckdb: {exc} (pip install duckdb)") from exc
    return duckdb.connect()


def open_mlflow(data_dir: Path, db_path: Path, artifacts: Path) -> MlflowClient:
    """An MlflowClient on the SQLite database `db_path`, its artifacts under `artifacts`,
    both URIs its own (never the process-wide ones). A new database is made first."""
    with _OPENING:
        try:
            from mlflow.tracking import MlflowClient

            data_dir.mkdir(parents=True, exist_ok=True)
            if not db_path.exists():
                # Create the schema ourselves so the default experiment keeps its artifacts
                # under our data dir; MlflowClient alone would pick ./mlruns in the cwd. The
                # migrations log "Creating initial MLflow database tables..." at INFO.
                with mlflow_quiet(below=logging.WARNING):
                    _create_mlflow_database(data_dir, db_path, artifacts)
            uri = f"sqlite:///{db_path}"
            return MlflowClient(tracking_uri=uri, registry_uri=uri)
        except ImportError as exc:
            raise ProviderError(f"the local provider needs mlflow: {exc} (pip install mlflow)") from exc
        except Exception as exc:
            raise ProviderError(f"cannot open the local MLflow registry {db_path}: {exc}") from exc


def _create_mlflow_database(data_dir: Path, db_path: Path, artifacts: Path) -> None:
    """MLflow's migrations under a temporary name, then linked into place: a process killed
    half-way through them must not leave a half-made database that every later open refuses
    ("index ... already exists"). link() fails if another process got there first; its
    database is as good as ours."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from mlops_decl.state.fsutil import pid_alive

    prefix = f".{db_path.name}."
    for left in data_dir.glob(prefix + "*.tmp*"):  # of killed processes, with journals
        pid = left.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            left.unlink(missing_ok=True)
    tmp = db_path.with_name(f"{prefix}{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    private_file(tmp)  # owner-only from the start; the link keeps the mode
    try:
        store = SqlAlchemyStore(f"sqlite:///{tmp}", artifacts.as_uri())
        store.engine.dispose()
        with contextlib.suppress(FileExistsError):
            os.link(tmp, db_path)
    finally:
        for left in (tmp, tmp.with_name(tmp.name + "-journal")):
            left.unlink(missing_ok=True)
