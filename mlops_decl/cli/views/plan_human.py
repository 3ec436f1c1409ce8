"""Plans rendered the way Terraform prints them."""

from __future__ import annotations

import functools
import json
from typing import Any

import click

from mlops_decl.config.expressions import UNKNOWN
from mlops_decl.plan import Action, Change, Plan

_COLOR = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.REPLACE: "magenta", Action.DELETE: "red"}
_VERB = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in-place",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be destroyed",
}


@functools.cache
def _codes(fg: str | None, bold: bool) -> tuple[str, str]:
    """The escape codes click.style puts around text (empty without colour support)."""
    start, _, end = click.style("\0", fg=fg, bold=bold or None).partition("\0")
    return start, end


def _style(text: str, fg: str | None = None, bold: bool = False) -> str:
    """click.style, with the codes looked up once: a plan of 10,000 resources styles ~70,000
    pieces, and click.style rebuilds its codes on every call."""
    start, end = _codes(fg, bold)
    return start + text + end


def fmt_value(value: Any) -> str:
    if value is UNKNOWN:
        return "(known after apply)"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return _fmt_nested(value)
    return str(value)


def _fmt_nested(value: Any, indent: int = 6) -> str:
    """Inline when short, else one item a line like Terraform; nulls inside are left out."""
    if isinstance(value, dict):
        items = {k: v for k, v in value.items() if v is not None}
        if not items:
            return "{}"
        inline = "{ " + ", ".join(f"{k} = {fmt_value(v)}" for k, v in items.items()) + " }"
        if len(inline) <= 72:
            return inline
        pad = " " * (indent + 4)
        width = max(len(k) for k in items)
        body = "\n".join(f"{pad}{k.ljust(width)} = {_fmt_nested(v, indent + 4)}" for k, v in items.items())
        return "{\n" + body + "\n" + " " * indent + "}"
    if isinstance(value, list):
        inline = "[" + ", ".join(fmt_value(v) for v in value) + "]"
        if len(inline) <= 72:
            return inline
        pad = " " * (indent + 4)
        body = "\n".join(f"{pad}{_fmt_nested(v, indent + 4)}," for v in value)
        return "[\n" + body + "\n" + " " * indent + "]"
    return fmt_value(value)


def _shown(value: Any) -> bool:
    return value is not None and value != {} and value != []


def render_change(c: Change) -> list[str]:
    sym = c.action.symbol
    color = _COLOR.get(c.action)
    lines = [_style(f"  # {c.address} {_VERB[c.action]}", bold=True)]
    if c.reason:
        lines[0] += f" ({c.reason})"
    head = f"{sym} resource {json.dumps(c.kind)} {json.dumps(c.name)} {{"
    lines.append(_style(head.rjust(len(head) + (4 - len(sym) - 1)), fg=color) if color else head)
    before = c.before or {}
    after = c.after or {}
    keys = sorted(set(before) | set(after)) if c.action is not Action.CREATE else sorted(after)
    sensitive = set(c.sensitive_paths)
    width = max((len(k) for k in keys), default=0)
    hidden = 0
    if c.prior_id is not None and c.action in (Action.UPDATE, Action.REPLACE):
        lines.append(f"        {'id'.ljust(width)} = {json.dumps(c.prior_id)}")
    for k in keys:
        b, a = before.get(k), after.get(k)
        shown_b = "(sensitive value)" if k in sensitive else fmt_value(b)
        shown_a = "(sensitive value)" if k in sensitive else fmt_value(a)
        if c.action is Action.CREATE:
            if _shown(a) or a is UNKNOWN:
                lines.append(_style("      + ", fg="green") + f"{k.ljust(width)} = {shown_a}")
        elif c.action is Action.DELETE:
            if _shown(b):
                lines.append(_style("      - ", fg="red") + f"{k.ljust(width)} = {shown_b} -> null")
        elif k in c.changed or (a is UNKNOWN and b is not UNKNOWN):
            forced = any(p == k or p.startswith(k + ".") for p in c.replace_paths)
            force = _style(" # forces replacement", fg="magenta") if forced else ""
            if b is None:
                lines.append(_style("      + ", fg="green") + f"{k.ljust(width)} = {shown_a}{force}")
            elif a is None:
                lines.append(_style("      - ", fg="red") + f"{k.ljust(width)} = {shown_b} -> null{force}")
            else:
                lines.append(
                    _style("      ~ ", fg="yellow") + f"{k.ljust(width)} = {shown_b} -> {shown_a}{force}"
                )
        else:
            hidden += 1
    if hidden:
        lines.append(f"        # ({hidden} unchanged attribute{'s' if hidden != 1 else ''} hidden)")
    lines.append("    }")
    if c.losses:
        lines.extend(_style(line, fg="red") for line in render_losses(c.address, c.losses))
    return lines


