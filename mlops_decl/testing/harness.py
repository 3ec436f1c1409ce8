"""A provider driven as the engine drives it: attributes resolved through the kinds' schemas,
every call through the engine's retry and time limit, the plan compared as the planner does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mlops_decl import kind_check
from mlops_decl.config.expressions import UNKNOWN, contains_unknown
from mlops_decl.diff import changed_fields
from mlops_decl.objchange import differs_under, dotted, set_unknown
from mlops_decl.operation import Operation
from mlops_decl.provider import NAME_KEY, Attributes, Handler, Planned, ProviderContext
from mlops_decl.resolve import attributes_of
from mlops_decl.retry import call_with_retry, policy_of
from mlops_decl.testing.case import ProviderCase, Sample

T = TypeVar("T")

CALL_TIMEOUT = 120.0  # seconds per call: a hung provider fails its test instead of the run


class Harness:
    """One configured instance of the case's provider over a project directory."""

    def __init__(self, case: ProviderCase, root: Path, handle: Any, instance: str | None = None):
        self.case = case
        self.root = root
        self.handle = handle
        # named like the provider, as the engine names an instance by default: its data
        # directory is the one a project's commands use
        self.instance = instance or case.provider().name
        self.provider = self.configured(case.settings(handle))
        self.made: dict[str, tuple[str, Attributes]] = {}  # kind -> (id, attributes)
        self.recorded: list[tuple[str, str, Attributes]] = []  # (address, id, attributes) by record_id

    def context(self) -> ProviderContext:
        return ProviderContext(
            project_dir=self.root, data_dir=self.root / ".mlops" / self.instance, project="conformance"
        )

    def configured(self, settings: dict[str, Any]) -> Any:
        provider = self.case.provider()
        provider.configure(dict(settings), self.context())
        return provider

    def handler(self, kind: str) -> Handler:
        h = self.provider.handler(kind)
        assert h is not None, f"provider `{self.provider.name}` lists `{kind}` but has no handler for it"
        return h

    def call(self, fn: Callable[[], T], what: str) -> T:
        return call_with_retry(fn, timeout=CALL_TIMEOUT, what=what, policy=policy_of(self.provider))

    def op(self, what: str, kind: str, name: str | None = None) -> Operation:
        """The operation context the engine passes; ids recorded through it are kept."""
        address = f"{kind}.{name or self.case.sample(kind).name}"
        op = Operation(what, address, "conformance")
        op.on_record = lambda id, attrs: self.recorded.append((address, id, attrs))
        return op

    # -- what the engine hands over ----------------------------------------------------------
    def desired(self, sample: Sample, extra: dict[str, Any] | None = None) -> Attributes:
        """The sample's attributes as the engine resolves them (defaults filled, this provider's
        block only), plus the resource name under NAME_KEY."""
        ids = {kind: self.ensure(self.case.sample(kind))[0] for kind in sample.needs}
        fields = {**sample.fields_for(ids), **(extra or {})}
        valid = kind_check.validate(sample.kind, fields)
        return {**attributes_of(sample.kind, valid, self.provider.name), NAME_KEY: sample.name}

    def plan_full(self, kind: str, desired: Attributes, prior: Attributes | None) -> Planned:
        """What plan() returned, its unknown paths set to UNKNOWN as the planner does."""
        got = Planned.of(self.handler(kind).plan(dict(desired), prior))
        planned = dict(got.attributes)
        planned.pop(NAME_KEY, None)
        for path in got.unknown:
            set_unknown(planned, path)
        return Planned(planned, list(got.requires_replace), list(got.unknown))

    def plan(self, kind: str, desired: Attributes, prior: Attributes | None) -> Attributes:
        return self.plan_full(kind, desired, prior).attributes

    # -- lifecycle -------------------------------------------------------------------------
    def create(self, sample: Sample, extra: dict[str, Any] | None = None) -> tuple[str, Attributes]:
        """What apply does for a new resource: plan, then create with the planned values."""
        desired = self.desired(sample, extra)
        planned = self.plan(sample.kind, desired, None)
        planned.pop("id", None)
        final = {k: v for k, v in planned.items() if v is not UNKNOWN}
        assert not contains_unknown(final), f"{sample.kind}: plan() left unknown values inside attributes"
        h = self.handler(sample.kind)
        op = self.op("create", sample.kind, sample.name)
        id, attrs = self.call(lambda: h.create({**final, NAME_KEY: sample.name}, op), "create")
        assert isinstance(id, str) and id, f"{sample.kind}: create returned the id {id!r}"
        self.made[sample.kind] = (id, attrs)
        return id, attrs

    def ensure(self, sample: Sample) -> tuple[str, Attributes]:
        return self.made.get(sample.kind) or self.create(sample)

    def read(self, kind: str, id: str, prior: Attributes) -> Attributes | None:
        h = self.handler(kind)
        op = self.op("read", kind)
        return self.call(lambda: h.read(id, prior, op), "read")

    def update(self, sample: Sample, id: str, prior: Attributes, extra: dict[str, Any]) -> Attributes:
        desired = self.desired(sample, extra)
        planned = self.plan(sample.kind, desired, prior)
        planned.pop("id", None)
        h = self.handler(sample.kind)
        op = self.op("update", sample.kind, sample.name)
        return self.call(lambda: h.update(id, prior, {**planned, NAME_KEY: sample.name}, op), "update")

    def delete(self, kind: str, id: str, prior: Attributes) -> None:
        h = self.handler(kind)
        op = self.op("delete", kind)
        self.call(lambda: h.delete(id, prior, op), "delete")

    def import_(self, kind: str, ref: str) -> tuple[str, Attributes] | None:
        """The handler's import_, or what the engine falls back on without one: read(ref, {})."""
        h, op = self.handler(kind), self.op("import", kind)
        fn = getattr(h, "import_", None)
        if fn is None:
            got = self.call(lambda: h.read(ref, {}, op), "import")
            return None if got is None else (ref, got)
        found: tuple[str, Attributes] | None = self.call(lambda: fn(ref, op), "import")
        return found

    # -- what the planner concludes ------------------------------------------------------
    def changes(self, kind: str, planned: Attributes, prior: Attributes) -> list[str]:
        """The fields the planner would show as changing (computed ones it cannot know yet
        are not changes)."""
        h = self.handler(kind)
        keys = set(planned) - {k for k in h.computed if k not in planned} - {"id"}
        return list(changed_fields(planned, prior, keys=keys))

    def requires_replace(self, kind: str, desired: Attributes, prior: Attributes) -> list[str]:
        """What the planner would replace for: changed top-level force_new fields, and the
        paths plan() names in requires_replace whose value changed."""
        got = self.plan_full(kind, desired, prior)
        forced = set(self.changes(kind, got.attributes, prior)) & self.handler(kind).force_new
        forced |= {dotted(p) for p in got.requires_replace if p and differs_under(got.attributes, prior, p)}
        return sorted(forced)

    def drift(self, kind: str, live: Attributes, before: Attributes) -> list[str]:
        """The fields a refresh reports as changed outside mlops-decl."""
        computed = self.handler(kind).computed
        return list(changed_fields(live, before, keys=(set(live) | set(before)) - computed))

    def close(self) -> None:
        close = getattr(self.provider, "close", None)
        if close is not None:
            close()
