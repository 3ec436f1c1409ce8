"""Feature groups with data: materialisation into the offline and online stores, online
lookups, and point-in-time correct training sets.

Both stores live in the provider's DuckDB file (`.mlops/local/features.duckdb`): the offline
store is the table `<group>` (every row of the source: entity keys, event time, features),
the online store is the table `<group>__online` (the latest row per entity key by event time),
built only for groups with `online: true`. pandas is imported inside functions: `validate` and
`--help` must not load it.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.actions.results import Materialized, OnlineRow
from mlops_decl.provider import Attributes, ConfigError, ProviderError, RuntimeContext

from .base import LocalEnv
from .files import detect_format, resolve_uri
from .store import quote

PANDAS_DTYPES = {"int": "Int64", "float": "float64", "string": "string", "bool": "boolean"}
JOIN_KEY = "__key{}__"  # text copies of the entity keys, so int and string keys still match
FG_TIME = "__fg_time__"


def online_table(group: str) -> str:
    return f"{group}__online"


def _error(message: str, hint: str) -> ProviderError:
    err = ProviderError(message)
    err.hint = hint  # type: ignore[attr-defined]  # the engine shows it under the message
    return err


def dataset_file(env: LocalEnv, dataset_id: str) -> tuple[Any, str]:
    """(path, format) of a dataset's file, found through the catalog."""
    row = env.catalog.get("dataset", dataset_id)
    if row is None:
        raise _error(f"dataset `{dataset_id}` is not in the local catalog", "run `mlops-decl apply` first")
    path = resolve_uri(str(row.get("path") or row.get("uri")), env.project_dir)
    return path, detect_format(path, row.get("format"))


def dataset_version(env: LocalEnv, dataset_id: str) -> str:
    """The content hash of the dataset's file as it is now (cached by the inspector)."""
    path, fmt = dataset_file(env, dataset_id)
    return env.inspector.inspect(path, fmt).version


def load_dataset(env: LocalEnv, dataset_id: str) -> Any:
    """A dataset's current file as a DataFrame."""
    import pandas as pd

    path, fmt = dataset_file(env, dataset_id)
    try:
        return pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except FileNotFoundError:
        raise _error(f"dataset `{dataset_id}`: no file at {path}", "restore the file, then apply") from None


def to_time(series: Any, where: str) -> Any:
    """Timestamps as naive UTC, so tz-aware and naive sources compare (merge_asof needs one
    kind); a value that is not a time is the user's mistake, named."""
    import pandas as pd

    try:
        out = pd.to_datetime(series, utc=True)
    except (ValueError, TypeError):
        try:  # mixed formats in one column: slower, element by element
            out = pd.to_datetime(series, utc=True, format="mixed")
        except (ValueError, TypeError) as exc:
            raise _error(
                f"{where} holds values that are not times: {exc}",
                "write times as ISO 8601, e.g. 2026-01-31T12:00:00",
            ) from None
    # one resolution everywhere (DuckDB TIMESTAMP is us; merge_asof refuses us against ns)
    return out.dt.tz_convert(None).astype("datetime64[us]")


def _integral_keys(series: Any) -> Any:
    """A float key column (ints with gaps read as float) back to integers: 42.0 is key 42."""
    import pandas as pd

    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        if (whole == whole.round()).all():
            return series.astype("Int64")
    return series


