"""Feature groups' data: a group's rows read from its source dataset, and point-in-time
correct training sets (the `materialize` and `online` actions are actions/features.py).

Both stores live in the provider's DuckDB file (`.mlops/local/features.duckdb`): the offline
store is the table `<group>` (every row of the source: entity keys, event time, features),
the online store is the table `<group>__online` (the latest row per entity key by event time),
built only for groups with `online: true`. pandas is imported inside functions: `validate` and
`--help` must not load it.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.provider import Attributes, ConfigError

from ..client import LocalEnv
from ..errors import hinted
from .files import detect_format, resolve_uri

PANDAS_DTYPES = {"int": "Int64", "float": "float64", "string": "string", "bool": "boolean"}
JOIN_KEY = "__key{}__"  # text copies of the entity keys, so int and string keys still match
FG_TIME = "__fg_time__"


def online_table(group: str) -> str:
    return f"{group}__online"


def dataset_file(env: LocalEnv, dataset_id: str) -> tuple[Any, str]:
    """(path, format) of a dataset's file, found through the catalog."""
    row = env.catalog.get("dataset", dataset_id)
    if row is None:
        raise hinted(f"dataset `{dataset_id}` is not in the local catalog", "run `mlops-decl apply` first")
    # the configured uri, against this project: a path recorded elsewhere may be stale
    path = resolve_uri(str(row.get("uri") or row.get("path")), env.project_dir)
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
        raise hinted(f"dataset `{dataset_id}`: no file at {path}", "restore the file, then apply") from None


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
            raise hinted(
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
        raise hinted(
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
            raise hinted(f"input feature_group.{fg_id} is not applied", "run `mlops-decl apply` first")
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
        raise hinted(
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
            raise hinted(
                f"feature_group.{fg_id} is keyed on {', '.join(absent)}, which the label spine "
                f"(dataset `{spine_source}`) lacks",
                "inputs must share the first input's entity columns, or give a `labels` dataset with all keys",
            )
        names = [f["name"] for f in fg["features"] if f["name"] not in needed]
        clash = [n for n in names if n in features]
        if clash:
            raise hinted(
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
