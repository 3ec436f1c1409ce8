"""The capture store: every row an endpoint scores, with its output, version and time, so
monitors can check live traffic for drift.

DuckDB at `.mlops/local/capture.duckdb`, table `captures(endpoint, version, ts, inputs JSON,
output JSON)`. A connection is opened per write and closed at once: DuckDB lets one process
hold the file, and `monitor check` reads it from another process while `serve` writes. The
server captures through a `Writer` (capture_writer.py), which batches rows off the request path
and appends them as columns (capture_segments.py); a read moves those into the table first.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from mlops_decl.provider import ProviderError

from ..client import LocalEnv, open_duckdb
from .capture_segments import ingest, pending

T = TypeVar("T")

FILE = "capture.duckdb"
_lock = threading.Lock()  # one writer per process; other processes are waited out below
_BUSY_SECONDS = 5.0  # how long to wait for another process holding the file


def _with_store(env: LocalEnv, fn: Callable[[Any], T], *, create: bool) -> T:
    """Run fn(connection) under the process lock, waiting out another process's lock."""
    import duckdb

    path = env.data_dir / FILE
    deadline = time.monotonic() + _BUSY_SECONDS
    delay = 0.01
    with _lock:
        while True:
            try:
                conn = open_duckdb(path)
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


@dataclass
class Batch:
    """One scored request: its input rows (a DataFrame as sent) and an output per row."""

    endpoint: str
    version: int
    inputs: Any  # pandas.DataFrame
    predictions: Any  # a value per row: a 1-D numpy array, or a list
    scores: Any = None  # float64 array (or list) of a binary classifier's positive class
    ts: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None))

    @property
    def rows(self) -> int:
        return len(self.inputs)


def _json_lines(frame: Any) -> list[str]:
    """A JSON object per row (pandas, in C): NaN and infinities are null, times ISO strings."""
    if frame.empty:
        return ["{}"] * len(frame)
    text = frame.to_json(
        orient="records", lines=True, date_format="iso", double_precision=15, default_handler=str
    )
    return text.split("\n")[: len(frame)]  # strings' own newlines are escaped in JSON


def _finite(frame: Any) -> Any:
    """Infinities as missing (null in JSON; DuckDB would write `Infinity`, which is not JSON)."""
    import numpy as np

    floats = [c for c in frame.columns if frame[c].dtype.kind == "f"]
    if not floats or not np.isinf(frame[floats].to_numpy()).any():
        return frame
    return frame.assign(**{str(c): frame[c].replace([np.inf, -np.inf], np.nan) for c in floats})


def _typed(frame: Any) -> bool:
    """Whether DuckDB reads every column with its values' own type: an object column of mixed
    values it would turn into strings (1 -> "1")."""
    import pandas as pd

    return all(
        frame[c].dtype != object or pd.api.types.infer_dtype(frame[c], skipna=True) in _ONE_TYPE
        for c in frame.columns
    )


_ONE_TYPE = ("string", "empty", "integer", "floating", "boolean")


def _insert(conn: Any, batches: list[Batch]) -> None:
    """One INSERT for batches alike in having scores or not. DuckDB turns each row into JSON
    (to_json of the row) in C++ without the GIL, so serving threads keep the interpreter;
    values it cannot convert (mixed objects) go through pandas' JSON instead."""
    import duckdb
    import numpy as np
    import pandas as pd

    sizes = [b.rows for b in batches]
    frames = [b.inputs.reset_index(drop=True) for b in batches]
    inputs = _finite(frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))
    outputs = pd.DataFrame({"prediction": pd.Series([p for b in batches for p in b.predictions])})
    if batches[0].scores is not None:
        outputs["score"] = np.concatenate([np.asarray(b.scores, dtype=float) for b in batches])
    meta = pd.DataFrame(
        {
            "endpoint": np.repeat([b.endpoint for b in batches], sizes),
            "version": np.repeat([int(b.version) for b in batches], sizes),
            "ts": np.repeat(np.array([b.ts for b in batches], dtype="datetime64[us]"), sizes),
        }
    )
    conn.register("capture_meta", meta)
    try:
        if not (_typed(inputs) and _typed(outputs)):
            raise duckdb.ConversionException("mixed values")
        conn.register("capture_in", inputs)
        conn.register("capture_out", _finite(outputs))
        conn.execute(
            "INSERT INTO captures SELECT m.endpoint, m.version, m.ts, to_json(i), to_json(o) "
            "FROM capture_meta m POSITIONAL JOIN capture_in i POSITIONAL JOIN capture_out o"
        )
    except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.NotImplementedException):
        lines = meta.assign(inputs=_json_lines(inputs), output=_json_lines(outputs))
        conn.register("capture_lines", lines)
        conn.execute(
            "INSERT INTO captures SELECT endpoint, version, ts, CAST(inputs AS JSON), "
            "CAST(output AS JSON) FROM capture_lines"
        )


def write(env: LocalEnv, batches: list[Batch]) -> None:
    """Append the batches' rows in one transaction (ts in UTC, naive)."""
    groups = [
        group
        for group in (
            [b for b in batches if b.rows and b.scores is not None],  # {"prediction", "score"}
            [b for b in batches if b.rows and b.scores is None],  # {"prediction"}
        )
        if group
    ]

    def insert(conn: Any) -> None:
        conn.execute("BEGIN")
        for group in groups:
            _insert(conn, group)
        conn.execute("COMMIT")

    if groups:
        _with_store(env, insert, create=True)


def read(
    env: LocalEnv, endpoint_id: str, since: datetime | None = None, version: int | None = None
) -> list[tuple[int, datetime, dict[str, Any], Any]]:
    """(version, ts, inputs, output) of an endpoint's captures, oldest first."""
    if not (env.data_dir / FILE).exists() and not pending(env):
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

    def query(conn: Any) -> list[Any]:
        ingest(conn, env)  # what a server appended since, as segments
        return list(conn.execute(sql, params).fetchall())

    rows = _with_store(env, query, create=True)
    return [(int(v), ts, json.loads(i), json.loads(o)) for v, ts, i, o in rows]


def read_inputs(
    env: LocalEnv, endpoint_id: str, since: datetime | None = None, version: int | None = None
) -> Any:
    """The captured input rows of an endpoint as a DataFrame (columns from the JSON keys)."""
    import pandas as pd

    return pd.DataFrame.from_records([inputs for _, _, inputs, _ in read(env, endpoint_id, since, version)])
