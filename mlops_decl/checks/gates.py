"""Registry gates against what the pipelines registering the model log: a metric gate names
a metric their task logs (`aucc`, or `rmse` on a classifier, is a gate no version can pass),
a bias gate a feature the model is trained on, and a classifier to judge."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

from mlops_decl.checks.classpath import inspect_class_path
from mlops_decl.config.expressions import UNKNOWN, Ref, render, whole_ref
from mlops_decl.config.project import Project, ResourceConfig
from mlops_decl.diagnostics import Diagnostic
from mlops_decl.ml.tasks import ALL_METRICS, TASK_METRICS, task_of_metric

Lookup = Callable[[Ref], Any]
METRIC_GATES = ("metric_threshold", "champion_comparison")


def check_gates(project: Project, rc: ResourceConfig, lookup: Lookup) -> list[Diagnostic]:
    model = whole_ref(rc.body.get("model"))
    gates = rc.body.get("gates")
    if model is None or not isinstance(gates, list):
        return []
    pipelines = [
        p
        for p in project.resources.values()
        if p.kind == "training_pipeline" and _address(p.body.get("registers")) == model.address
    ]
    if not pipelines:
        return []  # versions come from elsewhere: nothing to say what they log
    tasks = {p.address: task_of(p, lookup) for p in pipelines}
    out: list[Diagnostic] = []
    for i, gate in enumerate(gates):
        if not isinstance(gate, dict):
            continue
        if gate.get("type") in METRIC_GATES:
            out.extend(_metric(rc, i, _value(gate.get("metric"), lookup), tasks))
        elif gate.get("type") == "bias":
            out.extend(
                _bias(project, rc, i, _value(gate.get("sensitive_feature"), lookup), pipelines, tasks, lookup)
            )
    return out


def _value(value: Any, lookup: Lookup) -> Any:
    got = render(value, lookup)
    return None if got is UNKNOWN else got


def _address(value: Any) -> str | None:
    ref = whole_ref(value)
    return ref.address if ref is not None and ref.kind != "var" else None


def task_of(p: ResourceConfig, lookup: Lookup) -> tuple[str, str] | None:
    """(task, why) of a pipeline: its `task`, else what its estimator class is; None when
    only its data will tell."""
    task = _value(p.body.get("task"), lookup)
    if task in TASK_METRICS:
        return str(task), f"task: {task}"
    estimator = _value(p.body.get("estimator"), lookup)
    if isinstance(estimator, str):
        found = inspect_class_path(estimator).task
        if found:
            kind = "a classifier" if found == "classification" else "a regressor"
            return found, f"its estimator {estimator.rpartition('.')[2]} is {kind}"
    return None


def _metric(
    rc: ResourceConfig, i: int, metric: Any, tasks: dict[str, tuple[str, str] | None]
) -> Iterator[Diagnostic]:
    if not isinstance(metric, str):
        return
    src = rc.source(("gates", i, "metric"))
    if metric not in ALL_METRICS:
        named = [t[0] for t in tasks.values() if t is not None]
        every = len(named) == len(tasks)
        logged = sorted({m for t in named for m in TASK_METRICS[t]} if every else ALL_METRICS)
        close = difflib.get_close_matches(metric, logged, n=1)
        yield Diagnostic(
            f"{rc.address}: gates[{i}]: `{metric}` is not a metric training runs log",
            src,
            (f"did you mean `{close[0]}`? " if close else "") + "runs log: " + ", ".join(logged),
        )
        return
    for address, known in tasks.items():
        if known is None or metric in TASK_METRICS[known[0]]:
            continue
        task, why = known
        yield Diagnostic(
            f"{rc.address}: gates[{i}]: `{metric}` is a {task_of_metric(metric)} metric, but {address} "
            f"trains for {task} ({why}), whose runs log: {', '.join(TASK_METRICS[task])}",
            src,
            f"gate on one of those, or set `task:` on {address} if it is not a {task} pipeline",
        )


def _bias(
    project: Project,
    rc: ResourceConfig,
    i: int,
    feature: Any,
    pipelines: list[ResourceConfig],
    tasks: dict[str, tuple[str, str] | None],
    lookup: Lookup,
) -> Iterator[Diagnostic]:
    for p in pipelines:
        known = tasks[p.address]
        if known is not None and known[0] == "regression":
            yield Diagnostic(
                f"{rc.address}: gates[{i}]: a bias gate compares a classifier's decisions across groups, "
                f"but {p.address} trains for regression ({known[1]})",
                rc.source(("gates", i, "type")),
                "remove the gate, or register a classifier's versions under this model",
            )
            continue
        names = trained_features(project, p, lookup)
        if not isinstance(feature, str) or names is None or feature in names:
            continue
        close = difflib.get_close_matches(feature, names, n=1)
        yield Diagnostic(
            f"{rc.address}: gates[{i}]: sensitive_feature `{feature}` is not a feature {p.address} trains on",
            rc.source(("gates", i, "sensitive_feature")),
            (f"did you mean `{close[0]}`? " if close else "")
            + "its features: "
            + (", ".join(names) or "(none)"),
        )


def trained_features(project: Project, p: ResourceConfig, lookup: Lookup) -> list[str] | None:
    """The feature columns a pipeline trains on, as its inputs declare them: every input's
    features but the first input's entity keys and event time, and the label; None when the
    config does not say (an input not declared here, a value known only at apply)."""
    inputs = p.body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        return None
    groups = [project.resources.get(_address(v) or "") for v in inputs]
    if any(g is None or g.kind != "feature_group" for g in groups):
        return None
    first = groups[0]
    assert first is not None
    label = _value(p.body.get("label"), lookup)
    entity = _value(first.body.get("entity"), lookup)
    excluded = {label, _value(first.body.get("event_time"), lookup)}
    excluded.update(entity if isinstance(entity, list) else [])
    names: list[str] = []
    for g in groups:
        assert g is not None
        features = _value(g.body.get("features"), lookup)
        if not isinstance(features, list):
            return None
        for f in features:
            name = f.get("name") if isinstance(f, dict) else None
            if not isinstance(name, str):
                return None
            if name not in excluded and name not in names:
                names.append(name)
    return names
