"""A monitor's baseline on the local provider: the dataset's file read as a table
(`reference_data`), and where the reference profile the engine builds from it is kept
(`.mlops/local/profiles/<monitor>.npz`; mlops_decl/ml/profile.py computes it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.ml.evidence import ReferenceData
from mlops_decl.ml.profile import hinted
from mlops_decl.provider import ConfigError, ProviderError, RuntimeContext

if TYPE_CHECKING:
    import pandas as pd

    from .base import LocalEnv
    from .files import FileFacts


def read_table(path: Path, columns: list[str] | None, what: str) -> pd.DataFrame:
    """A CSV or parquet file as a DataFrame of `columns` (None: all); ProviderError naming the
    missing columns, or the file's problem, instead of a pandas traceback."""
    import pandas as pd

    fmt = "parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            available = list(pq.read_schema(path).names)
        else:
            available = [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except FileNotFoundError:
        raise ProviderError(f"{what} {path} does not exist") from None
    except Exception as exc:  # pandas and pyarrow raise many kinds for unreadable files
        raise ProviderError(f"cannot read {what} {path}: {exc}") from None
    if columns is not None:
        missing = [c for c in columns if c not in available]
        if missing:
            raise hinted(
                f"{what} {path} lacks the feature column(s) {', '.join(missing)}",
                f"its columns: {', '.join(available)}",
            )
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            # One block per column and arrow buffers freed as they convert: the table is not
            # held twice (arrow, then pandas) at the peak.
            table = pq.read_table(path, columns=columns)
            return table.to_pandas(split_blocks=True, self_destruct=True)
        return pd.read_csv(path, usecols=columns)
    except Exception as exc:
        raise ProviderError(f"cannot read {what} {path}: {exc}") from None


def baseline_facts(env: LocalEnv, dataset_id: str) -> FileFacts | None:
    """The baseline file as it is now (hash = version), or None when the dataset is not in the
    catalog yet or its file cannot be read (the dataset's own plan reports that)."""
    from .files import detect_format, resolve_uri

    record = env.catalog.get("dataset", dataset_id)
    if record is None:
        return None
    try:
        path = resolve_uri(str(record.get("uri", "")), env.project_dir)
        return env.inspector.inspect(path, detect_format(path, record.get("format")))
    except ConfigError:
        return None


def _baseline(env: LocalEnv, attrs: dict[str, Any]) -> FileFacts:
    """The monitor's baseline file, or a ConfigError at the field that names it wrongly."""
    baseline = str(attrs.get("baseline") or "")
    facts = baseline_facts(env, baseline)
    if facts is None:
        raise ConfigError(
            f"the baseline dataset `{baseline}` is not in the local catalog, or its file cannot be read",
            field=("baseline",),
            hint="point baseline at a local dataset (${dataset.NAME}) and apply it",
        )
    features = attrs.get("features")
    missing = [f for f in features or [] if f not in facts.columns]
    if missing:
        raise ConfigError(
            f"feature(s) {', '.join(missing)} are not columns of the baseline dataset `{baseline}`",
            field=("features",),
            hint=f"its columns: {', '.join(facts.columns)}",
        )
    return facts


def reference_data(
    env: LocalEnv, id: str, attrs: dict[str, Any], rt: RuntimeContext | None, read: bool = True
) -> ReferenceData:
    """The baseline's version now and, with `read`, its rows (the monitored columns). Without
    `read` it never fails: an unreadable baseline has version None (its dataset's plan says why)."""
    dataset = str(attrs.get("baseline") or "")
    if not read:
        facts = baseline_facts(env, dataset)
        return ReferenceData(dataset, facts.version if facts else None, str(facts.path) if facts else "")
    facts = _baseline(env, attrs)
    features = attrs.get("features")
    rows = read_table(Path(facts.path), list(features) if features is not None else None, "baseline")
    return ReferenceData(dataset, facts.version, str(facts.path), rows)


def profile_path(env: LocalEnv, monitor_id: str) -> Path:
    return env.data_dir / "profiles" / f"{monitor_id}.npz"


def compute_for_monitor(
    env: LocalEnv, monitor_id: str, attrs: dict[str, Any], prior: dict[str, Any] | None
) -> dict[str, Any]:
    """The `reference_profile` attribute: the engine's profile of the baseline, computed and
    saved unless the prior one still fits."""
    from mlops_decl.ml.profile import reference_profile

    _baseline(env, attrs)  # a wrong baseline or feature is the user's mistake: say so first
    path = profile_path(env, monitor_id)
    return reference_profile(
        lambda read: reference_data(env, monitor_id, attrs, None, read=read),
        attrs.get("features"),
        prior,
        path,
        os.path.relpath(path, env.project_dir),
        env.project_dir,
    )
