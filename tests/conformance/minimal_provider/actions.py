"""The minimal provider's runtime actions: a model's versions, for the engine's promotion."""

from __future__ import annotations

from typing import Any

from mlops_decl.ml.evidence import ModelVersions, VersionSummary
from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from .client import Client


def list_versions(client: Client, id: str, attrs: Attributes, rt: RuntimeContext) -> ModelVersions:
    status, obj = client.call("GET", f"/models/{id}", f"list versions of model {id}", allow=(404,))
    if status == 404:
        raise ProviderError(f"model {id} no longer exists on the service", category="not_found")
    versions: list[dict[str, Any]] = obj.get("versions") or []
    return ModelVersions(
        model=obj["name"],
        versions=[VersionSummary(v["version"], v.get("run_id"), None, v["created"]) for v in versions],
        aliases=dict(obj.get("aliases") or {}),
    )


ACTIONS = {("model", "list_versions"): list_versions}
