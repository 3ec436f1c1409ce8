"""The local catalog: a SQLite table of objects keyed (kind, id) -> attributes.

It is the live system for kinds that have no other home (datasets, feature group definitions,
pipelines, policies, endpoints, monitors). Deleting a row behind our back makes the object
gone, so the engine plans to create it again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_decl.provider import ProviderError

from ..errors import sqlite_error

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created    TEXT NOT NULL,
    updated    TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID
"""

# What the inspector learnt of each data file, by the stat signature it had (git's index):
# a no-op plan then costs a stat per dataset instead of reading and hashing every file.
_FACTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_facts (
    path      TEXT NOT NULL,
    format    TEXT NOT NULL,
    signature TEXT NOT NULL,
    version   TEXT NOT NULL,
    rows      INTEGER NOT NULL,
    columns   TEXT NOT NULL,
    PRIMARY KEY (path, format)
) WITHOUT ROWID
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Catalog:
    """Thread-safe: one connection, one lock. Every statement is sub-millisecond, so
    serialising them costs less than per-thread connections fighting over SQLite's write
    lock; busy_timeout covers other processes (a `serve` next to an `apply`)."""

    def __init__(self, path: Path, open: Callable[[Path], sqlite3.Connection]):
        self.path = path
        self._open = open  # client.open_sqlite: the directory owner-only, then the file
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._found: bool | None = None  # exists(): checked once, then known

    def _connect(self) -> sqlite3.Connection:
        # Called with the lock held. Opened lazily: `validate` and `--help` never touch disk.
        if self._conn is None:
            try:
                conn = self._open(self.path)
                conn.execute(_SCHEMA)
                conn.execute(_FACTS_SCHEMA)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            except (OSError, sqlite3.Error) as exc:
                raise ProviderError(f"cannot open the local catalog {self.path}: {exc}") from exc
            self._conn = conn
        return self._conn

    def _run(self, sql: str, params: tuple[Any, ...]) -> tuple[list[tuple[Any, ...]], int]:
        """Rows and rowcount of one statement (autocommit)."""
        with self._lock:
            conn = self._connect()
            try:
                cur = conn.execute(sql, params)
                return cur.fetchall(), cur.rowcount
            except sqlite3.Error as exc:
                raise sqlite_error(self.path, exc) from exc

    def get(self, kind: str, id: str) -> dict[str, Any] | None:
        rows, _ = self._run("SELECT attributes FROM objects WHERE kind = ? AND id = ?", (kind, id))
        if not rows:
            return None
        attrs: dict[str, Any] = json.loads(rows[0][0])
        return attrs

    def get_many(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The rows among `ids` that exist, in one query per 500 ids."""
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows, _ = self._run(
                f"SELECT id, attributes FROM objects WHERE kind = ? AND id IN ({marks})", (kind, *chunk)
            )
            out.update((r[0], json.loads(r[1])) for r in rows)
        return out

    def put(self, kind: str, id: str, attributes: dict[str, Any]) -> None:
        """Insert or replace; `created` survives replacement."""
        now = _now()
        self._run(
            "INSERT INTO objects (kind, id, attributes, created, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET attributes = excluded.attributes, updated = excluded.updated",
            (kind, id, json.dumps(attributes, sort_keys=True), now, now),
        )

    def delete(self, kind: str, id: str) -> bool:
        """True when a row was removed."""
        _, count = self._run("DELETE FROM objects WHERE kind = ? AND id = ?", (kind, id))
        return count > 0

    def ids(self, kind: str) -> list[str]:
        rows, _ = self._run("SELECT id FROM objects WHERE kind = ? ORDER BY id", (kind,))
        return [r[0] for r in rows]

    def times(self, kind: str, id: str) -> tuple[str, str] | None:
        """(created, updated) as ISO-8601 UTC strings, for lineage and audit."""
        rows, _ = self._run("SELECT created, updated FROM objects WHERE kind = ? AND id = ?", (kind, id))
        return (rows[0][0], rows[0][1]) if rows else None

    def exists(self) -> bool:
        """Whether the catalog has been created (by an apply); reading it must not create it.
        Only this process's first write creates it, so a "no" is remembered until then."""
        if self._conn is not None:
            return True
        if self._found is None:
            self._found = self.path.exists()
        return self._found

    def file_facts(self) -> list[tuple[str, str, str, str, int, str]]:
        """Every cached (path, format, signature, version, rows, columns JSON)."""
        if not self.exists():
            return []
        rows, _ = self._run("SELECT path, format, signature, version, rows, columns FROM file_facts", ())
        return [tuple(r) for r in rows]

    def put_file_facts(self, row: tuple[str, str, str, str, int, str]) -> None:
        self._run("INSERT OR REPLACE INTO file_facts VALUES (?, ?, ?, ?, ?, ?)", row)

    def close(self) -> None:
        with self._lock:
            self._found = None
            if self._conn is not None:
                self._conn.close()
                self._conn = None
