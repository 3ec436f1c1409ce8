"""Promotion gates, evaluated on a model version's logged run and its evaluation split."""

from __future__ import annotations

from typing import Any

LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})


def label(gate: dict[str, Any]) -> str:
    t = gate["type"]
    if t == "metric_threshold":
        bounds = [
            f"{gate['metric']} >= {gate['min']}" if gate.get("min") is not None else "",
            f"{gate['metric']} <= {gate['max']}" if gate.get("max") is not None else "",
        ]
        return " and ".join(b for b in bounds if b)
    if t == "champion_comparison":
        return f"{gate['metric']} vs champion (min delta {gate.get('min_delta', 0.0)})"
    if t == "bias":
        return f"{gate['metric']} by {gate['sensitive_feature']} <= {gate['max']}"
    if t == "manual_approval":
        return f"manual approval ({gate.get('approvers', 1)} needed)"
    return t


def metric_threshold(gate: dict[str, Any], metrics: dict[str, float]) -> tuple[bool, str]:
    name = gate["metric"]
    if name not in metrics:
        return False, f"the run logged no `{name}` (logged: {', '.join(sorted(metrics)) or 'none'})"
    value = metrics[name]
    ok = (gate.get("min") is None or value >= gate["min"]) and (
        gate.get("max") is None or value <= gate["max"]
    )
    return ok, f"{name} = {value:.4f}"


def metric_on(frame: Any, metric: str, pred: Any, score: Any) -> float:
    """A metric of predictions on an evaluation split (labels in __label__)."""
    from sklearn import metrics as m

    y = frame["__label__"]
    if metric == "auc":
        return float(m.roc_auc_score(y, score))
    if metric == "log_loss":
        return float(m.log_loss(y, score))
    if metric == "accuracy":
        return float(m.accuracy_score(y, pred))
    if metric in ("f1", "precision", "recall"):
        fn = {"f1": m.f1_score, "precision": m.precision_score, "recall": m.recall_score}[metric]
        return float(fn(y, pred, zero_division=0))
    if metric == "rmse":
        return float(m.mean_squared_error(y, pred) ** 0.5)
    if metric == "mae":
        return float(m.mean_absolute_error(y, pred))
    if metric == "r2":
        return float(m.r2_score(y, pred))
    raise ValueError(f"unknown metric `{metric}`")


def champion_comparison(
    gate: dict[str, Any], candidate: float, champion: float | None, champion_version: int | None
) -> tuple[bool, str]:
    metric, delta = gate["metric"], float(gate.get("min_delta", 0.0))
    if champion is None:
        return True, "no champion yet"
    gain = (champion - candidate) if metric in LOWER_IS_BETTER else (candidate - champion)
    ok = gain >= delta
    return (
        ok,
        f"{metric} {candidate:.4f} vs champion v{champion_version} {champion:.4f} (delta {gain:+.4f}, needs >= {delta:+.4f})",
    )


def bias(gate: dict[str, Any], frame: Any) -> tuple[bool, str]:
    feature = gate["sensitive_feature"]
    if feature not in frame.columns:
        return (
            False,
            f"`{feature}` is not in the evaluation split (features: {', '.join(c for c in frame.columns if not c.startswith('__'))})",
        )
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    fn = (
        demographic_parity_difference
        if gate["metric"] == "demographic_parity_difference"
        else equalized_odds_difference
    )
    value = float(fn(frame["__label__"], frame["__pred__"], sensitive_features=frame[feature]))
    return value <= float(
        gate["max"]
    ), f"{gate['metric']} = {value:.4f} across {frame[feature].nunique()} groups of {feature}"


def manual_approval(gate: dict[str, Any], approvers: list[str]) -> tuple[bool, str]:
    need = int(gate.get("approvers", 1))
    who = ", ".join(approvers) if approvers else "none"
    return len(approvers) >= need, f"{len(approvers)} of {need} approvals ({who})"
