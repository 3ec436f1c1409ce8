"""Plans as JSON shaped like `terraform show -json`."""

from __future__ import annotations

from typing import Any

from mlops_decl.config.expressions import UNKNOWN, strip_unknown, unknown_mask
from mlops_decl.plan import Action, Plan

FORMAT_VERSION = "1.2"


def _sensitive_mask(paths: list[str]) -> Any:
    return {p: True for p in paths} if paths else {}


def _masked(value: Any, paths: list[str]) -> Any:
    if not isinstance(value, dict) or not paths:
        return value
    return {k: ("(sensitive value)" if k in paths else v) for k, v in value.items()}


def plan_json(plan: Plan) -> dict[str, Any]:
    changes = []
    for c in plan.changes.values():
        entry: dict[str, Any] = {
            "address": c.address,
            "mode": "managed",
            "type": c.kind,
            "name": c.name,
            "provider_name": c.provider,
            "change": {
                "actions": c.action.tf_actions(c.create_before_destroy),
                "before": _masked(c.before, c.sensitive_paths),
                "after": _masked(strip_unknown(c.after), c.sensitive_paths),
                "after_unknown": unknown_mask(c.after) if c.after is not None else {},
                "before_sensitive": _sensitive_mask(c.sensitive_paths) if c.before is not None else False,
                "after_sensitive": _sensitive_mask(c.sensitive_paths) if c.after is not None else False,
            },
        }
        if c.replace_paths:
            entry["change"]["replace_paths"] = [
                [int(k) if k.isdigit() else k for k in p.split(".")] for p in c.replace_paths
            ]
        if c.reason:
            entry["action_reason"] = c.reason
        if c.losses:
            entry["deletes_with_it"] = c.losses  # a model's versions, aliases, serving endpoints
        changes.append(entry)
    outputs = {}
    for name, o in plan.outputs.items():
        after = o.get("after")
        outputs[name] = {
            "actions": ["no-op"]
            if not o.get("changed")
            else (["create"] if o.get("before") is None else ["update"]),
            "before": None if o.get("sensitive") else o.get("before"),
            "after": None if o.get("sensitive") else strip_unknown(after),
            "after_unknown": after is UNKNOWN,
            "before_sensitive": bool(o.get("sensitive")),
            "after_sensitive": bool(o.get("sensitive")),
        }
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "mlops_decl_version": __import__("mlops_decl").__version__,
        "mode": plan.mode,
        "serial": plan.serial,
        "lineage": plan.lineage,
        "config_hash": plan.config_hash,
        "resource_changes": changes,
        "resource_drift": [
            {
                "address": d.address,
                "change": {
                    "actions": ["delete"] if d.gone else ["update"],
                    "before": _masked(d.before, sorted(plan.sensitive_of(d.address))),
                    "after": _masked(d.after, sorted(plan.sensitive_of(d.address))),
                },
            }
            for d in plan.drift
        ],
        "output_changes": outputs,
        "summary": {
            "add": counts[Action.CREATE],
            "change": counts[Action.UPDATE],
            "replace": counts[Action.REPLACE],
            "destroy": counts[Action.DELETE],
        },
        "errored": False,
    }
