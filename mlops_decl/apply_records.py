"""What an apply records besides the objects it changes: what its refresh saw, each object's
lifecycle.prevent_destroy, its audit entry and the audit log's anchor in the state."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from mlops_decl.plan import SENSITIVE, Action, Plan, unmask
from mlops_decl.state.model import ResourceState, State
from mlops_decl.state.store import StateStore
from mlops_decl.workspace import Workspace

if TYPE_CHECKING:
    from mlops_decl.apply import ApplyResult


def check_audit_log(ws: Workspace) -> None:
    """A damaged audit log refuses the apply before it changes anything (StateFileError)."""
    from mlops_decl.audit import audit_log

    last = getattr(audit_log(ws.root, ws.project.settings.backend).store, "last", None)
    if last is not None:
        last()


def audit_apply(ws: Workspace, plan: Plan, result: ApplyResult, store: StateStore) -> None:
    """The apply's entry, then the log's anchor in the state (mlops_decl/audit.py)."""
    import hashlib
    import json

    from mlops_decl.audit import audit_log

    plan_hash = hashlib.sha256(json.dumps(plan.to_json(), sort_keys=True, default=str).encode()).hexdigest()
    log = audit_log(ws.root, ws.project.settings.backend)
    log.append(
        "apply",
        {
            "mode": plan.mode,
            "plan_hash": plan_hash,
            "config_hash": plan.config_hash,
            "changes": [{"address": a, "action": act.value} for a, act in result.done],
            "failed": [d.address for d in result.failed],
            "skipped": sorted(result.skipped),
            "interrupted": sorted(result.cancelled) if result.interrupted else [],
            "abandoned": sorted(result.abandoned),
            "counts": {
                "add": result.count(Action.CREATE) + result.count(Action.REPLACE),
                "change": result.count(Action.UPDATE),
                "destroy": result.count(Action.DELETE) + result.count(Action.REPLACE),
            },
            "ok": result.ok,
        },
    )
    anchor = log.anchor()  # the log's end: this entry, or one appended since
    if anchor is not None:
        store.record_audit(anchor)


def refresh_changes_state(plan: Plan, state: State) -> bool:
    """Whether applying plan's refresh alone would change the state: an apply with nothing
    else to do then writes (and audits) nothing."""
    for address, live in plan.refreshed.items():
        rs = state.resources.get(address)
        if rs is None:
            continue
        if live is None or unmask(live, rs.attributes) != rs.attributes:
            return True
    return False


def record_refresh(plan: Plan, store: StateStore, state: State) -> None:
    """Keep what the refresh saw: objects gone behind our back leave state, changed ones update."""
    for address, live in plan.refreshed.items():
        rs = state.resources.get(address)
        if rs is None:
            continue
        if live is None:
            change = plan.changes.get(address)
            if rs.status and change is not None and change.action is Action.DELETE:
                continue  # a half-made object: its delete runs with what the state holds
            if plan.mode == "refresh-only" or change is not None or plan.mode == "destroy":
                store.remove_resource(address)
            continue
        if SENSITIVE in live.values():  # a saved plan: its sensitive values come from the state
            live = unmask(live, rs.attributes) or {}
        if live != rs.attributes:
            keys = sorted(set(rs.sensitive_paths) | set(plan.sensitive.get(address, ())))
            store.put_resource(
                ResourceState(
                    rs.address,
                    rs.kind,
                    rs.provider,
                    rs.id,
                    live,
                    list(rs.dependencies),
                    keys,
                    rs.status,
                    rs.prevent_destroy,
                )
            )


def _lifecycle_updates(plan: Plan, state: State) -> list[ResourceState]:
    """Objects whose recorded lifecycle.prevent_destroy differs from what is configured now."""
    if plan.mode == "destroy":
        return []
    out = []
    for address, change in plan.changes.items():
        rs = state.resources.get(address)
        if rs is None or change.action is not Action.NOOP or address not in plan.bodies:
            continue
        want = prevents_destroy(plan.bodies[address])
        if rs.prevent_destroy != want:
            out.append(dataclasses.replace(rs, prevent_destroy=want))
    return out


def record_lifecycle(plan: Plan, store: StateStore, state: State) -> None:
    """Keep each object's lifecycle.prevent_destroy as configured now, also when nothing else
    about it changes, so it still guards the object once its block is removed."""
    for rs in _lifecycle_updates(plan, state):
        store.put_resource(rs)


def apply_changes_state(plan: Plan, state: State) -> bool:
    """Whether applying a plan with no changes would still change the state (what its refresh
    saw, or a lifecycle flag): otherwise such an apply writes (and audits) nothing."""
    return refresh_changes_state(plan, state) or bool(_lifecycle_updates(plan, state))


def prevents_destroy(body: dict[str, Any] | None) -> bool:
    return bool(((body or {}).get("lifecycle") or {}).get("prevent_destroy"))
