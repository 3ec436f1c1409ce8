"""endpoint: a local serving record in the catalog, serving the model version its `version`
(an alias, a version number, or `latest`) points at.

`status` and `serving_version` are computed live from MLflow on every read, so an alias moved
by a promotion shows up on the next refresh; they are not config and never force a change.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.provider import Attributes, ConfigError, Planned

from .base import CatalogHandler, carry
from .client import LocalEnv

READY = "ready"
PENDING = "pending_model"  # the alias or version does not exist yet (train, then promote)
DEFAULT_PORT = 8080


class EndpointHandler(CatalogHandler):
    kind = "endpoint"
    force_new = frozenset({"model"})
    local_fields = frozenset({"port", "max_body_mb", "timeout"})

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned:
        # Clients know an endpoint by its URL: a new port is a new endpoint, as a cloud
        # endpoint whose name changes.
        return Planned(self.planned(desired, prior), requires_replace=[("local", "port")])

    def url(self, attrs: Attributes) -> str:
        port = (attrs.get("local") or {}).get("port", DEFAULT_PORT)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(
                f"`{port}` is not a TCP port",
                field=("local", "port"),
                hint="give a number between 1 and 65535, e.g. port: 8080",
            )
        return f"http://127.0.0.1:{port}/invocations"

    def plan_computed(self, attrs: Attributes, prior: Attributes | None) -> None:
        attrs["url"] = self.url(attrs)
        # Asking MLflow at plan time could cost a database migration; the status of an
        # endpoint whose model and version stay the same is whatever refresh just read.
        carry(attrs, prior, ("status", "serving_version"), unless=("model", "version"))

    def build(self, id: str, attrs: Attributes, prior: Attributes | None) -> Attributes:
        attrs["url"] = self.url(attrs)
        attrs.update(self.serving(attrs))
        return attrs

    def _read(self, id: str, prior: Attributes) -> Attributes | None:
        attrs = self.env.catalog.get(self.kind, id)
        if attrs is not None:
            attrs.update(self.serving(attrs))
        return attrs

    def serving(self, attrs: Attributes) -> dict[str, Any]:
        version = resolve_version(self.env, str(attrs.get("model", "")), attrs.get("version", "champion"))
        return {"status": READY if version is not None else PENDING, "serving_version": version}


def resolve_version(env: LocalEnv, model: str, version: str | int | None) -> int | None:
    """The model version number `version` names now, or None when nothing carries it yet."""
    registry = env.registry
    if not registry.exists():  # no registry database yet: certainly no version
        return None
    rm = registry.find(f"get registered model `{model}`", lambda c: c.get_registered_model(model))
    if rm is None:
        return None
    if isinstance(version, int) or (isinstance(version, str) and version.isdigit()):
        number = int(version)
        mv = registry.find(
            f"get version {number} of model `{model}`", lambda c: c.get_model_version(model, str(number))
        )
        return number if mv is not None else None
    if version is None or str(version).lower() == "latest":  # MLflow reserves `latest` as an alias
        numbers = [int(v.version) for v in (rm.latest_versions or [])]
        return max(numbers) if numbers else None
    alias = (rm.aliases or {}).get(str(version))
    return int(alias) if alias is not None else None
