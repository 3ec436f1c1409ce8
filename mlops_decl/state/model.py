"""The state document: what mlops-decl has created, by address, and the outputs (docs/state.md).

The JSON is the contract (state pull/push, remote backends), so (de)serialisation is explicit
here rather than left to a library's defaults.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops_decl.operation import STATUSES

FORMAT_VERSION = 1


class StateError(Exception):
    """The state cannot be read, written, locked or replaced; the message says why."""


@dataclass
class ResourceState:
    address: str  # "kind.name", e.g. "dataset.transactions"
    kind: str
    provider: str
    id: str
    attributes: dict[str, Any]
    dependencies: list[str]
    # JSON paths inside attributes ("a.b") whose values must not be shown.
    sensitive_paths: list[str] = field(default_factory=list)
    # None for a whole object; "creating" while a create is under way (its id was recorded
    # before the create returned), "tainted" when that create failed: the next apply
    # finishes or replaces it, never makes a second one beside it.
    status: str | None = None
    # lifecycle.prevent_destroy as last applied: it guards the object after its block is
    # removed from the config, where the config can no longer say so.
    prevent_destroy: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "provider": self.provider,
            "id": self.id,
            "attributes": self.attributes,
            "dependencies": self.dependencies,
        }
        # Only when used, so the common document is exactly docs/state.md's shape.
        if self.sensitive_paths:
            out["sensitive_paths"] = self.sensitive_paths
        if self.status is not None:
            out["status"] = self.status
        if self.prevent_destroy:
            out["lifecycle"] = {"prevent_destroy": True}
        return out

    @classmethod
    def from_json(cls, address: str, data: Any) -> ResourceState:
        where = f"resource `{address}`"
        if not isinstance(data, dict):
            raise StateError(f"{where} must be an object, not {type(data).__name__}")
        for key, typ in (("kind", str), ("provider", str), ("id", str), ("attributes", dict)):
            if key not in data:
                raise StateError(f"{where} has no `{key}`")
            if not isinstance(data[key], typ):
                raise StateError(f"{where}: `{key}` must be a {typ.__name__}")
        deps = data.get("dependencies", [])
        sens = data.get("sensitive_paths", [])
        for key, value in (("dependencies", deps), ("sensitive_paths", sens)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise StateError(f"{where}: `{key}` must be a list of strings")
        status = data.get("status")
        if status is not None and status not in STATUSES:
            raise StateError(f"{where}: `status` must be one of {', '.join(STATUSES)}, not {status!r}")
        lifecycle = data.get("lifecycle", {})
        if not isinstance(lifecycle, dict) or not isinstance(lifecycle.get("prevent_destroy", False), bool):
            raise StateError(f'{where}: `lifecycle` must be {{"prevent_destroy": true|false}}')
        return cls(
            address=address,
            kind=data["kind"],
            provider=data["provider"],
            id=data["id"],
            attributes=data["attributes"],
            dependencies=list(deps),
            sensitive_paths=list(sens),
            status=status,
            prevent_destroy=lifecycle.get("prevent_destroy", False),
        )


@dataclass
class State:
    format_version: int = FORMAT_VERSION
    serial: int = 0  # bumped by every write; a saved plan records it to detect a moved state
    lineage: str = ""  # uuid4 fixed when the state is created; tells unrelated states apart
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"value", "sensitive"}
    # The audit log's anchor (mlops_decl/audit.py): {"entries", "head"} of the log when it was
    # last recorded, and {"serial", "base"}: the serial of that anchor-only write and the serial
    # of the last write before it that changed resources or outputs (saved plans compare that).
    audit: dict[str, Any] | None = None

    @classmethod
    def new(cls) -> State:
        return cls(lineage=str(uuid.uuid4()))

    def to_json(self) -> dict[str, Any]:
        out = {
            "format_version": self.format_version,
            "serial": self.serial,
            "lineage": self.lineage,
            "resources": {a: self.resources[a].to_json() for a in sorted(self.resources)},
            "outputs": {n: self.outputs[n] for n in sorted(self.outputs)},
        }
        if self.audit is not None:
            out["audit"] = self.audit
        return out

    def content_serial(self) -> int:
        """The serial of the last write that changed resources or outputs: writes that only
        record the audit anchor since then leave what a saved plan was made from as it was."""
        a = self.audit
        if a is not None and a.get("serial") == self.serial and isinstance(a.get("base"), int):
            return int(a["base"])
        return self.serial

    @classmethod
    def from_json(cls, data: Any) -> State:
        if not isinstance(data, dict):
            raise StateError(f"a state must be a JSON object, not {type(data).__name__}")
        data = upgrade(data)
        serial, lineage = data.get("serial"), data.get("lineage")
        if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
            raise StateError("`serial` must be a non-negative integer")
        if not isinstance(lineage, str) or not lineage:
            raise StateError("`lineage` must be a non-empty string")
        resources = data.get("resources", {})
        outputs = data.get("outputs", {})
        if not isinstance(resources, dict):
            raise StateError("`resources` must be an object keyed by address")
        check_outputs(outputs)
        audit = data.get("audit")
        if audit is not None:
            check_audit_anchor(audit)
        return cls(
            format_version=FORMAT_VERSION,
            serial=serial,
            lineage=lineage,
            resources={a: ResourceState.from_json(a, r) for a, r in resources.items()},
            outputs={n: dict(o) for n, o in outputs.items()},
            audit=dict(audit) if audit is not None else None,
        )


def check_outputs(outputs: Any) -> dict[str, dict[str, Any]]:
    """outputs as the state keeps them: {name: {"value": ..., "sensitive": bool}}."""
    if not isinstance(outputs, dict):
        raise StateError(f"`outputs` must be an object, not {type(outputs).__name__}")
    for name, out in outputs.items():
        if not isinstance(out, dict) or "value" not in out:
            raise StateError(f'output `{name}` must be {{"value": ..., "sensitive": bool}}')
        if not isinstance(out.get("sensitive", False), bool):
            raise StateError(f"output `{name}`: `sensitive` must be true or false")
    return outputs


def check_audit_anchor(audit: Any) -> dict[str, Any]:
    """The audit log's anchor as the state keeps it: {"entries": N, "head": HASH, ...}."""
    if not (
        isinstance(audit, dict) and isinstance(audit.get("entries"), int) and isinstance(audit.get("head"), str)
    ):
        raise StateError('`audit` must be {"entries": N, "head": HASH, ...}, the audit log\'s anchor')
    return audit


# format_version N -> function turning an N document into an N+1 document. Only v1 exists so
# far; when v2 comes, add `1: _v1_to_v2` and bump FORMAT_VERSION.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a state document of any known format_version to the current one."""
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateError("the state has no integer `format_version`; is this a mlops-decl state file?")
    if version > FORMAT_VERSION:
        raise StateError(
            f"the state has format_version {version}, but this mlops-decl reads only up to "
            f"{FORMAT_VERSION}: it was written by a newer mlops-decl; upgrade mlops-decl to use it"
        )
    while version < FORMAT_VERSION:
        step = UPGRADES.get(version)
        if step is None:
            raise StateError(f"unknown state format_version {version}")
        data = step(data)
        version += 1
        data["format_version"] = version
    return data
