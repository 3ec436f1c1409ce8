"""The capture store: every row an endpoint scores, with its output, version and time, so
monitors can check live traffic for drift.

DuckDB at `.mlops/local/capture.duckdb`, table `captures(endpoint, version, ts, inputs JSON,
output JSON)`. A connection is opened per write and closed at once: DuckDB lets one process
hold the file, and `monitor check` reads it from another process while `serve` writes.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any, TypeVar

from mlops_decl.provider import ProviderError

from .base import LocalEnv

T = TypeVar("T")

FILE = "capture.duckdb"
_lock = threading.Lock()  # one writer per process; other processes are waited out below
_BUSY_SECONDS = 5.0  # how long to wait for another process holding the file


def _jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities are null (DuckDB's JSON rejects neither, but every
    other reader does), numpy scalars are Python numbers, times are ISO strings."""
    if isinstance(value, (datetime, date)):  # pd.Timestamp too; NaT is not equal to itself
        return value.isoformat() if value == value else None
    if type(value).__name__ == "datetime64":  # .item() would give nanoseconds as an int
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:  # pandas NA/NaT
        import pandas as pd

        if pd.isna(value):
            return None
    except (ImportError, TypeError, ValueError):
        pass
    return str(value)


def _with_store(env: LocalEnv, fn: Callable[[Any], T], *, create: bool) -> T:
    """Run fn(connection) under the process lock, waiting out another process's lock."""
    import duckdb

    path = env.data_dir / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + _BUSY_SECONDS
    delay = 0.01
    with _lock:
        while True:
            try:
                conn = duckdb.connect(str(path))
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise ProviderError(f"capture store {path}: {exc}", retryable=True) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        try:
            if create:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS captures (endpoint VARCHAR, version INTEGER, "
                    "ts TIMESTAMP, inputs JSON, output JSON)"
                )
            return fn(conn)
        finally:
            conn.close()


def record(
    env: LocalEnv, endpoint: str, version: int, rows: list[dict[str, Any]], outputs: list[Any]
) -> None:
    """Append one capture row per scored row (ts in UTC, naive)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    data = [
        (endpoint, int(version), now, json.dumps(_jsonable(r)), json.dumps(_jsonable(o)))
        for r, o in zip(rows, outputs, strict=True)
    ]
    _with_store(
        env, lambda c: c.executemany("INSERT INTO captures VALUES (?, ?, ?, ?, ?)", data), create=True
    )


def read(
    env: LocalEnv, endpoint_id: str, since: datetime | None = None, version: int | None = None
) -> list[tuple[int, datetime, dict[str, Any], Any]]:
    """(version, ts, inputs, output) of an endpoint's captures, oldest first."""
    if not (env.data_dir / FILE).exists():
        return []
    sql = "SELECT version, ts, inputs, output FROM captures WHERE endpoint = ?"
    params: list[Any] = [endpoint_id]
    if since is not None:
        if since.tzinfo is not None:  # stored naive UTC
            since = since.astimezone(timezone.utc).replace(tzinfo=None)
        sql += " AND ts >= ?"
        params.append(since)
    if version is not None:
        sql += " AND version = ?"
        params.append(int(version))
    sql += " ORDER BY ts"
    rows = _with_store(env, lambda c: c.execute(sql, params).fetchall(), create=True)
    return [(int(v), ts, json.loads(i), json.loads(o)) for v, ts, i, o in rows]


def read_inputs(
    env: LocalEnv, endpoint_id: str, since: datetime | None = None, version: int | None = None
) -> Any:
    """The captured input rows of an endpoint as a DataFrame (columns from the JSON keys)."""
    import pandas as pd

    return pd.DataFrame.from_records([inputs for _, _, inputs, _ in read(env, endpoint_id, since, version)])