def group_frame(env: LocalEnv, attrs: Attributes) -> Any:
    """The group's columns (entity, event time, features) from its source, typed as declared.
    Rows without an entity key or event time are dropped: nothing can join or look them up."""

    source = str(attrs["source"])
    df = load_dataset(env, source)
    entity = list(attrs["entity"])
    event_time = attrs.get("event_time")
    features = [(f["name"], f["dtype"]) for f in attrs["features"]]
    cols = list(dict.fromkeys([*entity, *([event_time] if event_time else []), *[n for n, _ in features]]))
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise _error(
            f"column(s) {', '.join(missing)} are not in dataset `{source}`",
            f"columns of `{source}`: {', '.join(map(str, df.columns))}",
        )
    out = df[cols].copy()
    for i, (name, dtype) in enumerate(features):
        try:
            if dtype == "datetime":
                out[name] = to_time(out[name], f"feature `{name}`")
            else:
                out[name] = out[name].astype(PANDAS_DTYPES[dtype])
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"feature `{name}` of dataset `{source}` does not convert to {dtype}: {exc}",
                field=("features", i, "dtype"),
                hint="fix the data, or declare the dtype the column holds",
            ) from None
    for key in entity:
        out[key] = _integral_keys(out[key])
    if event_time:
        out[event_time] = to_time(out[event_time], f"event_time `{event_time}` of dataset `{source}`")
    return out.dropna(subset=[*entity, *([event_time] if event_time else [])]).reset_index(drop=True)


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
        raise _error(
            f"feature_group.{id} has no online store (online: false)",
            "set `online: true` on the feature group and apply",
        )
    keys = list(attrs["entity"])
    values = [v.strip() for v in str(entity).split(",")] if len(keys) > 1 else [str(entity).strip()]
    if len(values) != len(keys):
        raise _error(
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
        raise _error(
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


def _join_keys(frame: Any, keys: list[str]) -> list[str]:
    """Add text copies of `keys` to frame (in place); their names."""
    names = []
    for i, key in enumerate(keys):
        name = JOIN_KEY.format(i)
        frame[name] = _integral_keys(frame[key]).astype("string")
        names.append(name)
    return names


def training_set(env: LocalEnv, pipeline: Attributes) -> tuple[Any, list[str]]:
    """(spine with every input's features joined as of each label's time, feature columns).

    The spine is the `labels` dataset when given, else the source of the first input: its
    entity keys, event time and label. For each spine row a feature value comes from the
    latest feature row of the same entity whose event time is at or before the spine row's
    (pandas merge_asof, backward, exact matches allowed): nothing from after the label leaks.
    """
    import pandas as pd

    groups = []
    for fg_id in pipeline["inputs"]:
        fg = env.catalog.get("feature_group", str(fg_id))
        if fg is None:
            raise _error(f"input feature_group.{fg_id} is not applied", "run `mlops-decl apply` first")
        groups.append((str(fg_id), fg))
    first = groups[0][1]
    spine_source = str(pipeline.get("labels") or first["source"])
    raw = load_dataset(env, spine_source)
    label = pipeline["label"]
    entity = list(first["entity"])
    event_time = first.get("event_time")
    needed = [*entity, *([event_time] if event_time else []), label]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        what = "label column" if missing == [label] else "column(s)"
        raise _error(
            f"the label spine, dataset `{spine_source}`, has no {what} {', '.join(missing)}",
            f"its columns: {', '.join(map(str, raw.columns))}; the spine needs the entity keys and "
            f"event time of feature_group.{groups[0][0]} and the label",
        )
    spine = raw[needed].copy()
    if event_time:
        spine[event_time] = to_time(spine[event_time], f"`{event_time}` of dataset `{spine_source}`")
        spine = spine.dropna(subset=[event_time]).sort_values(event_time, kind="stable")
    spine = spine.reset_index(drop=True)
    features: list[str] = []
    for fg_id, fg in groups:
        keys = list(fg["entity"])
        absent = [k for k in keys if k not in spine.columns]
        if absent:
            raise _error(
                f"feature_group.{fg_id} is keyed on {', '.join(absent)}, which the label spine "
                f"(dataset `{spine_source}`) lacks",
                "inputs must share the first input's entity columns, or give a `labels` dataset with all keys",
            )
        names = [f["name"] for f in fg["features"] if f["name"] not in needed]
        clash = [n for n in names if n in features]
        if clash:
            raise _error(
                f"feature(s) {', '.join(clash)} of feature_group.{fg_id} are in another input too",
                "rename the feature in one of the groups' sources",
            )
        features += names
        frame = group_frame(env, fg)
        fg_time = fg.get("event_time")
        right = frame[[*keys, *([fg_time] if fg_time else []), *names]].copy()
        join_keys = _join_keys(right, keys)
        _join_keys(spine, keys)
        spine = spine.dropna(subset=join_keys)  # a label without an entity joins nothing
        right = right.drop(columns=keys).dropna(subset=join_keys)
        if event_time and fg_time:
            right = right.rename(columns={fg_time: FG_TIME}).sort_values(FG_TIME, kind="stable")
            spine = pd.merge_asof(
                spine,
                right,
                left_on=event_time,
                right_on=FG_TIME,
                by=join_keys,
                direction="backward",
                allow_exact_matches=True,
            ).drop(columns=[FG_TIME])
        else:
            # No time on one side: the group's features are static, its latest row per key.
            if fg_time:
                right = right.sort_values(fg_time, kind="stable").drop(columns=[fg_time])
            latest = right.drop_duplicates(join_keys, keep="last")
            spine = spine.merge(latest, on=join_keys, how="left")
        spine = spine.drop(columns=[c for c in spine.columns if c.startswith("__key")])
    return spine, features
