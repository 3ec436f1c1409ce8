"""What every local handler shares: naming, latency, owner-only writes, and the
catalog-backed lifecycle most kinds use as is. The stores they work on are client.py's."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

from mlops_decl.provider import (
    DETACHED,
    NAME_KEY,
    Attributes,
    CheckContext,
    ConfigError,
    Handler,
    Operation,
    Planned,
    ProviderError,
)

from .client import LocalEnv
from .settings import SCHEMA


def name_of(desired: Attributes) -> str:
    name = desired.get(NAME_KEY) or desired.get("id")
    if not isinstance(name, str) or not name:
        raise ProviderError(f"the engine passed no `{NAME_KEY}` for a new local resource")
    return name


def clean(desired: Attributes) -> Attributes:
    """The attributes to keep: desired minus the engine's `_name`."""
    return {k: v for k, v in desired.items() if k != NAME_KEY}


def carry(
    attrs: Attributes, prior: Attributes | None, keys: Iterable[str], *, unless: Iterable[str] = ()
) -> None:
    """Copy computed `keys` from prior into attrs when none of the `unless` fields changed:
    an update that cannot change them should not show them as (known after apply)."""
    if not prior or any(attrs.get(f) != prior.get(f) for f in unless):
        return
    for key in keys:
        if key in prior and key not in attrs:
            attrs[key] = prior[key]


class LocalHandler(Handler):
    """Adds the `delay_ms` latency around every API call and checks the `local:` block;
    subclasses implement _read/_create/_update/_delete."""

    local_fields: ClassVar[frozenset[str]] = frozenset()  # keys allowed under `local:`

    def __init__(self, env: LocalEnv):
        self.env = env

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if getattr(cls, "kind", None) in SCHEMA.kinds:
            cls.computed = SCHEMA.kinds[cls.kind].computed_names

    def check_local(self, desired: Attributes) -> dict[str, Any]:
        block = desired.get("local") or {}
        for key in block:
            if key not in self.local_fields:
                allowed = ", ".join(sorted(self.local_fields)) or "none yet"
                raise ConfigError(
                    f"unknown field `{key}` under `local` for a {self.kind}",
                    field=("local", key),
                    hint=f"fields the local provider takes here: {allowed}",
                )
        return dict(block)

    def validate(self, desired: Attributes, ctx: CheckContext) -> list[ConfigError]:
        from .support.checks import problems  # the engine's data checks, on this provider's files

        return problems(self.env, self.kind, desired, ctx)

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        self.env.pause()
        return self._read(id, prior)

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        # Local ids are the resource names, known before the call: recorded first, so a
        # create killed half-way is in state as `creating` and the next apply adopts it.
        name = name_of(desired)
        op.record_id(name, clean(desired))
        self.env.pause()
        self.env.make_private()
        try:
            return self._create(desired)
        finally:
            self.env.tighten()

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        self.env.pause()
        self.env.make_private()
        try:
            return self._update(id, prior, desired)
        finally:
            self.env.tighten()

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        self.env.pause()
        self._delete(id, prior)

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """Local ids are names: `ref` is the id."""
        got = self.read(ref, {}, op)
        return None if got is None else (ref, got)

    @abstractmethod
    def _read(self, id: str, prior: Attributes) -> Attributes | None:
        """The live object, or None."""

    @abstractmethod
    def _create(self, desired: Attributes) -> tuple[str, Attributes]:
        """Make it; (id, attributes)."""

    @abstractmethod
    def _update(self, id: str, prior: Attributes, desired: Attributes) -> Attributes:
        """Change it in place."""

    @abstractmethod
    def _delete(self, id: str, prior: Attributes) -> None:
        """Remove it; missing is fine."""


class CatalogHandler(LocalHandler):
    """A kind whose live object is its catalog row. Ids are resource names.

    create is an upsert: after a crash between create and the state write, the next apply
    adopts the row instead of failing on "already exists".
    """

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned | Attributes:
        return self.planned(desired, prior)

    def planned(self, desired: Attributes, prior: Attributes | None) -> Attributes:
        """The planned attributes: desired, its id, and the computed ones known now."""
        attrs = clean(desired)
        attrs["id"] = prior["id"] if prior and prior.get("id") else name_of(desired)
        self.check_local(attrs)
        self.plan_computed(attrs, prior)
        return attrs

    def plan_computed(self, attrs: Attributes, prior: Attributes | None) -> None:
        """Fill the computed attributes known before apply; by default none beyond id."""

    def build(self, id: str, attrs: Attributes, prior: Attributes | None) -> Attributes:
        """Validate and fill computed attributes for create/update; by default just id."""
        return attrs

    def _read(self, id: str, prior: Attributes) -> Attributes | None:
        return self.env.catalog.get(self.kind, id)

    def read_many(self, ids: list[str]) -> dict[str, Attributes | None] | None:
        """Batch refresh in one query; None (read one by one) when latency is set."""
        if self.env.delay > 0:
            return None
        got = self.env.catalog.get_many(self.kind, ids)
        return {i: got.get(i) for i in ids}

    def _create(self, desired: Attributes) -> tuple[str, Attributes]:
        id = name_of(desired)
        return id, self._write(id, desired, None)

    def _update(self, id: str, prior: Attributes, desired: Attributes) -> Attributes:
        return self._write(id, desired, prior)

    def _write(self, id: str, desired: Attributes, prior: Attributes | None) -> Attributes:
        attrs = clean(desired)
        attrs["id"] = id
        self.check_local(attrs)
        attrs = self.build(id, attrs, prior)
        self.env.catalog.put(self.kind, id, attrs)
        return attrs

    def _delete(self, id: str, prior: Attributes) -> None:
        self.env.catalog.delete(self.kind, id)
