"""Promotion gates, evaluated on a model version's logged run and its evaluation split.

Each gate function returns (passed, evidence): the evidence is what the CLI prints beside the
verdict and what the audit log keeps, so it names the numbers behind the decision.
"""

from __future__ import annotations

from typing import Any

HIGHER_IS_BETTER = frozenset({"auc", "accuracy", "f1", "precision", "recall", "r2"})
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae", "mse"})
MAX_GROUPS_SHOWN = 6  # evidence lists per-group rates up to this many groups


def label(gate: dict[str, Any]) -> str:
    """A short label for a gate, e.g. "auc >= 0.75"."""
    t = gate.get("type")
    if t == "metric_threshold":
        bounds = [
            f"{gate['metric']} >= {gate['min']}" if gate.get("min") is not None else "",
            f"{gate['metric']} <= {gate['max']}" if gate.get("max") is not None else "",
        ]
        return " and ".join(b for b in bounds if b) or f"{gate['metric']} (no bound)"
    if t == "champion_comparison":
        delta = float(gate.get("min_delta") or 0.0)
        return f"{gate['metric']} vs champion (min delta {delta:g})"
    if t == "bias":
        return f"{gate['metric']} by {gate['sensitive_feature']} <= {gate['max']}"
    if t == "manual_approval":
        return f"manual approval ({int(gate.get('approvers') or 1)} needed)"
    return str(t)


def metric_threshold(gate: dict[str, Any], metrics: dict[str, float]) -> tuple[bool, str]:
    name = gate["metric"]
    if name not in metrics:
        logged = ", ".join(sorted(metrics)) or "none"
        return False, f"the run logged no `{name}` (logged: {logged})"
    value = float(metrics[name])
    lo, hi = gate.get("min"), gate.get("max")
    ok = (lo is None or value >= float(lo)) and (hi is None or value <= float(hi))
    needs = " and ".join(
        b for b in (f">= {lo}" if lo is not None else "", f"<= {hi}" if hi is not None else "") if b
    )
    return ok, f"{name} = {value:.4f} (needs {needs})"


def metric_on(frame: Any, metric: str, pred: Any, score: Any) -> float:
    """A metric of predictions on an evaluation split (true labels in __label__).

    Raises ValueError when the metric cannot be computed there (no scores for auc, a single
    class, an unknown metric); the caller falls back to the logged metrics.
    """
    from sklearn import metrics as m

    y = frame["__label__"]
    if metric in ("auc", "log_loss"):
        if score is None:
            raise ValueError(f"`{metric}` needs scores and the split has no __score__")
        return float(m.roc_auc_score(y, score) if metric == "auc" else m.log_loss(y, score))
    if metric == "accuracy":
        return float(m.accuracy_score(y, pred))
    if metric in ("f1", "precision", "recall"):
        fn = {"f1": m.f1_score, "precision": m.precision_score, "recall": m.recall_score}[metric]
        # as training computes it: binary for two classes, macro-averaged otherwise
        average = "binary" if y.nunique() <= 2 else "macro"
        return float(fn(y, pred, average=average, zero_division=0))
    if metric in ("rmse", "mse"):
        mse = float(m.mean_squared_error(y, pred))
        return mse**0.5 if metric == "rmse" else mse
    if metric == "mae":
        return float(m.mean_absolute_error(y, pred))
    if metric == "r2":
        return float(m.r2_score(y, pred))
    raise ValueError(f"`{metric}` is not a metric computed on evaluation splits")


def champion_comparison(
    gate: dict[str, Any], candidate: float, champion: float, champion_version: int, source: str
) -> tuple[bool, str]:
    metric, delta = gate["metric"], float(gate.get("min_delta") or 0.0)
    lower = metric in LOWER_IS_BETTER
    gain = (champion - candidate) if lower else (candidate - champion)
    if gain != gain:  # NaN: a metric that could not be computed never passes
        return False, f"{metric} is not a number for one side ({candidate} vs {champion})"
    way = "lower is better" if lower else "higher is better"
    return (
        gain >= delta,
        f"{metric} {candidate:.4f} vs champion v{champion_version} {champion:.4f} {source}: "
        f"improvement {gain:+.4f}, needs >= {delta:g} ({way})",
    )


