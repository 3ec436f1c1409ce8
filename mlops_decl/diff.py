"""Attribute-level comparison, free of side effects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlops_decl.config.expressions import UNKNOWN


def same(a: Any, b: Any) -> bool:
    if a is UNKNOWN or b is UNKNOWN:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (a == b and type(a) is type(b))
    return bool(a == b)


def changed_fields(desired: dict[str, Any], prior: dict[str, Any], *, keys: Iterable[str]) -> list[str]:
    """Top-level attributes whose desired value differs from the prior one."""
    return sorted(k for k in keys if not same(desired.get(k), prior.get(k)))
