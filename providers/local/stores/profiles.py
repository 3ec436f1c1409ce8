"""A monitor's baseline on the local provider: the dataset's file, read as a table, and where
the reference profile the engine builds from it is kept
(`.mlops/local/profiles/<monitor>.npz`; mlops_decl/ml/profile.py computes it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.ml.profile import hinted
from mlops_decl.provider import ConfigError, ProviderError

if TYPE_CHECKING:
    import pandas as pd

    from ..client import LocalEnv
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


def checked_baseline(env: LocalEnv, attrs: dict[str, Any]) -> FileFacts:
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


def profile_path(env: LocalEnv, monitor_id: str) -> Path:
    return env.data_dir / "profiles" / f"{monitor_id}.npz"
