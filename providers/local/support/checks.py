"""The local provider's plan-time checks (Handler.validate): what its data and its Python can
tell before anything is applied. The checks themselves are the engine's
(mlops_decl.checks.data); this module finds the local files they read."""

from __future__ import annotations

import csv

from mlops_decl.checks.classpath import inspect_class_path
from mlops_decl.checks.data import (
    Sample,
    feature_group_problems,
    label_problems,
    monitor_problems,
    read_sample,
)
from mlops_decl.provider import UNKNOWN, Attributes, CheckContext, ConfigError

from ..client import LocalEnv
from ..stores.files import detect_format, resolve_uri


def problems(env: LocalEnv, kind: str, desired: Attributes, ctx: CheckContext) -> list[ConfigError]:
    if kind == "feature_group":
        source = desired.get("source")
        sample = _sample(env, ctx, source)
        return feature_group_problems(desired, sample, str(source)) if sample is not None else []
    if kind == "training_pipeline":
        return _estimator(desired) + _label(env, ctx, desired)
    if kind == "monitor":
        baseline = desired.get("baseline")
        sample = _sample(env, ctx, baseline)
        return monitor_problems(desired, sample, str(baseline)) if sample is not None else []
    return []


def _sample(env: LocalEnv, ctx: CheckContext, dataset: object) -> Sample | None:
    """The header and first rows of a dataset in this plan, and for a longer CSV file a check
    of the rest; None when it is not known yet or does not read (its own plan says why)."""
    if not isinstance(dataset, str) or dataset is UNKNOWN:
        return None
    attrs = ctx.resource("dataset", dataset)
    if not attrs or not isinstance(attrs.get("uri"), str):
        return None
    try:
        path = resolve_uri(attrs["uri"], env.project_dir)
        fmt = detect_format(path, attrs.get("format"))
        sample = read_sample(path, fmt)
    except (ConfigError, OSError, UnicodeDecodeError, csv.Error, ValueError):
        return None
    if fmt == "csv" and not sample.complete:
        from .csv_scan import scan_rest

        sample.rest = scan_rest(path, attrs.get("version"), env.data_dir / "data_checks.json")
    return sample


def _estimator(desired: Attributes) -> list[ConfigError]:
    """An estimator is trained in this process: its module must be installed here."""
    path = desired.get("estimator")
    missing = inspect_class_path(path).missing_module if isinstance(path, str) else None
    if not missing:
        return []
    return [
        ConfigError(
            f"cannot import estimator `{path}`: no module named `{missing}` in this Python",
            field=("estimator",),
            hint="install the package that provides it where mlops-decl runs, or fix the class path",
        )
    ]


def _label(env: LocalEnv, ctx: CheckContext, desired: Attributes) -> list[ConfigError]:
    """The label is a column of the spine: the `labels` dataset, else the first input's source."""
    spine = desired.get("labels")
    inputs = desired.get("inputs")
    if not spine and isinstance(inputs, list) and inputs and isinstance(inputs[0], str):
        group = ctx.resource("feature_group", inputs[0]) or {}
        spine = group.get("source")
    sample = _sample(env, ctx, spine)
    return label_problems(desired, sample, str(spine)) if sample is not None else []
