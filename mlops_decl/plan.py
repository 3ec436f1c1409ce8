"""Plans as plain data: actions, changes, and the saved plan file.

Sensitive values (docs/reliability.md, Secrets) never reach a plan file: every attribute that holds one (it is
computed from a `sensitive: true` variable, from another resource's sensitive attribute, or
its value contains a sensitive variable's value) is listed in `sensitive` and written as
SENSITIVE; planned values become unknown, so `apply PLANFILE` computes them again from the
variables given again (their sha256 must match) and takes prior ones from the state.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.config.expressions import UNKNOWN, iter_refs, parse_ref, strip_unknown, unknown_mask

if TYPE_CHECKING:
    from mlops_decl.state.model import State
    from mlops_decl.workspace import Workspace

PLAN_FORMAT = 1
SENSITIVE = "(sensitive value)"
MIN_SECRET_LEN = 4  # shorter secrets are masked by reference only: substring search would hit anything


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
    # What deleting it takes along that is not a resource of its own (mlops_decl/losses.py):
    # a model's versions and aliases, and the endpoints serving one of them.
    losses: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """For the plan file: sensitive values masked, planned ones made unknown."""
        # shallow: json.dumps walks the nesting anyway; asdict's deep copy cost 3x more
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        keys = set(self.sensitive_paths)
        after = self.after
        if after is not None and keys:
            after = {k: (UNKNOWN if k in keys else v) for k, v in after.items()}
        d["action"] = self.action.value
        d["before"] = mask(self.before, keys)
        d["after"] = strip_unknown(after)
        d["after_unknown"] = unknown_mask(after) if after is not None else False
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Change:
        d = dict(d)
        unknown = d.pop("after_unknown", False)
        d["action"] = Action(d["action"])
        d["after"] = _apply_mask(d["after"], unknown)
        return cls(**d)


def _apply_mask(value: Any, mask: Any) -> Any:
    if mask is True:
        return UNKNOWN
    if isinstance(mask, dict) and isinstance(value, dict):
        return {k: _apply_mask(v, mask.get(k, False)) for k, v in value.items()}
    if isinstance(mask, list) and isinstance(value, list):
        return [
            _apply_mask(v, m) for v, m in zip(value, mask + [False] * (len(value) - len(mask)), strict=False)
        ]
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
    replace: list[str] = field(default_factory=list)  # --replace, so apply can derive the plan again
    errored: bool = False
    # address -> top-level attributes holding sensitive values, as this plan computes them
    sensitive: dict[str, list[str]] = field(default_factory=dict)
    # config file (relative path) -> sha256 of its text: apply names the files changed since
    config_files: dict[str, str] = field(default_factory=dict)

    def sensitive_of(self, address: str) -> set[str]:
        change = self.changes.get(address)
        return set(self.sensitive.get(address, ())) | set(change.sensitive_paths if change else ())

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
        """The plan file's document; it never holds a sensitive value."""
        outputs = {}
        for k, v in self.outputs.items():
            o = {**v, "after": strip_unknown(v.get("after"))}
            if o.get("sensitive"):
                o["before"] = None if o.get("before") is None else SENSITIVE
                o["after"] = None if o.get("after") is None else SENSITIVE
            outputs[k] = o
        return {
            "format_version": PLAN_FORMAT,
            "lineage": self.lineage,
            "serial": self.serial,
            "config_hash": self.config_hash,
            "mode": self.mode,
            "targets": self.targets,
            "replace": self.replace,
            "changes": [c.to_json() for c in self.changes.values()],
            "outputs": outputs,
            "drift": [
                {
                    **asdict(d),
                    "before": mask(d.before, self.sensitive_of(d.address)),
                    "after": mask(d.after, self.sensitive_of(d.address)),
                }
                for d in self.drift
            ],
            "refreshed": {a: mask(v, self.sensitive_of(a)) for a, v in self.refreshed.items()},
            "bodies": self.bodies,
            "variables": self.variables,
            "sensitive_variables": self.sensitive_variables,
            "sensitive": self.sensitive,
            "config_files": self.config_files,
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
            replace=d.get("replace", []),
            sensitive=d.get("sensitive", {}),
            config_files=d.get("config_files", {}),
        )


class PlanFileChanged(ValueError):
    """A saved plan whose content is not what `plan` wrote: it was edited since."""

    def __init__(self, parts: list[str]):
        super().__init__(parts)
        self.parts = parts

    def __str__(self) -> str:
        return ", ".join(self.parts)


def _digest(value: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(value, separators=(",", ":"), sort_keys=True).encode()).hexdigest()


def _checksums(doc: dict[str, Any]) -> dict[str, str]:
    """A digest per part of a plan document, each change on its own, so a refusal can say
    which part was edited."""
    out = {}
    for key, value in doc.items():
        if key == "checksums":
            continue
        if key == "changes" and isinstance(value, list):
            for c in value:
                name = c.get("address") if isinstance(c, dict) else repr(c)
                out[f"changes[{name}]"] = _digest(c)
        else:
            out[key] = _digest(value)
    return out


def edited_parts(doc: dict[str, Any]) -> list[str]:
    """The parts of a saved plan document that differ from what `plan` wrote."""
    recorded = doc.get("checksums")
    if not isinstance(recorded, dict):
        return ["checksums (missing)"]
    now = _checksums(doc)
    return sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))


