"""The outputs a plan shows: each output's value before and after, and whether it changed."""

from __future__ import annotations

from typing import Any

from mlops_decl.config.expressions import UNKNOWN, iter_refs, render
from mlops_decl.state.model import State
from mlops_decl.workspace import Workspace


def plan_outputs(ws: Workspace, state: State, lookup: Any, mode: str) -> dict[str, dict[str, Any]]:
    out = {}
    for name, oc in ws.project.outputs.items():
        after = None if mode == "destroy" else render(oc.value, lookup)
        before = (state.outputs.get(name) or {}).get("value")
        sensitive = oc.sensitive or _mentions_sensitive(oc.value, ws.variables.sensitive)
        out[name] = {
            "before": before,
            "after": after,
            "sensitive": sensitive,
            "changed": after is UNKNOWN or after != before,
        }
    return out


def _mentions_sensitive(value: Any, sensitive: set[str]) -> bool:
    return any(text.startswith("var.") and text[4:] in sensitive for text, _ in iter_refs(value))
