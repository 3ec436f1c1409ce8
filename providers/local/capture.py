"""The capture store: every row an endpoint scores, with its output, version and time, so
monitors can check live traffic for drift."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any

from .base import LocalEnv

_lock = threading.Lock()


def _connect(env: LocalEnv) -> Any:
    import duckdb

    path = env.data_dir / "capture.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE IF NOT EXISTS captures (endpoint VARCHAR, version INTEGER, ts TIMESTAMP, inputs JSON, output JSON)"
    )
    return conn


def record(
    env: LocalEnv, endpoint: str, version: int, rows: list[dict[str, Any]], outputs: list[Any]
) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    data = [
        (endpoint, int(version), now, json.dumps(r, default=str), json.dumps(o, default=str))
        for r, o in zip(rows, outputs, strict=True)
    ]
    with _lock:
        conn = _connect(env)
        try:
            conn.executemany("INSERT INTO captures VALUES (?, ?, ?, ?, ?)", data)
        finally:
            conn.close()


def read_inputs(env: LocalEnv, endpoint_id: str, since: datetime | None = None) -> Any:
    """The captured input rows of an endpoint as a DataFrame (columns from the JSON keys)."""
    import pandas as pd

    if not (env.data_dir / "capture.duckdb").exists():
        return pd.DataFrame()
    with _lock:
        conn = _connect(env)
        try:
            sql = "SELECT inputs FROM captures WHERE endpoint = ?"
            params: list[Any] = [endpoint_id]
            if since is not None:
                sql += " AND ts >= ?"
                params.append(since)
            rows = [json.loads(r[0]) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()
    return pd.DataFrame.from_records(rows)
