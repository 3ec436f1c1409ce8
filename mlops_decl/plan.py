"""Plans as plain data: actions, changes, and the saved plan file."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from mlops_decl.config.expressions import UNKNOWN, strip_unknown, unknown_mask

PLAN_FORMAT = 1


class Action(str, Enum):
    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return {"no-op": " ", "create": "+", "update": "~", "replace": "-/+", "delete": "-"}[self.value]

    def tf_actions(self, create_before_destroy: bool = False) -> list[str]:
        """Terraform's `actions` list for `show -json`."""
        if self is Action.REPLACE:
            return ["create", "delete"] if create_before_destroy else ["delete", "create"]
        return [self.value]


@dataclass
class Change:
    address: str
    kind: str
    name: str
    provider: str
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None  # may hold UNKNOWN
    prior_id: str | None = None
    changed: list[str] = field(default_factory=list)  # top-level attributes that differ
    replace_paths: list[str] = field(default_factory=list)  # the attributes that force replacement
    reason: str | None = None
    create_before_destroy: bool = False
    dependencies: list[str] = field(default_factory=list)
    sensitive_paths: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["action"] = self.action.value
        d["after"] = strip_unknown(self.after)
        d["after_unknown"] = unknown_mask(self.after) if self.after is not None else False
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Change:
        d = dict(d)
        mask = d.pop("after_unknown", False)
        d["action"] = Action(d["action"])
        d["after"] = _apply_mask(d["after"], mask)
        return cls(**d)


def _apply_mask(value: Any, mask: Any) -> Any:
    if mask is True:
        return UNKNOWN
    if isinstance(mask, dict) and isinstance(value, dict):
        return {k: _apply_mask(v, mask.get(k, False)) for k, v in value.items()}
    if isinstance(mask, list) and isinstance(value, list):
        return [_apply_mask(v, m) for v, m in zip(value, mask + [False] * (len(value) - len(mask)), strict=False)]
    return value


@dataclass
class Drift:
    """An object that changed outside mlops-decl since the last apply."""

    address: str
    gone: bool
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass
class Plan:
    changes: dict[str, Change]
    outputs: dict[str, dict[str, Any]]
    lineage: str
    serial: int
    config_hash: str
    mode: str = "normal"  # normal | destroy | refresh-only
    drift: list[Drift] = field(default_factory=list)
    refreshed: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # raw config, for apply
    variables: dict[str, Any] = field(default_factory=dict)  # non-sensitive values only
    sensitive_variables: dict[str, str] = field(default_factory=dict)  # name -> sha256 of the value
    targets: list[str] = field(default_factory=list)
    errored: bool = False

    def counts(self) -> dict[Action, int]:
        out = dict.fromkeys(Action, 0)
        for c in self.changes.values():
            out[c.action] += 1
        return out

    @property
    def has_changes(self) -> bool:
        if any(c.action is not Action.NOOP for c in self.changes.values()):
            return True
        if self.mode == "refresh-only" and self.drift:
            return True
        return any(o.get("changed") for o in self.outputs.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT,
            "lineage": self.lineage,
            "serial": self.serial,
            "config_hash": self.config_hash,
            "mode": self.mode,
            "targets": self.targets,
            "changes": [c.to_json() for c in self.changes.values()],
            "outputs": {k: {**v, "after": strip_unknown(v.get("after"))} for k, v in self.outputs.items()},
            "drift": [asdict(d) for d in self.drift],
            "refreshed": self.refreshed,
            "bodies": self.bodies,
            "variables": self.variables,
            "sensitive_variables": self.sensitive_variables,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Plan:
        if d.get("format_version") != PLAN_FORMAT:
            raise ValueError(f"unsupported plan format {d.get('format_version')!r}")
        changes = [Change.from_json(c) for c in d["changes"]]
        return cls(
            changes={c.address: c for c in changes},
            outputs=d["outputs"],
            lineage=d["lineage"],
            serial=d["serial"],
            config_hash=d["config_hash"],
            mode=d.get("mode", "normal"),
            drift=[Drift(**x) for x in d.get("drift", [])],
            refreshed=d.get("refreshed", {}),
            bodies=d.get("bodies", {}),
            variables=d.get("variables", {}),
            sensitive_variables=d.get("sensitive_variables", {}),
            targets=d.get("targets", []),
        )


def save_plan(plan: Plan, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(plan.to_json(), fh, separators=(",", ":"), sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_plan(path: Path) -> Plan:
    with open(path) as fh:
        return Plan.from_json(json.load(fh))
