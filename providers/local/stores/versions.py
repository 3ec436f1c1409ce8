"""Reading model versions from the local MLflow registry: a registered model, its aliases and
versions, a version's approvals (tags) and the run that made it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from mlops_decl.provider import Attributes, ProviderError

from ..client import LocalEnv

APPROVAL = "mlops_decl.approval."


SPLIT = "evaluation/eval.parquet"  # the evaluation split a training run keeps


def name_of(id: str, attrs: Attributes) -> str:
    return str(attrs.get("name") or id)


def registered(env: LocalEnv, name: str) -> Any | None:
    """The registered model, or None; never creates the registry database just to ask."""
    if not env.registry.exists():
        return None
    return env.registry.find(f"get registered model `{name}`", lambda c: c.get_registered_model(name))


def aliases(env: LocalEnv, name: str) -> dict[str, int]:
    rm = registered(env, name)
    return {a: int(v) for a, v in ((rm.aliases if rm else None) or {}).items()}


def versions(env: LocalEnv, name: str) -> dict[int, Any]:
    if not env.registry.exists():
        return {}
    found = env.registry.call(
        f"versions of model `{name}`", lambda c: c.search_model_versions(f"name='{name}'")
    )
    return {int(v.version): v for v in found}


def model_version(env: LocalEnv, name: str, version: int | str) -> Any:
    """The MLflow ModelVersion, or a ProviderError naming the versions that exist."""
    known = versions(env, name)
    if str(version).isdigit() and int(version) in known:
        return known[int(version)]
    shown = ", ".join(str(v) for v in sorted(known)) or "none yet"
    err = ProviderError(f"model `{name}` has no version {version} (versions: {shown})")
    err.hint = (  # type: ignore[attr-defined]
        "pick one of those versions" if known else "run the training pipeline that registers it first"
    )
    raise err


def approvals(mv: Any) -> list[str]:
    """Distinct approvers of a version. A name MLflow refuses in a tag key (an e-mail address)
    is kept in the value, as "<time> by <name>"."""
    names = set()
    for key, value in (mv.tags or {}).items():
        if key.startswith(APPROVAL):
            names.add(value.split(" by ", 1)[1] if " by " in value else key[len(APPROVAL) :])
    return sorted(names)


def created(mv: Any, timespec: str = "seconds") -> str:
    return datetime.fromtimestamp(mv.creation_timestamp / 1000, timezone.utc).isoformat(timespec=timespec)


def run_of(env: LocalEnv, mv: Any) -> Any | None:
    if not mv.run_id:  # a version registered from files, outside any run
        return None
    return env.registry.find(f"run {mv.run_id}", lambda c: c.get_run(mv.run_id))
