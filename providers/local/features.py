"""Feature groups with data: materialisation into the offline and online stores, online
lookups, and point-in-time correct training sets."""

from __future__ import annotations

from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from .base import LocalEnv
from .files import detect_format, resolve_uri
from .store import quote

PANDAS_DTYPES = {"int": "Int64", "float": "float64", "string": "string", "bool": "boolean"}


def online_table(group: str) -> str:
    return f"{group}__online"


def load_dataset(env: LocalEnv, dataset_id: str) -> Any:
    """A dataset's current file as a DataFrame, found through the catalog."""
    import pandas as pd

    row = env.catalog.get("dataset", dataset_id)
    if row is None:
        raise ProviderError(f"dataset `{dataset_id}` is not in the local catalog", retryable=False)
    path = resolve_uri(str(row.get("path") or row.get("uri")), env.project_dir)
    fmt = detect_format(path, row.get("format"))
    return pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)


def group_frame(env: LocalEnv, attrs: Attributes) -> Any:
    """The group's columns (entity, event time, features) from its source, typed."""
    import pandas as pd

    df = load_dataset(env, str(attrs["source"]))
    entity = list(attrs["entity"])
    event_time = attrs.get("event_time")
    features = [(f["name"], f["dtype"]) for f in attrs["features"]]
    cols = list(dict.fromkeys([*entity, *([event_time] if event_time else []), *[n for n, _ in features]]))
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ProviderError(f"columns {missing} are not in dataset `{attrs['source']}`")
    out = df[cols].copy()
    for name, dtype in features:
        if dtype == "datetime":
            out[name] = pd.to_datetime(out[name])
        else:
            out[name] = out[name].astype(PANDAS_DTYPES[dtype])
    if event_time:
        out[event_time] = pd.to_datetime(out[event_time])
    return out


def materialize(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None = None
) -> dict[str, Any]:
    frame = group_frame(env, attrs)
    env.store.write_frame(id, frame)
    entity = ", ".join(quote(c) for c in attrs["entity"])
    order = quote(attrs["event_time"]) if attrs.get("event_time") else "1"
    # online: the latest row per entity key
    env.store._run(
        f"CREATE OR REPLACE TABLE {quote(online_table(id))} AS SELECT * FROM {quote(id)} "
        f"QUALIFY row_number() OVER (PARTITION BY {entity} ORDER BY {order} DESC) = 1"
    )
    online_rows = env.store._run(f"SELECT count(*) FROM {quote(online_table(id))}")[0][0]
    return {
        "offline_rows": len(frame),
        "online_rows": int(online_rows),
        "source_version": attrs.get("source_version"),
    }


def online(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, entity: str) -> dict[str, Any]:
    keys = list(attrs["entity"])
    values = [v.strip() for v in str(entity).split(",")]
    if len(values) != len(keys):
        raise ProviderError(
            f"feature_group.{id} has {len(keys)} entity column(s) ({', '.join(keys)}); got {len(values)} value(s)"
        )
    table = online_table(id)
    if not env.store.has_table(table):
        materialize(env, id, attrs)
    where = " AND ".join(f"CAST({quote(k)} AS VARCHAR) = ?" for k in keys)
    frame = env.store.query_frame(f"SELECT * FROM {quote(table)} WHERE {where}", values)
    if frame.empty:
        shown = ", ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
        err = ProviderError(f"no online row for {shown} in feature_group.{id}")
        err.hint = "check the key; the online store holds the latest row per entity from the source dataset"  # type: ignore[attr-defined]
        raise err
    row = frame.iloc[0].to_dict()
    event_time = attrs.get("event_time")
    return {
        "entity": {k: _plain(row[k]) for k in keys},
        "features": {f["name"]: _plain(row[f["name"]]) for f in attrs["features"] if f["name"] not in keys},
        "event_time": str(row[event_time]) if event_time else None,
    }


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def training_set(env: LocalEnv, pipeline: Attributes) -> tuple[Any, list[str]]:
    """(spine with every input's features joined as of each label's time, feature columns).

    The spine is the `labels` dataset when given, else the source of the first input. For
    each spine row a feature value comes from the latest feature row of the same entity whose
    event time is at or before the spine row's: nothing from after the label leaks in.
    """
    import pandas as pd

    groups = []
    for fg_id in pipeline["inputs"]:
        fg = env.catalog.get("feature_group", str(fg_id))
        if fg is None:
            raise ProviderError(f"input feature group `{fg_id}` is not applied; run `mlops-decl apply`")
        groups.append((str(fg_id), fg))
    first = groups[0][1]
    spine_source = pipeline.get("labels") or first["source"]
    spine = load_dataset(env, str(spine_source))
    label = pipeline["label"]
    entity = list(first["entity"])
    event_time = first.get("event_time")
    needed = [*entity, *([event_time] if event_time else []), label]
    missing = [c for c in needed if c not in spine.columns]
    if missing:
        raise ProviderError(f"the label spine (dataset `{spine_source}`) has no column(s) {missing}")
    spine = spine[needed].copy()
    if event_time:
        spine[event_time] = pd.to_datetime(spine[event_time])
        spine = spine.sort_values(event_time, kind="stable")
    spine = spine.reset_index(drop=True)
    features: list[str] = []
    for _, fg in groups:
        frame = group_frame(env, fg)
        names = [f["name"] for f in fg["features"] if f["name"] not in entity and f["name"] != label]
        features += names
        keys = list(fg["entity"])
        fg_time = fg.get("event_time")
        right = frame[[*keys, *([fg_time] if fg_time else []), *names]]
        if event_time and fg_time:
            right = right.rename(columns={fg_time: "__fg_time__"}).sort_values("__fg_time__", kind="stable")
            for k in keys:  # merge_asof needs equal key dtypes on both sides
                right[k] = right[k].astype(spine[k].dtype)
            spine = pd.merge_asof(
                spine,
                right,
                left_on=event_time,
                right_on="__fg_time__",
                by=keys,
                direction="backward",
                allow_exact_matches=True,
            ).drop(columns=["__fg_time__"])
        else:
            latest = right.drop_duplicates(keys, keep="last")
            spine = spine.merge(latest, on=keys, how="left")
    return spine, features