def save_plan(plan: Plan, path: Path) -> None:
    doc = plan.to_json()
    doc["checksums"] = _checksums(doc)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"), sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_plan(path: Path) -> Plan:
    """The saved plan at path; PlanFileChanged if it was edited after `plan` wrote it,
    ValueError if it is not a plan."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"it is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError("it is not a JSON object")
    if doc.get("format_version") == PLAN_FORMAT:
        edited = edited_parts(doc)
        if edited:
            raise PlanFileChanged(edited)
    return Plan.from_json(doc)


def file_digests(files: dict[str, str]) -> dict[str, str]:
    """Config file (relative path) -> sha256 of its text."""
    import hashlib

    return {name: hashlib.sha256(text.encode()).hexdigest() for name, text in files.items()}


def changed_config_files(recorded: dict[str, str], files: dict[str, str]) -> list[str]:
    """The config files (relative paths) added, removed or edited since a plan recorded them."""
    now = file_digests(files)
    return sorted(n for n in set(now) | set(recorded) if now.get(n) != recorded.get(n))


# -- sensitive values ---------------------------------------------------------------------


def mask(attrs: dict[str, Any] | None, keys: Iterable[str]) -> dict[str, Any] | None:
    """attrs with the values of `keys` replaced by SENSITIVE."""
    keys = set(keys)
    if attrs is None or not keys:
        return attrs
    return {k: (SENSITIVE if k in keys and v is not None else v) for k, v in attrs.items()}


def unmask(attrs: dict[str, Any] | None, known: dict[str, Any]) -> dict[str, Any] | None:
    """attrs with SENSITIVE placeholders put back from `known` (the state's attributes)."""
    if attrs is None:
        return None
    return {k: (known.get(k) if v == SENSITIVE and k in known else v) for k, v in attrs.items()}


def secret_values(ws: Workspace) -> list[Any]:
    """The values of the sensitive variables."""
    return [v for k, v in ws.variables.values.items() if k in ws.variables.sensitive and v is not None]


def _needles(secrets: Iterable[Any]) -> list[str]:
    out = []
    for s in secrets:
        if isinstance(s, str):
            if len(s) >= MIN_SECRET_LEN:
                out.append(s)
        elif isinstance(s, (dict, list)):
            out += _needles(s.values() if isinstance(s, dict) else s)
    return out


def scan(attrs: dict[str, Any] | None, secrets: Iterable[Any]) -> set[str]:
    """Top-level keys of attrs whose value contains a secret (a string of at least
    MIN_SECRET_LEN characters anywhere inside it; any other secret as the whole value)."""
    if not attrs:
        return set()
    secrets = list(secrets)
    needles = _needles(secrets)
    exact = [s for s in secrets if not isinstance(s, str)]
    hits = set()
    for key, value in attrs.items():
        if key == "id" or value is None or value is UNKNOWN:
            continue
        if any(value == s and type(value) is type(s) for s in exact):
            hits.add(key)
            continue
        if needles:
            text = value if isinstance(value, str) else json.dumps(strip_unknown(value), default=str)
            if any(n in text for n in needles):
                hits.add(key)
    return hits


def scrub(text: str, secrets: Iterable[Any]) -> str:
    """text with every secret string in it replaced by SENSITIVE (for error messages)."""
    for needle in sorted(_needles(secrets), key=len, reverse=True):
        text = text.replace(needle, SENSITIVE)
        text = text.replace(repr(needle), SENSITIVE)
    return text


def config_sensitive(ws: Workspace, address: str, known: dict[str, set[str]]) -> set[str]:
    """Top-level attributes of a configured resource computed from a sensitive variable, or
    from an attribute another resource keeps sensitive (known: address -> keys)."""
    rc = ws.project.resources.get(address)
    if rc is None:
        return set()
    hits = set()
    for text, path in iter_refs(rc.body):
        if not path or not isinstance(path[0], str):
            continue
        try:
            ref = parse_ref(text)
        except ValueError:
            continue
        if ref.kind == "var":
            if ref.name in ws.variables.sensitive:
                hits.add(path[0])
        elif ref.attr and ref.attr[0] in known.get(ref.address, ()):
            hits.add(path[0])
    return hits


def mark_sensitive(plan: Plan, ws: Workspace, state: State) -> None:
    """Fill plan.sensitive, every change's sensitive_paths and the outputs' sensitive flags."""
    secrets = secret_values(ws)
    known: dict[str, set[str]] = {a: set(rs.sensitive_paths) for a, rs in state.resources.items()}
    if not ws.variables.sensitive and not any(known.values()):
        return  # nothing can be sensitive: no secret to look for, none to inherit (most plans)
    order = [a for a in ws.graph.order() if a in ws.project.resources]
    for address in order + sorted(set(state.resources) - set(order)):
        change = plan.changes.get(address)
        keys = config_sensitive(ws, address, known)
        if change is not None:
            keys |= scan(change.after, secrets) | scan(change.before, secrets)
        keys |= scan(plan.refreshed.get(address), secrets)
        if keys:
            plan.sensitive[address] = sorted(keys)
        shown = keys | known.get(address, set())
        known[address] = keys  # what downstream references inherit
        if change is not None:
            change.sensitive_paths = sorted(shown)
    for name, o in plan.outputs.items():
        oc = ws.project.outputs.get(name)
        refs = iter_refs(oc.value) if oc is not None else iter(())
        for text, _ in refs:
            try:
                ref = parse_ref(text)
            except ValueError:
                continue
            if ref.kind != "var" and ref.attr and ref.attr[0] in known.get(ref.address, ()):
                o["sensitive"] = True
        if scan({"v": o.get("after")}, secrets) or scan({"v": o.get("before")}, secrets):
            o["sensitive"] = True
