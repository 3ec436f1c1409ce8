"""What holds of the kinds beyond their fields' types: names, computed attributes and the
cross-field rules. Plain Python, no pydantic: `kinds.py` (the models) and `kind_check.py` (the
compiled validators `validate` and `plan` run) both take them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KIND_NAMES = (
    "dataset",
    "feature_group",
    "training_pipeline",
    "model",
    "registry_policy",
    "endpoint",
    "monitor",
)

PROVIDER_BLOCKS = ("local", "sagemaker", "vertex", "databricks")

META_ARGUMENTS = frozenset({"provider", "depends_on", "lifecycle"})

# Fields that name another resource, by kind: (field path, the kind it names); "*" stands for
# any list index. Written `${kind.NAME}`, a reference there must be to that kind.
REFERENCES: dict[str, dict[tuple[str, ...], str]] = {
    "feature_group": {("source",): "dataset"},
    "training_pipeline": {("inputs", "*"): "feature_group", ("labels",): "dataset", ("registers",): "model"},
    "registry_policy": {("model",): "model"},
    "endpoint": {("model",): "model"},
    "monitor": {
        ("endpoint",): "endpoint",
        ("baseline",): "dataset",
        ("on_drift", "retrain"): "training_pipeline",
    },
}

# Durations. A call's time limit is written as Terraform writes its timeouts (30m, 1h30m); an
# on_drift cooldown as a number and one unit (90s, 30m, 1.5h, 2d; a bare number is seconds).
TIMEOUT_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
COOLDOWN_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*[smhd]?\s*$"
# What a value that misses a pattern should look like: (what it is, the hint).
PATTERNS = {
    TIMEOUT_PATTERN: ("a duration", "write hours, minutes and seconds, e.g. 90s, 30m, 1h or 1h30m"),
    COOLDOWN_PATTERN: ("a duration", "write a number and a unit (s, m, h or d), e.g. 90s, 30m, 1h or 2d"),
}

# The attributes each kind computes beyond its fields (${kind.name.attr}) are declared by its
# provider (mlops_decl.provider_schema); every kind has an `id`.


# Each rule takes a validated mapping and raises ValueError (pydantic reports it as a
# value_error at the mapping). A model's `@model_validator` named `_<rule>` calls the rule of
# that name; the compiler maps the validator to it by that name.


def one_way_to_train(v: Mapping[str, Any]) -> None:
    if (v.get("estimator") is None) == (v.get("entrypoint") is None):
        raise ValueError("give exactly one of `estimator` or `entrypoint`")


def gate_has_bound(v: Mapping[str, Any]) -> None:
    if v.get("min") is None and v.get("max") is None:
        raise ValueError("a metric_threshold gate needs `min` or `max`")


RULES = {f.__name__: f for f in (one_way_to_train, gate_has_bound)}
