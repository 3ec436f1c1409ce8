"""Captured rows on their way to the capture store, kept as columns.

A serving process must spend next to nothing on capture, or scoring slows with it: turning
each row into JSON and inserting it into DuckDB took a quarter of a core at 65,000 rows a
second. So the server's writer only appends each gathered batch as a Parquet file (columns as
scored, no per-row work) under `.mlops/local/capture_segments/`, and the rows become JSON
lines of the `captures` table when someone reads them (`ingest`, under the store's lock, in
the reading process: `monitor check`, not `serve`). A segment is written under a temporary
name and renamed, so a reader sees it whole or not at all; its name is recorded in the same
transaction as its rows, so a reader that dies between the commit and the unlink does not
ingest it twice.
"""

from __future__ import annotations

import os
import time
import uuid
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..client import LocalEnv
    from .capture import Batch

DIR = "capture_segments"
_META = ("__endpoint", "__version", "__ts")


def append(env: LocalEnv, batches: list[Batch]) -> list[Batch]:
    """Write the batches as segments, one per shape of output (with scores or without); the
    batches whose values cannot be columns (mixed objects) are returned for the store's own
    JSON path."""
    left: list[Batch] = []
    for group in (
        [b for b in batches if b.rows and b.scores is not None],
        [b for b in batches if b.rows and b.scores is None],
    ):
        if group and not _write(env, group):
            left.extend(group)
    return left


def _write(env: LocalEnv, batches: list[Batch]) -> bool:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .capture import _finite

    frames = [b.inputs for b in batches]  # their indexes do not matter: not written
    inputs = _finite(frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))
    if not all(isinstance(c, str) and not c.startswith("__") for c in inputs.columns):
        return False
    sizes = [b.rows for b in batches]
    endpoints = sorted({b.endpoint for b in batches})
    which = np.repeat(np.array([endpoints.index(b.endpoint) for b in batches], dtype=np.int32), sizes)
    try:
        table = pa.Table.from_pandas(inputs, preserve_index=False)
        extra = {
            "__endpoint": pa.DictionaryArray.from_arrays(pa.array(which), pa.array(endpoints)),
            "__version": pa.array(np.repeat(np.array([b.version for b in batches], dtype=np.int32), sizes)),
            "__ts": pa.array(np.repeat(np.array([b.ts for b in batches], dtype="datetime64[us]"), sizes)),
            "__prediction": _column([b.predictions for b in batches]),
        }
        if batches[0].scores is not None:
            scores = np.concatenate([np.asarray(b.scores, dtype=float) for b in batches])
            extra["__score"] = pa.array(np.where(np.isinf(scores), np.nan, scores), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return False
    for name, column in extra.items():
        table = table.append_column(name, column)
    folder = env.data_dir / DIR
    env.make_private()
    folder.mkdir(mode=0o700, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = folder / f".{name}.tmp"
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:  # owner-only
        # Cheap to write: the segment lives until the next read. LZ4 (faster than no compression:
        # fewer bytes to copy), no statistics (nothing filters segments), dictionaries for
        # strings only (few distinct values; numbers rarely repeat).
        strings = [
            f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        pq.write_table(table, fh, compression="lz4", use_dictionary=strings, write_statistics=False)
    os.replace(tmp, folder / name)
    return True


def _column(parts: list[Any]) -> Any:
    """One Arrow column of the batches' values: arrays concatenated as they are (no Python
    objects), lists converted. Arrays of different kinds go as lists: numpy would turn numbers
    and strings into strings, where pyarrow refuses them (they go to the JSON path)."""
    import numpy as np
    import pyarrow as pa

    arrays = all(isinstance(p, np.ndarray) and p.ndim == 1 and p.dtype != object for p in parts)
    if arrays and len({p.dtype.kind for p in parts}) == 1:
        return pa.array(parts[0] if len(parts) == 1 else np.concatenate(parts), from_pandas=True)
    return pa.array(list(chain.from_iterable(parts)), from_pandas=True)


def pending(env: LocalEnv) -> list[Path]:
    folder = env.data_dir / DIR
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def ingest(conn: Any, env: LocalEnv) -> None:
    """Move every complete segment into the `captures` table, oldest first (called under the
    capture store's lock, with the table created)."""
    files = pending(env)
    if not files:
        return
    conn.execute("CREATE TABLE IF NOT EXISTS capture_segments (name VARCHAR PRIMARY KEY)")
    done = {name for (name,) in conn.execute("SELECT name FROM capture_segments").fetchall()}
    for path in files:
        if path.name not in done:
            columns = [
                row[0]
                for row in conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            ]
            conn.execute("BEGIN")
            conn.execute(_insert_sql(columns), [str(path)])
            conn.execute("INSERT INTO capture_segments VALUES (?)", [path.name])
            conn.execute("COMMIT")
        path.unlink(missing_ok=True)


def _insert_sql(columns: list[str]) -> str:
    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    inputs = [c for c in columns if not c.startswith("__")]
    packed = ", ".join(f"{q(c)} := {q(c)}" for c in inputs)
    outputs = "prediction := __prediction" + (", score := __score" if "__score" in columns else "")
    row = f"to_json(struct_pack({packed}))" if inputs else "'{}'::JSON"
    return (
        f"INSERT INTO captures SELECT CAST(__endpoint AS VARCHAR), __version, __ts, {row}, "
        f"to_json(struct_pack({outputs})) FROM read_parquet(?)"
    )
