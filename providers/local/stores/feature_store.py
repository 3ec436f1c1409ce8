"""The embedded feature store: one DuckDB file, one table per feature group.

A group's offline table `<group>` and, for `online: true` groups, its online table
`<group>__online` (latest row per entity); feature_data.py fills them and builds training
sets. The connection is client.open_duckdb's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlops_decl.provider import ProviderError

from ..errors import StoreBusy

DUCKDB_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "datetime": "TIMESTAMP",
}


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class FeatureStore:
    """One connection per provider, opened on first use and shared under a lock (connecting
    costs ~15 ms; DuckDB also allows a single read-write process per file)."""

    def __init__(self, path: Path, open: Callable[[Path], Any]):
        self.path = path
        self._open = open  # client.open_duckdb
        self._lock = threading.Lock()
        self._conn: Any = None

    def _connect(self) -> Any:
        if self._conn is None:
            try:
                self._conn = self._open(self.path)
            except ProviderError:
                raise
            except Exception as exc:  # duckdb.IOException when another process holds the file
                raise StoreBusy(f"cannot open the feature store {self.path}: {exc}") from exc
        return self._conn

    def _run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            conn = self._connect()
            try:
                rows: list[tuple[Any, ...]] = conn.execute(sql, params or []).fetchall()
                return rows
            except Exception as exc:
                raise ProviderError(f"feature store {self.path}: {exc}") from exc

    def create_table(self, table: str, columns: list[tuple[str, str]]) -> None:
        """(Re)create `table` with (name, dtype) columns, dtype as in kinds.Feature."""
        cols = ", ".join(f"{quote(name)} {DUCKDB_TYPES[dtype]}" for name, dtype in columns)
        self._run(f"CREATE OR REPLACE TABLE {quote(table)} ({cols})")

    def drop_table(self, table: str) -> None:
        self._run(f"DROP TABLE IF EXISTS {quote(table)}")

    def has_table(self, table: str) -> bool:
        rows = self._run(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
            [table],
        )
        return bool(rows and rows[0][0])

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column, in order."""
        rows = self._run(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [table],
        )
        return [(r[0], r[1]) for r in rows]

    def write_frame(self, table: str, frame: Any) -> None:
        """Replace `table` with a pandas DataFrame's rows."""
        with self._lock:
            conn = self._connect()
            try:
                conn.register("_frame", frame)
                conn.execute(f"CREATE OR REPLACE TABLE {quote(table)} AS SELECT * FROM _frame")
                conn.unregister("_frame")
            except Exception as exc:
                raise ProviderError(f"feature store {self.path}: {exc}") from exc

    def query_frame(self, sql: str, params: list[Any] | None = None) -> Any:
        """A query's result as a pandas DataFrame."""
        with self._lock:
            conn = self._connect()
            try:
                return conn.execute(sql, params or []).df()
            except Exception as exc:
                raise ProviderError(f"feature store {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
