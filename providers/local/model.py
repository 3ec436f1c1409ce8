"""model: a registered model in the local MLflow registry. Its id is its MLflow name.

Description and tags live in MLflow and are read back from it; versions and aliases are
computed (training registers versions, promotion moves aliases). mlflow is only touched
through Registry, which imports it lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlops_decl.provider import DETACHED, Attributes, Operation

from .base import LocalHandler, carry, clean, name_of
from .errors import EXISTS, error_code

if TYPE_CHECKING:
    from mlflow.entities.model_registry import RegisteredModel
    from mlflow.tracking import MlflowClient

# What MLflow keeps; anything else in the attributes (a `local:` block) comes from prior.
LIVE = frozenset({"id", "name", "description", "tags", "latest_version", "aliases"})


class ModelHandler(LocalHandler):
    kind = "model"

    def plan(self, desired: Attributes, prior: Attributes | None) -> Attributes:
        attrs = clean(desired)
        attrs["id"] = attrs["name"] = prior["id"] if prior and prior.get("id") else name_of(desired)
        self.check_local(attrs)
        # Editing description or tags never changes versions or aliases.
        carry(attrs, prior, ("latest_version", "aliases"))
        return attrs

    def _read(self, id: str, prior: Attributes) -> Attributes | None:
        registry = self.env.registry
        if not registry.exists():  # no database, no model; and no migration just to say so
            return None
        rm = registry.find(f"get registered model `{id}`", lambda c: c.get_registered_model(id))
        if rm is None:
            return None
        return live_attributes(rm, prior)

    def _create(self, desired: Attributes) -> tuple[str, Attributes]:
        name = name_of(desired)
        attrs = clean(desired)
        self.check_local(attrs)

        def create(c: MlflowClient) -> RegisteredModel:
            try:
                c.create_registered_model(
                    name, tags=attrs.get("tags") or None, description=attrs.get("description")
                )
            except Exception as exc:
                # Adopt a model left by an apply that crashed before saving state.
                if error_code(exc) != EXISTS:
                    raise
                sync(c, name, attrs)
            return c.get_registered_model(name)

        rm = self.env.registry.call(f"create registered model `{name}`", create)
        return name, live_attributes(rm, attrs)

    def _update(self, id: str, prior: Attributes, desired: Attributes) -> Attributes:
        attrs = clean(desired)
        self.check_local(attrs)

        def update(c: MlflowClient) -> RegisteredModel:
            sync(c, id, attrs)
            return c.get_registered_model(id)

        rm = self.env.registry.call(f"update registered model `{id}`", update)
        return live_attributes(rm, attrs)

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """A model by its MLflow name or its registry URI, `models:/NAME`; the id is the name."""
        name = ref.removeprefix("models:/").split("@", 1)[0].split("/", 1)[0]
        got = self.read(name, {}, op)
        return None if got is None else (name, got)

    def _delete(self, id: str, prior: Attributes) -> None:
        if self.env.registry.exists():
            # Deleting a registered model deletes its versions too; prevent_destroy guards that.
            self.env.registry.find(f"delete registered model `{id}`", lambda c: c.delete_registered_model(id))


def sync(c: MlflowClient, name: str, attrs: Attributes) -> None:
    """Make the live model's description and tags match attrs."""
    live = c.get_registered_model(name)
    want_desc = attrs.get("description") or None
    if (live.description or None) != want_desc:
        c.update_registered_model(name, description=want_desc or "")  # "" clears it
    want_tags: dict[str, str] = dict(attrs.get("tags") or {})
    have_tags: dict[str, str] = dict(live.tags or {})
    for key, value in want_tags.items():
        if have_tags.get(key) != value:
            c.set_registered_model_tag(name, key, value)
    for key in have_tags.keys() - want_tags.keys():
        c.delete_registered_model_tag(name, key)


def live_attributes(rm: RegisteredModel, base: Attributes | None) -> Attributes:
    """Config fields MLflow does not keep come from base; the rest from the live model."""
    attrs: Attributes = {k: v for k, v in (base or {}).items() if k not in LIVE}
    # Versions are spread over stages (a legacy notion); the newest of each stage covers the
    # newest overall, without a second query.
    versions = [int(v.version) for v in (rm.latest_versions or [])]
    attrs.update(
        id=rm.name,
        name=rm.name,
        description=rm.description or None,
        tags=dict(rm.tags or {}),
        latest_version=max(versions) if versions else None,
        aliases={alias: int(version) for alias, version in (rm.aliases or {}).items()},
    )
    return attrs
