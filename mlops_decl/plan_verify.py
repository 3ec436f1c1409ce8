"""A saved plan is applied only as far as it follows from what it records.

The checksums `plan` writes catch a careless edit, but anyone can recompute them. So before
`apply PLANFILE` changes anything, the plan is derived again, without reading any live object:
from the config bodies it records (which must be the configuration on disk), the variable
values it records, what its refresh read, and the state it was made against (the same serial).
Every change must come out the same: its action, provider, prior object, dependencies and
every known planned value. What a plan file cannot prove is which inputs it was made with
(variable values, --target, --replace, --destroy): those are taken as recorded, and shown by
`show PLANFILE`.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.config.expressions import contains_unknown
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.diff import same
from mlops_decl.plan import Change, Plan, unmask
from mlops_decl.state.model import State
from mlops_decl.workspace import Workspace

_MISSING = object()
AGAIN = "the plan file was altered after review; make a new one with `mlops-decl plan -out FILE`"


def stale(plan: Plan, state: State) -> Diagnostic | None:
    """Why plan cannot apply to state (another write came between), or None."""
    fresh = state.serial == 0 and plan.serial == 0 and not state.resources  # no state yet: no lineage either
    # Writes that only anchored the audit log (a run, a drift check) leave the plan current.
    current = state.content_serial() <= plan.serial <= state.serial
    if fresh or (state.lineage == plan.lineage and current):
        return None
    return Diagnostic(
        "the saved plan is stale: the state changed since it was made "
        f"(plan: serial {plan.serial}, state: serial {state.serial})",
        hint="run `mlops-decl plan -out FILE` again",
    )


def verify_saved_plan(ws: Workspace, state: State, plan: Plan, name: str) -> None:
    """Raise DiagnosticError naming each resource and field where plan (the file `name`)
    does not follow from its recorded inputs. ws carries the plan's variable values."""
    from mlops_decl.planner import PlanOptions, make_plan

    problem = stale(plan, state)
    if problem is not None:
        raise DiagnosticError(problem)
    errors = _body_errors(ws, plan, name)
    if errors:
        raise DiagnosticError(errors)
    recorded = {
        a: None if live is None else unmask(live, state.resources[a].attributes)
        for a, live in plan.refreshed.items()
        if a in state.resources
    }
    opts = PlanOptions(
        targets=list(plan.targets),
        replace=list(plan.replace),
        mode=plan.mode,
        refresh=False,
        recorded=recorded,
    )
    again = make_plan(ws, state, opts)
    for address in sorted(set(plan.changes) | set(again.changes)):
        ours, theirs = plan.changes.get(address), again.changes.get(address)
        if ours is None or theirs is None:
            planned = "absent" if ours is None else f"a {ours.action.value} change"
            errors.append(
                _differs(name, address, "the change", planned, "a change" if ours is None else "none")
            )
            continue
        found = _first_difference(ours, theirs)
        if found is not None:
            what, planned, derived = found
            hidden = what.startswith("after.") and what[6:] in set(ours.sensitive_paths) | set(
                theirs.sensitive_paths
            )
            errors.append(
                _differs(
                    name,
                    address,
                    what,
                    *(("(sensitive)",) * 2 if hidden else (_show(planned), _show(derived))),
                )
            )
    if errors:
        raise DiagnosticError(errors)


def _body_errors(ws: Workspace, plan: Plan, name: str) -> list[Diagnostic]:
    """The recorded bodies must be the configuration the plan's file digests vouch for."""
    errors = []
    config = ws.project.resources
    for address in sorted(set(plan.bodies) | set(config)):
        body, rc = plan.bodies.get(address), config.get(address)
        if rc is None or body is None:
            where = "the configuration" if rc is None else name
            errors.append(
                Diagnostic(f"{address}: {name} records a config body that {where} does not have", hint=AGAIN)
            )
            continue
        key = next(
            (
                k
                for k in sorted(set(body) | set(rc.body))
                if body.get(k, _MISSING) != rc.body.get(k, _MISSING)
            ),
            None,
        )
        if key is not None:
            errors.append(
                Diagnostic(
                    f"{address}: `{key}` in the config body {name} records is {_show(body.get(key, _MISSING))}, "
                    f"the configuration says {_show(rc.body.get(key, _MISSING))}",
                    rc.source((key,)) if key in rc.body else rc.source(key=True),
                    hint=AGAIN,
                    address=address,
                )
            )
    return errors


def _first_difference(ours: Change, theirs: Change) -> tuple[str, Any, Any] | None:
    """(field, planned, derived) for the first field where the saved change departs."""
    for attr in ("action", "kind", "provider", "prior_id", "create_before_destroy"):
        a, b = getattr(ours, attr), getattr(theirs, attr)
        if a != b:
            return attr, getattr(a, "value", a), getattr(b, "value", b)
    if sorted(ours.dependencies) != sorted(theirs.dependencies):
        return "dependencies", sorted(ours.dependencies), sorted(theirs.dependencies)
    if (ours.after is None) != (theirs.after is None):
        return "after", ours.after, theirs.after
    mine, derived = ours.after or {}, theirs.after or {}
    for key in sorted(set(mine) | set(derived)):
        a, b = mine.get(key, _MISSING), derived.get(key, _MISSING)
        if a is not _MISSING and b is not _MISSING and (contains_unknown(a) or contains_unknown(b)):
            continue  # computed at apply either way (sensitive values are always left to apply)
        if a is _MISSING or b is _MISSING or not same(a, b):
            return f"after.{key}", a, b
    return None


def _differs(name: str, address: str, what: str, planned: str, derived: str) -> Diagnostic:
    return Diagnostic(
        f"{address}: `{what}` in {name} is {planned}, but the configuration and variable "
        f"values it records give {derived}; it is not the plan that was reviewed",
        hint=AGAIN,
        address=address,
    )


def _show(value: Any) -> str:
    if value is _MISSING:
        return "absent"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
