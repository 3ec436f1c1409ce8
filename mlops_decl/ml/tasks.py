"""The metrics a training run logs, by task. Every provider's training logs these names for
its task, so registry gates can be checked against them before anything runs."""

from __future__ import annotations

TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "auc", "f1", "log_loss", "precision", "recall"),
    "regression": ("mae", "r2", "rmse"),
}
ALL_METRICS: tuple[str, ...] = tuple(sorted({m for names in TASK_METRICS.values() for m in names}))


def task_of_metric(metric: str) -> str | None:
    """The task whose runs log `metric`, or None for a name no task logs."""
    return next((task for task, names in TASK_METRICS.items() if metric in names), None)
