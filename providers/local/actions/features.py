"""The feature group actions on the local provider: `materialize` (the offline and online
tables rewritten from the source) and `online` (the online row of one entity key).

Both stores are tables in the provider's DuckDB file (stores/feature_store.py); the frames come
from stores/feature_data.py. pandas is imported inside functions.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.actions.results import Materialized, OnlineRow
from mlops_decl.provider import Attributes, RuntimeContext

from ..client import LocalEnv
from ..errors import hinted
from ..stores.feature_data import dataset_version, group_frame, online_table
from ..stores.feature_store import quote


def materialize(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None = None) -> Materialized:
    """Rewrite the group's offline table from its source and, for an online group, the online
    table: the latest row per entity key (ties on event time: the later row in the file)."""
    version = dataset_version(env, str(attrs["source"]))
    frame = group_frame(env, attrs)
    frame["__row__"] = range(len(frame))  # file order, the tie-breaker
    env.store.write_frame(id, frame.drop(columns="__row__"))
    online_rows = 0
    if attrs.get("online"):
        env.store.write_frame(online_table(id), latest_rows(frame, attrs))
        online_rows = int(env.store._run(f"SELECT count(*) FROM {quote(online_table(id))}")[0][0])
    else:
        env.store.drop_table(online_table(id))
    if rt is not None:
        rt.emit(f"materialised feature_group.{id}: {len(frame):,} rows offline, {online_rows:,} online")
    return Materialized(offline_rows=len(frame), online_rows=online_rows, source_version=version)


def latest_rows(frame: Any, attrs: Attributes) -> Any:
    """The latest row per entity key by event time (file order without one)."""
    order = [attrs["event_time"], "__row__"] if attrs.get("event_time") else ["__row__"]
    latest = frame.sort_values(order, kind="stable").drop_duplicates(list(attrs["entity"]), keep="last")
    return latest.sort_values("__row__").drop(columns="__row__")


def online(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, entity: str) -> OnlineRow:
    """The online row for one entity key (comma-joined values when the key has several
    columns); ProviderError when the store has none."""
    if not attrs.get("online"):
        raise hinted(
            f"feature_group.{id} has no online store (online: false)",
            "set `online: true` on the feature group and apply",
        )
    keys = list(attrs["entity"])
    values = [v.strip() for v in str(entity).split(",")] if len(keys) > 1 else [str(entity).strip()]
    if len(values) != len(keys):
        raise hinted(
            f"feature_group.{id} has {len(keys)} entity columns ({', '.join(keys)}); got {len(values)} value(s)",
            f"pass --entity {','.join(keys).upper()} with one value per column, comma-joined",
        )
    table = online_table(id)
    if not env.store.has_table(table):  # dropped behind our back: rebuild from the source
        materialize(env, id, attrs, rt)
    # Compare as text: the key arrives as text, the column may be an int; 42 and 42.0 alike.
    where = " AND ".join(
        f"(CAST({quote(k)} AS VARCHAR) = ? OR TRY_CAST({quote(k)} AS DOUBLE) = TRY_CAST(? AS DOUBLE))"
        for k in keys
    )
    params = [v for v in values for _ in (0, 1)]
    frame = env.store.query_frame(f"SELECT * FROM {quote(table)} WHERE {where} LIMIT 1", params)
    if frame.empty:
        shown = ", ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
        raise hinted(
            f"no online row for {shown} in feature_group.{id}",
            "check the key; the online store holds the latest row per entity of the source "
            "dataset as of the last apply",
        )
    row = frame.iloc[0].to_dict()
    event_time = attrs.get("event_time")
    return OnlineRow(
        entity={k: plain(row[k]) for k in keys},
        features={f["name"]: plain(row[f["name"]]) for f in attrs["features"] if f["name"] not in keys},
        event_time=plain(row[event_time]) if event_time else None,
    )


def plain(value: Any) -> Any:
    """A JSON-able scalar: numpy to Python, NaN/NA to None, times to ISO 8601."""
    import pandas as pd

    if value is None or (not isinstance(value, (list, dict)) and bool(pd.isna(value))):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value if isinstance(value, (int, float, str, bool)) else str(value)