def render_losses(address: str, losses: dict[str, Any]) -> list[str]:
    """What deleting a model takes with it (mlops_decl/losses.py), plainly."""
    versions = losses.get("versions")
    if versions is None:
        listed = "all its versions (the provider cannot list them)"
    elif versions:
        n = len(versions)
        listed = f"{n} version{'s' if n != 1 else ''}: " + ", ".join(map(str, versions))
    else:
        listed = "no versions (none registered)"
    out = [f"    # Deleting {address} deletes {listed}"]
    aliases = losses.get("aliases") or {}
    if aliases:
        out.append("    #   and its aliases: " + ", ".join(f"{a} -> {v}" for a, v in sorted(aliases.items())))
    for endpoint, e in sorted((losses.get("endpoints") or {}).items()):
        serving = f"serves version {e['serving']}" if e.get("serving") is not None else "serves this model"
        fate = "destroyed too" if e.get("destroyed") else "it will have no model to serve"
        out.append(f"    #   {endpoint} {serving} ({fate})")
    return out


def render_plan(plan: Plan) -> str:
    out: list[str] = []
    if plan.drift:
        out.append(_style("Note: Objects have changed outside of mlops-decl", bold=True))
        out.append("")
        for d in plan.drift:
            what = "has been deleted" if d.gone else "has changed"
            out.append(f"  # {d.address} {what}")
        out.append("")
    active = [c for c in plan.changes.values() if c.action is not Action.NOOP]
    outputs_changed = {k: v for k, v in plan.outputs.items() if v.get("changed")}
    if not active and not outputs_changed:
        if plan.mode == "refresh-only" and plan.drift:
            out.append("Apply this plan to record the changes above in the state, without changing anything.")
        else:
            out.append(
                _style("No changes.", fg="green", bold=True) + " The platform matches the configuration."
            )
        return "\n".join(out) + "\n"
    if active:
        out.append("mlops-decl will perform the following actions:\n")
        order = {Action.DELETE: 0, Action.REPLACE: 1, Action.UPDATE: 2, Action.CREATE: 3}
        for c in sorted(active, key=lambda c: (c.address, order[c.action])):
            out.extend(render_change(c))
            out.append("")
    counts = plan.counts()
    out.append(
        _style("Plan:", bold=True) + f" {counts[Action.CREATE]} to add, {counts[Action.UPDATE]} to change,"
        f" {counts[Action.REPLACE]} to replace, {counts[Action.DELETE]} to destroy."
    )
    if outputs_changed:
        out.append("\nChanges to Outputs:")
        for name, o in sorted(outputs_changed.items()):
            after = "(sensitive value)" if o.get("sensitive") else fmt_value(o.get("after"))
            sym = "+" if o.get("before") is None else "~"
            if o.get("before") is None:
                out.append(f"  {sym} {name} = {after}")
            else:
                before = "(sensitive value)" if o.get("sensitive") else fmt_value(o.get("before"))
                out.append(f"  {sym} {name} = {before} -> {after}")
    return "\n".join(out) + "\n"


def render_inputs(plan: Plan) -> str:
    """What a saved plan was made with: apply derives its changes from these and the recorded
    configuration, and cannot tell whether they were the ones meant (mlops_decl/plan_verify.py)."""
    lines = [f"  mode: {plan.mode}"]
    lines += [f"  var.{k} = {json.dumps(v, default=str)}" for k, v in sorted(plan.variables.items())]
    lines += [f"  var.{k} = (sensitive)" for k in sorted(plan.sensitive_variables)]
    lines += [f"  -target {a}" for a in plan.targets] + [f"  -replace {a}" for a in plan.replace]
    return "\nMade with:\n" + "\n".join(lines) + "\n"
