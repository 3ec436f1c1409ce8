"""A monitor's reference profile: everything a drift check needs from the baseline, computed
once at apply so that a check reads and sorts only the current data (docs/kinds.md, monitor).

Per numeric feature: a sorted sample (every non-null row up to SAMPLE_SIZE, else an evenly
spaced quantile sketch of that size that keeps the minimum and maximum), the row count, mean,
std, min, max, the distinct count, the values and their counts when there are at most 20 (for
per-value bins), and the reference deciles (PSI's bins). Per categorical feature: the count
of every category.

The provider computes it at apply from its `reference_data` (build, then save to a `.npz` file
it keeps; local: `.mlops/local/profiles/<monitor>.npz`). The monitor's `reference_profile`
attribute holds its path, a content hash (over the arrays, not the zip bytes, which carry
timestamps), the baseline dataset's version it was computed from, and a per-feature `summary`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.provider import ConfigError, ProviderError

from . import drift
from .evidence import ReferenceData

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SAMPLE_SIZE = 200_000
FORMAT = 1
TEXT_SHARE = 0.5  # a string column with more distinct values than this share of rows is an id


@dataclass
class NumericRef:
    sample: np.ndarray  # sorted float64
    rows: int  # non-null rows the sample stands for
    mean: float
    std: float  # ddof 0, as Evidently's normaliser
    min: float
    max: float
    integer: bool
    distinct: int
    values: np.ndarray | None  # the distinct values when there are <= drift.PER_VALUE_BINS
    counts: np.ndarray | None
    deciles: np.ndarray  # interior PSI edges, deduplicated
    nulls: int = 0

    @property
    def kind(self) -> str:
        categorical = self.integer and self.distinct <= drift.INTEGER_CATEGORICAL
        return "categorical" if categorical else "numeric"

    @property
    def exact(self) -> bool:
        return self.sample.size == self.rows


@dataclass
class CategoricalRef:
    labels: np.ndarray  # unicode, sorted
    counts: np.ndarray
    rows: int
    nulls: int = 0
    kind: str = "categorical"


Ref = NumericRef | CategoricalRef


@dataclass
class Profile:
    rows: int
    features: dict[str, Ref]
    baseline: dict[str, Any] = field(default_factory=dict)  # dataset id, version
    hash: str = ""


# --- building ---------------------------------------------------------------------------


def is_numeric(series: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype))


def category_counts(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(labels as sorted unicode, counts) of the non-null values. pandas hashes, which beats
    sorting a million strings; the loop runs over categories, not rows."""
    import numpy as np

    counts = series.dropna().astype(str).value_counts(sort=False)
    labels = np.array([str(k) for k in counts.index], dtype=str)
    values = counts.to_numpy(dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    return labels[order], values[order]


def finite_sorted(series: pd.Series) -> np.ndarray:
    """The column as sorted float64 without NaN or infinities (Evidently drops them too)."""
    import numpy as np

    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    values = values[np.isfinite(values)]
    values.sort(kind="quicksort")
    return values


def runs(values_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_counts=True) for an already sorted array, in one pass."""
    import numpy as np

    if values_sorted.size == 0:
        return values_sorted, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], values_sorted[1:] != values_sorted[:-1]]))
    counts = np.diff(np.append(starts, values_sorted.size))
    return values_sorted[starts], counts


def numeric_ref(series: pd.Series) -> NumericRef:
    import numpy as np
    import pandas as pd

    full = finite_sorted(series)
    if full.size == 0:
        raise ValueError("no numeric values")
    distinct_values, distinct_counts = runs(full)
    if full.size > SAMPLE_SIZE:
        # Evenly spaced order statistics: a quantile sketch holding both extremes.
        sample = full[np.round(np.linspace(0, full.size - 1, SAMPLE_SIZE)).astype(np.int64)]
    else:
        sample = full
    small = distinct_values.size <= drift.PER_VALUE_BINS
    return NumericRef(
        sample=np.ascontiguousarray(sample),
        rows=int(full.size),
        mean=float(full.mean()),
        std=float(full.std()),
        min=float(full[0]),
        max=float(full[-1]),
        integer=bool(pd.api.types.is_integer_dtype(series.dtype)),
        distinct=int(distinct_values.size),
        values=distinct_values if small else None,
        counts=distinct_counts if small else None,
        deciles=np.unique(np.quantile(full, np.linspace(0.1, 0.9, 9))),
        nulls=int(len(series) - full.size),
    )


def default_features(frame: pd.DataFrame) -> list[str]:
    """Every column but identifiers: `id`, `*_id`, timestamps, and string columns whose values
    are mostly distinct (Evidently calls those text and does not compare them as categories)."""
    import pandas as pd

    chosen = []
    for name in frame.columns:
        lowered = str(name).lower()
        if lowered == "id" or lowered.endswith("_id"):
            continue
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        if not is_numeric(series) and not pd.api.types.is_bool_dtype(series.dtype):
            present = series.dropna()
            if len(present) and present.nunique() > TEXT_SHARE * len(present):
                continue
        chosen.append(str(name))
    return chosen


def build(frame: pd.DataFrame, features: list[str] | None = None) -> Profile:
    """The profile of `frame` for `features` (None: default_features)."""
    names = list(features) if features is not None else default_features(frame)
    refs: dict[str, Ref] = {}
    for name in names:
        series = frame[name]
        if is_numeric(series):
            try:
                refs[name] = numeric_ref(series)
                continue
            except ValueError:
                raise ConfigError(
                    f"feature `{name}` has no values in the baseline",
                    field=("features",),
                    hint="choose features the baseline dataset fills in",
                ) from None
        labels, counts = category_counts(series)
        if labels.size == 0:
            raise ConfigError(
                f"feature `{name}` has no values in the baseline",
                field=("features",),
                hint="choose features the baseline dataset fills in",
            )
        refs[name] = CategoricalRef(labels, counts, int(counts.sum()), int(len(series) - counts.sum()))
    return Profile(rows=len(frame), features=refs)


# --- storing ----------------------------------------------------------------------------

_SCALARS = ("rows", "mean", "std", "min", "max", "integer", "distinct", "nulls")


def _flatten(profile: Profile) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    meta: dict[str, Any] = {
        "format": FORMAT,
        "rows": profile.rows,
        "baseline": profile.baseline,
        "features": [],
    }
    arrays: dict[str, np.ndarray] = {}
    for i, (name, ref) in enumerate(profile.features.items()):
        if isinstance(ref, NumericRef):
            meta["features"].append(
                {"name": name, "type": "numeric", **{k: getattr(ref, k) for k in _SCALARS}}
            )
            arrays[f"{i}.sample"] = ref.sample
            arrays[f"{i}.deciles"] = ref.deciles
            if ref.values is not None and ref.counts is not None:
                arrays[f"{i}.values"] = ref.values
                arrays[f"{i}.counts"] = ref.counts
        else:
            meta["features"].append(
                {"name": name, "type": "categorical", "rows": ref.rows, "nulls": ref.nulls}
            )
            arrays[f"{i}.labels"] = ref.labels
            arrays[f"{i}.counts"] = ref.counts
    return meta, arrays


def content_hash(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    import numpy as np

    digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for key in sorted(arrays):
        a = arrays[key]
        digest.update(f"{key}|{a.dtype.str}|{a.shape}".encode())
        digest.update(np.ascontiguousarray(a).data)
    return digest.hexdigest()[:32]


def save(profile: Profile, path: Path) -> str:
    """Write atomically (temp file, fsync, rename); return the content hash."""
    import numpy as np

    meta, arrays = _flatten(profile)
    profile.hash = content_hash(meta, arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        savez: Any = np.savez  # numpy's stub types **arrays as its keyword flags
        savez(f, __meta__=np.array(json.dumps(meta)), **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return profile.hash


def load(path: Path, expected_hash: str | None = None) -> Profile:
    import zipfile

    import numpy as np

    again = f"delete {path} and run `mlops-decl apply`: it computes the profile again"
    try:
        if path.stat().st_size == 0:  # numpy says EOFError, which click would print as "Aborted!"
            raise hinted(
                f"the reference profile {path} is empty", "run `mlops-decl apply`: it computes it again"
            )
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["__meta__"]))
            arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise hinted(
            f"cannot read the reference profile {path}: {exc or type(exc).__name__}", again
        ) from None
    digest = content_hash(meta, arrays)
    if expected_hash and digest != expected_hash:
        raise hinted(f"the reference profile {path} does not match its recorded hash", again)
    features: dict[str, Ref] = {}
    for i, f in enumerate(meta["features"]):
        if f["type"] == "numeric":
            features[f["name"]] = NumericRef(
                sample=arrays[f"{i}.sample"],
                deciles=arrays[f"{i}.deciles"],
                values=arrays.get(f"{i}.values"),
                counts=arrays.get(f"{i}.counts"),
                **{k: f[k] for k in _SCALARS},
            )
        else:
            features[f["name"]] = CategoricalRef(
                arrays[f"{i}.labels"], arrays[f"{i}.counts"], f["rows"], f["nulls"]
            )
    return Profile(rows=meta["rows"], features=features, baseline=meta["baseline"], hash=digest)


def summary(profile: Profile) -> dict[str, Any]:
    """What the state keeps about each feature: enough to read, never the sample itself."""
    out: dict[str, Any] = {}
    for name, ref in profile.features.items():
        if isinstance(ref, NumericRef):
            out[name] = {
                "kind": ref.kind,
                "dtype": "number",
                "rows": ref.rows,
                **{k: round(getattr(ref, k), 6) for k in ("mean", "std", "min", "max")},
                "distinct": ref.distinct,
                "sketch": not ref.exact,
            }
        else:
            out[name] = {
                "kind": "categorical",
                "dtype": "string",
                "rows": ref.rows,
                "categories": int(ref.labels.size),
            }
    return out


def hinted(message: str, hint: str) -> ProviderError:
    """A ProviderError with a `hint` (the engine shows it under the message)."""
    err = ProviderError(message)
    err.hint = hint  # type: ignore[attr-defined]
    return err


def reusable(
    prior: dict[str, Any] | None, version: str | None, features: list[str] | None, root: Path
) -> bool:
    """Whether the prior profile still describes this baseline and feature list (an update that
    changes only thresholds or on_drift should not re-read a large baseline)."""
    if not prior or not prior.get("hash") or version is None or prior.get("baseline_version") != version:
        return False
    if features is not None and list(prior.get("features") or {}) != list(features):
        return False
    try:
        return load(root / str(prior.get("path", "")), prior["hash"]).hash == prior["hash"]
    except ProviderError:
        return False


def reference_profile(
    fetch: Callable[[bool], ReferenceData],
    features: list[str] | None,
    prior: dict[str, Any] | None,
    path: Path,
    shown_path: str,
    root: Path,
) -> dict[str, Any]:
    """A monitor's `reference_profile` attribute: the prior one while its baseline version and
    features still fit, else the profile of `fetch(True)`'s rows, saved at `path`. `fetch(False)`
    gives the baseline's version without reading it; `shown_path` is `path` as state keeps it."""
    now = fetch(False)
    if reusable(prior, now.version, features, root):
        assert prior is not None
        return prior
    reference = fetch(True)
    profile = build(reference.rows, features)
    if not profile.features:
        raise ConfigError(
            f"the baseline dataset `{reference.dataset}` has no columns to monitor",
            field=("features",),
            hint="list the features to watch under `features`",
        )
    profile.baseline = {"dataset": reference.dataset, "version": reference.version}
    return {
        "path": shown_path,
        "hash": save(profile, path),
        "rows": profile.rows,
        "baseline_version": reference.version,
        "features": summary(profile),
    }
