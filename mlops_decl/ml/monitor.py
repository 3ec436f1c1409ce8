"""`monitor check`: current data against the reference profile, judged by the engine.

The profile was computed at apply; a check loads it (a few MB), takes the current data from the
provider's `current_data`, sorts each numeric column once, scores every feature with drift.py,
writes the JSON and HTML report and returns the report of docs/runtime-actions.md. It never
retrains: Runtime fires on_drift with what this returns.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.provider import ConfigError

from . import drift
from .evidence import MonitorActions
from .profile import (
    CategoricalRef,
    NumericRef,
    Profile,
    Ref,
    category_counts,
    finite_sorted,
    hinted,
    is_numeric,
    load,
    runs,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass
class Settings:
    """The monitor's drift settings, as its attributes hold them."""

    method: str | None = None
    threshold: float | None = None
    per_feature: dict[str, dict[str, Any]] | None = None
    drift_share: float = 0.5

    @classmethod
    def of(cls, attrs: dict[str, Any]) -> Settings:
        return cls(
            method=attrs.get("method"),
            threshold=attrs.get("threshold"),
            per_feature=attrs.get("per_feature") or {},
            drift_share=float(attrs.get("drift_share") or 0.5),
        )

    def choice(self, name: str, kind: str, rows: int) -> drift.Choice:
        """Per-feature settings win; the monitor's method applies where it suits the feature (a
        categorical feature keeps its default under `method: wasserstein`), and the monitor's
        threshold goes with the monitor's method, or with the defaults when it names none."""
        own = (self.per_feature or {}).get(name) or {}
        if own.get("method"):
            return drift.choose(kind, rows, own["method"], own.get("threshold"))
        # (a per-feature entry carries `threshold: None` when it sets only a method)
        own_threshold = own.get("threshold")
        if self.method and not (kind == "categorical" and self.method in drift.NUMERIC_ONLY):
            threshold = own_threshold if own_threshold is not None else self.threshold
            return drift.choose(kind, rows, self.method, threshold)
        fallback = self.threshold if self.method is None else None
        return drift.choose(kind, rows, None, own_threshold if own_threshold is not None else fallback)


def validate_summary(features: dict[str, Any], settings: Settings) -> None:
    """Per-feature settings that cannot work, found at apply (ConfigError at the field).
    `features` is the reference profile's summary."""
    for name, own in (settings.per_feature or {}).items():
        if name not in features:
            raise ConfigError(
                f"per_feature names `{name}`, which the monitor does not watch",
                field=("per_feature", name),
                hint=f"features: {', '.join(features)}",
            )
        method = (own or {}).get("method")
        if method in drift.NUMERIC_ONLY and features[name].get("dtype") == "string":
            raise ConfigError(
                f"`{method}` compares numbers, but `{name}` is categorical in the baseline",
                field=("per_feature", name, "method"),
                hint="use jensen_shannon, chi2, psi or linf for categorical features",
            )


# --- scoring one feature ----------------------------------------------------------------


def _categorical_counts(ref: Ref) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(ref, CategoricalRef):
        return ref.labels, ref.counts
    assert ref.values is not None and ref.counts is not None
    return ref.values, ref.counts


def _score(name: str, ref: Ref, series: pd.Series, settings: Settings) -> dict[str, Any]:
    """Score one feature: the report entry plus `_choice` and `_hist` for the caller."""
    import numpy as np

    if isinstance(ref, CategoricalRef):
        cur_keys, cur_counts = category_counts(series)
        kind, cur_sorted = "categorical", None
        current_rows = int(cur_counts.sum())
    else:
        if not is_numeric(series):
            import pandas as pd

            try:
                series = pd.to_numeric(series)
            except (ValueError, TypeError):
                raise hinted(
                    f"feature `{name}` is numeric in the baseline but holds non-numbers in the current data",
                    "check the current data's column, or re-apply with the new baseline",
                ) from None
        cur_sorted = finite_sorted(series)
        # Distinct values only matter when the reference has few (per-value bins); counting
        # them on a million continuous values would cost as much as the drift itself.
        cur_keys, cur_counts = (
            runs(cur_sorted) if ref.values is not None else (cur_sorted[:0], cur_sorted[:0])
        )
        current_rows = int(cur_sorted.size)
        kind = ref.kind
        # Evidently: a numeric column with at most 5 values over both datasets is categorical.
        values = ref.values if ref.distinct <= drift.CATEGORICAL_UNION else None
        if (
            kind == "numeric"
            and values is not None
            and np.union1d(values, cur_keys).size <= drift.CATEGORICAL_UNION
        ):
            kind = "categorical"
    choice = settings.choice(name, kind, ref.rows)
    entry: dict[str, Any] = {"method": choice.method, "kind": kind, "score_kind": choice.score_kind}
    if current_rows == 0:
        # A feature that vanished from the current data has drifted in the plainest sense.
        entry.update(score=None, note="no values in the current data", _choice=choice, _hist=None)
        return entry

    hist = None
    if choice.method in drift.NUMERIC_ONLY:
        if not isinstance(ref, NumericRef) or cur_sorted is None:
            raise hinted(
                f"`{choice.method}` compares numbers, but `{name}` is categorical in the baseline",
                "use jensen_shannon, chi2, psi or linf for categorical features",
            )
        cdfs = drift.merged_cdfs(ref.sample, cur_sorted)
        if choice.method == "wasserstein":
            score = drift.wasserstein(ref.sample, cur_sorted, ref.std, cdfs)
        else:
            statistic = drift.ks_statistic(ref.sample, cur_sorted, cdfs)
            entry["statistic"] = statistic
            score = (
                drift.ks_pvalue(ref.sample, cur_sorted, statistic)
                if choice.score_kind == "p_value"
                else statistic
            )
    elif kind == "categorical" or (isinstance(ref, NumericRef) and ref.values is not None):
        ref_keys, ref_counts = _categorical_counts(ref)
        keys, rc, cc = drift.align(ref_keys, ref_counts, cur_keys, cur_counts)
        score = drift.score_binned(choice.method, rc, cc)
        hist = {"type": "categorical", "keys": [str(k) for k in keys], "reference": rc, "current": cc}
    else:
        assert isinstance(ref, NumericRef) and cur_sorted is not None
        scale = ref.rows / ref.sample.size  # a sketch point stands for this many rows
        if choice.method == "psi":
            rc = drift.decile_bins(ref.sample, ref.deciles) * scale
            cc = drift.decile_bins(cur_sorted, ref.deciles)
        else:
            rc, cc, _ = _sturges(ref, cur_sorted)
        score = drift.score_binned(choice.method, rc, cc)
    if hist is None and isinstance(ref, NumericRef) and cur_sorted is not None:
        rc, cc, edges = _sturges(ref, cur_sorted)
        hist = {"type": "numeric", "edges": edges, "reference": rc, "current": cc}
    entry.update(score=float(score), _choice=choice, _hist=hist)
    if choice.method == "psi" and drift.PSI_WARN <= score < choice.threshold:
        entry["warning"] = True
    return entry


