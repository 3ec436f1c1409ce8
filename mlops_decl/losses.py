"""What a delete takes along that the plan has no line for: destroying a model deletes every
version it registered and the aliases on them, and leaves any endpoint serving one without a
model. The plan says so per model it deletes or replaces (Change.losses), before anything runs.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.diagnostics import DiagnosticError
from mlops_decl.plan import Action, Plan
from mlops_decl.provider import ProviderError
from mlops_decl.state.model import State
from mlops_decl.workspace import Workspace


def list_losses(ws: Workspace, state: State, plan: Plan) -> None:
    """Fill Change.losses of every model change that deletes the live model."""
    doomed = [
        c
        for c in plan.changes.values()
        if c.kind == "model" and c.action in (Action.DELETE, Action.REPLACE) and c.before is not None
    ]
    if not doomed:
        return
    from mlops_decl.runtime import Runtime

    rt = Runtime(ws, state, emit=lambda _msg: None)
    for c in doomed:
        rs = state.resources[c.address]
        versions, aliases = _versions(rt, c.address, c.before or {})
        endpoints = {
            address: {
                # as the refresh just read it: which version an alias points at moves on its own
                "serving": (plan.refreshed.get(address) or e.attributes).get("serving_version"),
                "destroyed": address in plan.changes
                and plan.changes[address].action in (Action.DELETE, Action.REPLACE),
            }
            for address, e in sorted(state.resources.items())
            if e.kind == "endpoint" and e.attributes.get("model") == rs.id
        }
        c.losses = {"versions": versions, "aliases": aliases, "endpoints": endpoints}


def _versions(rt: Any, address: str, live: dict[str, Any]) -> tuple[list[int] | None, dict[str, int]]:
    """(version numbers, alias -> version) from the provider's registry; from the refreshed
    attributes (aliases only) when it cannot list them. None: the versions are not known."""
    aliases = {str(k): int(v) for k, v in (live.get("aliases") or {}).items() if isinstance(v, int)}
    try:
        if rt.can(address, "list_versions"):
            got = rt.call(address, "list_versions", "model")
            return sorted(v.version for v in got.versions), {k: int(v) for k, v in got.aliases.items()}
    except (DiagnosticError, ProviderError):
        pass  # the plan still says what it knows
    latest = live.get("latest_version")
    return (None if isinstance(latest, int) and latest > 0 else []), aliases
