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

# Attributes a kind exposes beyond its fields, usable as ${kind.name.attr}. Known after apply.
COMPUTED: dict[str, frozenset[str]] = {
    "dataset": frozenset({"id", "version", "rows", "columns", "path"}),
    "feature_group": frozenset({"id", "source_version", "store"}),
    "training_pipeline": frozenset({"id"}),
    "model": frozenset({"id", "name", "latest_version", "aliases"}),
    "registry_policy": frozenset({"id"}),
    "endpoint": frozenset({"id", "url", "status", "serving_version"}),
    "monitor": frozenset({"id", "reference_profile"}),
}


# Each rule takes a validated mapping and raises ValueError (pydantic reports it as a
# value_error at the mapping). A model's `@model_validator` named `_<rule>` calls the rule of
# that name; the compiler maps the validator to it by that name.


def one_way_to_train(v: Mapping[str, Any]) -> None:
    if (v.get("estimator") is None) == (v.get("entrypoint") is None):
        raise ValueError("give exactly one of `estimator` or `entrypoint`")


def gate_has_bound(v: Mapping[str, Any]) -> None:
    if v.get("min") is None and v.get("max") is None:
        raise ValueError("a metric_threshold gate needs `min` or `max`")


def s3_backend_complete(v: Mapping[str, Any]) -> None:
    if v.get("type") == "s3" and not (v.get("bucket") and v.get("key")):
        raise ValueError("an s3 backend needs `bucket` and `key`")


RULES = {f.__name__: f for f in (one_way_to_train, gate_has_bound, s3_backend_complete)}