def _sturges(ref: NumericRef, cur_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference and current counts on Evidently's Sturges bins over both datasets."""
    lo = min(ref.min, float(cur_sorted[0]))
    hi = max(ref.max, float(cur_sorted[-1]))
    edges = drift.sturges_edges(lo, hi, ref.rows + cur_sorted.size)
    rc = drift.sorted_histogram(ref.sample, edges) * (ref.rows / ref.sample.size)
    return rc, drift.sorted_histogram(cur_sorted, edges), edges


def evaluate(
    profile: Profile, frame: pd.DataFrame, settings: Settings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(report entries by feature, histograms by feature). Features run on threads: numpy's
    sorts and searchsorted release the GIL, so columns proceed in parallel."""
    names = list(profile.features)
    workers = max(1, min(len(names), os.cpu_count() or 1, 8))

    columns = {name: frame[name] for name in names}  # looked up once, before the threads

    def one(name: str) -> dict[str, Any]:
        return _score(name, profile.features[name], columns[name], settings)

    if workers == 1:
        entries = [one(n) for n in names]
    else:
        with ThreadPoolExecutor(workers) as pool:
            entries = list(pool.map(one, names))
    family = sum(1 for e in entries if e["_choice"].bonferroni)  # ks p-values: Bonferroni's m
    features: dict[str, Any] = {}
    histograms: dict[str, Any] = {}
    for name, entry in zip(names, entries, strict=True):
        choice: drift.Choice = entry.pop("_choice")
        histograms[name] = entry.pop("_hist")
        threshold = choice.effective_threshold(family)
        entry["threshold"] = threshold
        entry["drifted"] = True if entry["score"] is None else choice.drifted(entry["score"], family)
        if choice.bonferroni and family > 1:
            entry["correction"] = f"bonferroni over {family} features (alpha {choice.threshold})"
        features[name] = dict(sorted(entry.items()))
    return features, histograms


def summarize(features: dict[str, Any], drift_share: float) -> dict[str, Any]:
    drifted = sum(1 for f in features.values() if f["drifted"])
    share = drifted / len(features) if features else 0.0
    return {
        "dataset_drift": bool(features) and share >= drift_share,
        "drift_share": drift_share,
        "drifted_share": share,
    }


# --- the check ---------------------------------------------------------------------------


def check(
    actions: MonitorActions,
    monitor: str,
    attrs: dict[str, Any],
    root: Path,
    data: str | None = None,
    emit: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """The drift report of monitor `monitor` (its address) on `data` (a file; None: what the
    provider captured), written as JSON and HTML under `.mlops/reports/`."""
    from .drift_report import write_reports

    reference = attrs.get("reference_profile")
    if not isinstance(reference, dict) or not reference.get("path"):
        raise hinted(f"{monitor} has no reference profile", "run `mlops-decl apply` to compute it")
    path = root / str(reference["path"])
    if not path.exists():
        raise hinted(f"the reference profile {path} is missing", "run `mlops-decl apply` to compute it again")
    profile = load(path, reference.get("hash"))
    features = list(profile.features)
    current = actions.current_data(data, features)
    frame = current.rows
    emit(
        f"checking {len(features)} features: {len(frame)} current rows against {profile.rows} reference rows"
    )

    settings = Settings.of(attrs)
    scored, histograms = evaluate(profile, frame, settings)
    warnings = []
    dataset = profile.baseline.get("dataset")
    now_version = actions.reference_data(read=False).version if dataset else None
    if now_version is not None and now_version != profile.baseline.get("version"):
        warnings.append(
            f"baseline dataset `{dataset}` is now version {now_version}, but the profile was "
            f"computed from {profile.baseline.get('version')}: run `mlops-decl apply` to refresh it"
        )
    for warning in warnings:
        emit(f"warning: {warning}")
    now = datetime.now(timezone.utc)
    report: dict[str, Any] = {
        "monitor": monitor,
        **summarize(scored, settings.drift_share),
        "features": scored,
        "rows": {"reference": profile.rows, "current": len(frame)},
        "data": current.source,
        "baseline": dict(profile.baseline),
        "created": now.isoformat(timespec="seconds"),
        "warnings": warnings,
    }
    stem = monitor.split(".", 1)[-1]
    json_path, html_path = write_reports(report, histograms, root / ".mlops" / "reports", stem, now)
    report["report_json"] = str(json_path)
    report["report_html"] = str(html_path)
    return report