def binarize(y: Any, pred: Any) -> tuple[Any, Any]:
    """Labels and predictions as 0/1 arrays. The positive class is 1 for 0/1 (or bool) labels,
    else the larger label, as scikit-learn orders classes_ (so it matches predict_proba[:, 1])."""
    import pandas as pd

    ys, ps = pd.Series(y).reset_index(drop=True), pd.Series(pred).reset_index(drop=True)
    values = set(ys.dropna().tolist()) | set(ps.dropna().tolist())
    if len(values) > 2:
        raise ValueError(f"a bias gate needs a binary label; the evaluation split has {len(values)} values")
    if values <= {0, 1}:
        positive: Any = 1
    else:
        try:
            positive = sorted(values)[-1]
        except TypeError:  # mixed types
            positive = sorted(values, key=str)[-1]
    return (ys == positive).astype(int).to_numpy(), (ps == positive).astype(int).to_numpy()


def group_rates(y: Any, pred: Any, groups: Any) -> dict[str, dict[str, float]]:
    """Per group: selection rate, true positive rate, false positive rate (NaN when undefined)."""
    import numpy as np

    out: dict[str, dict[str, float]] = {}
    for name in sorted(set(groups.tolist())):
        mask = np.asarray(groups == name)
        yg, pg = y[mask], pred[mask]
        out[str(name)] = {
            "selection": float(pg.mean()),
            "tpr": float(pg[yg == 1].mean()) if (yg == 1).any() else float("nan"),
            "fpr": float(pg[yg == 0].mean()) if (yg == 0).any() else float("nan"),
        }
    return out


def _spread(values: list[float]) -> float:
    defined = [v for v in values if v == v]
    return max(defined) - min(defined) if defined else 0.0


def parity_numpy(metric: str, rates: dict[str, dict[str, float]]) -> float:
    """fairlearn's between-groups differences, from per-group rates (used without fairlearn)."""
    if metric == "demographic_parity_difference":
        return _spread([r["selection"] for r in rates.values()])
    # equalized odds, worst case: the larger of the TPR and FPR spreads
    return max(_spread([r["tpr"] for r in rates.values()]), _spread([r["fpr"] for r in rates.values()]))


def bias(gate: dict[str, Any], frame: Any) -> tuple[bool, str]:
    feature, metric = gate["sensitive_feature"], gate["metric"]
    if feature not in frame.columns:
        features = ", ".join(c for c in frame.columns if not str(c).startswith("__"))
        return False, f"`{feature}` is not in the evaluation split (features: {features})"
    if "__pred__" not in frame.columns or "__label__" not in frame.columns:
        return False, "the evaluation split has no __label__/__pred__ columns"
    try:
        y, pred = binarize(frame["__label__"], frame["__pred__"])
    except ValueError as exc:
        return False, str(exc)
    col = frame[feature]
    groups = col.astype(object).where(col.notna(), "(missing)").astype(str).to_numpy()
    rates = group_rates(y, pred, groups)
    try:
        from fairlearn import metrics as fm

        fn = (
            fm.demographic_parity_difference
            if metric == "demographic_parity_difference"
            else fm.equalized_odds_difference
        )
        value = float(fn(y, pred, sensitive_features=groups))
    except ImportError:
        value = parity_numpy(metric, rates)
    if value != value:  # fairlearn answers NaN when a rate is undefined in some group
        value = parity_numpy(metric, rates)
    ok = value <= float(gate["max"])
    return ok, f"{metric} = {value:.4f} across {len(rates)} groups of {feature}" + _rates_text(metric, rates)


def _rates_text(metric: str, rates: dict[str, dict[str, float]]) -> str:
    if len(rates) > MAX_GROUPS_SHOWN:
        return ""
    if metric == "demographic_parity_difference":
        parts = [f"{g} {r['selection']:.2f}" for g, r in rates.items()]
        return f" (selection rate: {', '.join(parts)})"
    parts = [f"{g} {r['tpr']:.2f}/{r['fpr']:.2f}" for g, r in rates.items()]
    return f" (TPR/FPR: {', '.join(parts)})"


def manual_approval(gate: dict[str, Any], approvers: list[str]) -> tuple[bool, str]:
    need = int(gate.get("approvers") or 1)
    who = ", ".join(approvers) if approvers else "none"
    return len(approvers) >= need, f"{len(approvers)} of {need} approvals ({who})"
