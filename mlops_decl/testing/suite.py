"""The provider conformance suite: what every provider must do for the engine to manage its
objects. A provider's tests use it as

    from mlops_decl.testing import ProviderCase, Sample, conformance

    CASE = ProviderCase(provider=MyProvider, samples=[...], ...)
    TestMyProvider = conformance(CASE)

or subclass ProviderConformance and set `case`. Each test runs against a fresh project
directory and a fresh test server; tests taking `kind` run once per sample.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mlops_decl.config.expressions import contains_unknown
from mlops_decl.provider import NAME_KEY, Category, ConfigError, ProviderError
from mlops_decl.retry import CallTimeout, call_with_retry
from mlops_decl.testing.case import ProviderCase
from mlops_decl.testing.faults import FaultyProvider, parse_faults
from mlops_decl.testing.harness import Harness
from mlops_decl.testing.project import cli, registered, state_ids, write_project

__all__ = ["ProviderConformance", "conformance"]


class ProviderConformance:
    """Subclass it (the subclass's name must start with `Test`) and set `case`."""

    case: ClassVar[ProviderCase]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        samples = self.case.samples
        if "kind" in metafunc.fixturenames:
            metafunc.parametrize("kind", [s.kind for s in samples])
        if "action" in metafunc.fixturenames:
            metafunc.parametrize("action", [f"{kind}.{name}" for kind, name in self.case.actions])
        if "replace_kind" in metafunc.fixturenames:
            metafunc.parametrize("replace_kind", [s.kind for s in samples if s.force_new is not None])

    @pytest.fixture
    def server(self, tmp_path: Path) -> Iterator[Any]:
        with self.case.server(tmp_path) as handle:
            yield handle

    @pytest.fixture
    def harness(self, tmp_path: Path, server: Any) -> Iterator[Harness]:
        for rel, text in self.case.files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        h = Harness(self.case, tmp_path, server)
        yield h
        h.close()

    def other(self, harness: Harness) -> Harness:
        """A second, independent instance of the provider over the same project and service:
        what another process (a colleague's checkout, a CI runner) sees."""
        return Harness(self.case, harness.root, harness.handle, harness.instance)

    # -- the case itself ---------------------------------------------------------------------
    def test_the_case_has_a_sample_per_kind_and_a_force_new_change(self, harness: Harness) -> None:
        kinds = [s.kind for s in self.case.samples]
        assert len(kinds) == len(set(kinds)), "one sample per kind"
        assert set(kinds) == set(harness.provider.kinds()), "a sample for every kind the provider lists"
        assert any(s.force_new is not None for s in self.case.samples), "at least one force-new change"

    # -- the schema, read without configuring --------------------------------------------
    def test_the_schema_is_readable_without_configure(self, harness: Harness) -> None:
        from mlops_decl.provider_schema import errors, schema_of

        assert callable(getattr(self.case.provider, "schema", None)), "declare schema() on the provider class"
        schema = schema_of(self.case.provider)  # the class: nothing configured, nothing connected
        assert set(schema.kinds) == set(harness.provider.kinds()), "the schema lists other kinds"
        assert errors(schema.settings, self.case.settings(harness.handle)) == [], (
            "the case's settings fail it"
        )
        for sample in self.case.samples:
            declared = schema.kind(sample.kind).computed_names
            assert declared == harness.handler(sample.kind).computed | {"id"}, (
                f"{sample.kind}: the schema computes {sorted(declared)}, the handler "
                f"{sorted(harness.handler(sample.kind).computed)}"
            )
            block = harness.desired(sample).get(harness.provider.name)
            if block is not None:
                ks = schema.kind(sample.kind)
                assert ks.block is not None and errors(ks.block, block) == [], (
                    f"{sample.kind}: its block fails"
                )

    # -- lifecycle ------------------------------------------------------------------------
    def test_create_then_read_agrees(self, harness: Harness, kind: str) -> None:
        sample = self.case.sample(kind)
        id, attrs = harness.create(sample)
        live = harness.read(kind, id, attrs)
        assert live is not None, f"{kind} `{id}`: read right after create found nothing"
        assert harness.drift(kind, live, attrs) == [], "read disagrees with what create returned"
        # and the next plan is empty: the planner sees nothing to change
        planned = harness.plan(kind, harness.desired(sample), live)
        assert harness.changes(kind, planned, live) == [], "a plan right after create shows changes"

    def test_read_after_an_out_of_band_delete_is_none(self, harness: Harness, kind: str) -> None:
        id, attrs = harness.create(self.case.sample(kind))
        if self.case.remove is not None:
            self.case.remove(harness.handle, kind, id)
        else:
            other = self.other(harness)
            try:
                other.delete(kind, id, attrs)
            finally:
                other.close()
        assert harness.read(kind, id, attrs) is None, f"{kind} `{id}` still reads after it was deleted"

    def test_delete_twice_is_fine(self, harness: Harness, kind: str) -> None:
        id, attrs = harness.create(self.case.sample(kind))
        harness.delete(kind, id, attrs)
        harness.delete(kind, id, attrs)  # a retried delete whose first answer was lost
        assert harness.read(kind, id, attrs) is None

    def test_update_keeps_the_id(self, harness: Harness, kind: str) -> None:
        sample = self.case.sample(kind)
        id, attrs = harness.create(sample)
        before = harness.desired(sample)
        after = harness.desired(sample, sample.in_place)
        planned = harness.plan(kind, after, attrs)
        changed = harness.changes(kind, planned, attrs)
        assert changed, f"the in-place change {sample.in_place} plans no change"
        assert harness.requires_replace(kind, after, attrs) == [], "the in-place change forces a replace"
        new = harness.update(sample, id, attrs, sample.in_place)
        assert new.get("id", id) == id, "update changed the id"
        live = harness.read(kind, id, new)
        assert live is not None, f"{kind} `{id}` is gone after an update"
        for key in sample.in_place:
            assert live.get(key) == after[key] != before.get(key), f"`{key}` did not change"
        assert harness.changes(kind, harness.plan(kind, after, live), live) == [], (
            "plan after update shows changes"
        )

    def test_force_new_plans_a_replace(self, harness: Harness, replace_kind: str) -> None:
        sample = self.case.sample(replace_kind)
        assert sample.force_new is not None
        id, attrs = harness.create(sample)
        forced = harness.requires_replace(replace_kind, harness.desired(sample, sample.force_new), attrs)
        assert forced, f"changing {sorted(sample.force_new)} plans no replace"
        assert {f.split(".")[0] for f in forced} <= set(sample.force_new), f"the replace names {forced}"

    def test_create_records_the_id_it_returns(self, harness: Harness, kind: str) -> None:
        # record_id saves a half-made object to state at once: a killed apply cannot lose it
        sample = self.case.sample(kind)
        id, _ = harness.create(sample)
        mine = [i for address, i, _ in harness.recorded if address == f"{kind}.{sample.name}"]
        assert mine, "create never called op.record_id"
        assert set(mine) == {id}, f"create recorded {mine} but returned `{id}`"

    def test_computed_attributes_are_filled(self, harness: Harness, kind: str) -> None:
        id, attrs = harness.create(self.case.sample(kind))
        live = harness.read(kind, id, attrs)
        assert live is not None
        for name, got in (("create", attrs), ("read", live)):
            missing = sorted(k for k in harness.handler(kind).computed if k != "id" and k not in got)
            assert not missing, f"{name} left computed attributes out: {missing}"
            assert not contains_unknown(got), f"{name} returned values still unknown"

    def test_plan_makes_no_api_call(self, harness: Harness, kind: str) -> None:
        sample = self.case.sample(kind)
        id, attrs = harness.create(sample)
        fresh, changed = harness.desired(sample), harness.desired(sample, sample.in_place)
        live = {k: harness.read(k, i, a) for k, (i, a) in harness.made.items()}
        before = self.case.api_calls(harness.handle) if self.case.api_calls else None
        harness.plan(kind, fresh, None)  # a new resource
        harness.plan(kind, changed, attrs)  # a change to an existing one
        if self.case.api_calls is not None:
            assert self.case.api_calls(harness.handle) == before, "plan() called the service"
        # without a call counter, at least: plan() changed nothing
        assert {k: harness.read(k, i, a) for k, (i, a) in harness.made.items()} == live

    def test_a_create_that_already_exists_is_adopted_or_fails_clearly(
        self, harness: Harness, kind: str
    ) -> None:
        # An apply that crashed after the create but before the state write runs it again.
        sample = self.case.sample(kind)
        id, attrs = harness.create(sample)
        try:
            again, _ = harness.create(sample)
        except ProviderError as exc:
            assert exc.category is Category.CONFLICT, (
                f"an object that exists is a conflict, not {exc.category}"
            )
            assert sample.name in str(exc) or id in str(exc), f"the error does not name the object: {exc}"
            return
        assert again == id, f"a second create made another object ({again}) beside `{id}`"
        assert harness.read(kind, id, attrs) is not None

    def test_a_throttled_call_is_retried(self, harness: Harness, kind: str) -> None:
        sample = self.case.sample(kind)
        harness.desired(sample)  # make what it needs first: only its own create is throttled
        if self.case.throttle is not None:
            self.case.throttle(harness.handle, 1)
            h, desired = harness.handler(kind), {**harness.plan(kind, harness.desired(sample), None)}
            desired.pop("id", None)
            with pytest.raises(ProviderError) as info:  # one call, as the engine sees it
                h.create({**desired, NAME_KEY: sample.name}, harness.op("create", kind))
            assert info.value.category is Category.THROTTLED, f"throttling came back as {info.value.category}"
            before = self.case.api_calls(harness.handle) if self.case.api_calls else 0
            self.case.throttle(harness.handle, 2)
            id, attrs = harness.create(sample)
            if self.case.api_calls is not None:
                assert self.case.api_calls(harness.handle) - before >= 3, "the throttled calls never happened"
        else:
            faults = parse_faults([{"op": "create", "kind": kind, "mode": "transient", "times": 2}])
            harness.provider = FaultyProvider(harness.provider, faults)
            id, attrs = harness.create(sample)
            assert faults.faults[0].fired == 2
        assert harness.read(kind, id, attrs) is not None

    def test_bad_settings_give_a_config_error_with_a_field_path(self, harness: Harness) -> None:
        assert self.case.bad_settings, "list settings the provider must refuse"
        from mlops_decl.config.errors import data_path
        from mlops_decl.provider_schema import errors, schema_of

        schema = schema_of(self.case.provider)
        for settings, path in self.case.bad_settings:
            with pytest.raises(ConfigError) as info:  # configure() refuses them
                harness.configured(settings)
            assert tuple(info.value.field) == tuple(path), f"{settings}: the error names {info.value.field}"
            assert str(info.value)
            found = errors(schema.settings, settings)  # and so does the schema, at validate
            if found:
                assert data_path(settings, found[0]["loc"]) == tuple(path), (
                    f"{settings}: the schema names {found[0]}"
                )

    def test_import_works(self, harness: Harness, kind: str) -> None:
        id, attrs = harness.create(self.case.sample(kind))
        other = self.other(harness)  # another checkout: it knows only what the user types
        try:
            for ref in [id, *self.case.import_refs(kind, id, attrs)]:
                found = other.import_(kind, ref)
                assert found is not None, f"importing {kind} `{ref}` found nothing"
                assert found[0] == id, f"importing `{ref}` gave the id `{found[0]}`, not `{id}`"
                shared = {k: v for k, v in found[1].items() if k in attrs}
                assert harness.drift(kind, shared, {k: attrs[k] for k in shared}) == []
            if getattr(other.handler(kind), "import_", None) is not None:
                assert other.import_(kind, "no-such-object-0") is None
        finally:
            other.close()

    # -- runtime actions ------------------------------------------------------------------
    def test_listed_actions_are_in_the_catalog(self, harness: Harness) -> None:
        from mlops_decl.actions.catalog import SPECS, capabilities

        listed = capabilities(self.case.provider)  # the class: nothing configured
        assert not listed - set(SPECS), f"actions the protocol does not have: {sorted(listed - set(SPECS))}"
        assert set(self.case.actions) <= listed, "the case calls actions the provider does not list"
        for kind, name in sorted(listed):
            assert kind in harness.provider.kinds(), f"{kind}.{name}: the provider has no {kind}"
            assert callable(harness.provider.action(kind, name)), f"{kind}.{name} is listed but not there"

    def test_action_results_match_their_types(self, harness: Harness, action: str) -> None:
        from mlops_decl.actions.catalog import spec
        from mlops_decl.actions.invoke import invoke
        from mlops_decl.provider import RuntimeContext

        kind, name = action.split(".", 1)
        sample = self.case.sample(kind)
        id, attrs = harness.ensure(sample)
        arguments = self.case.actions[(kind, name)](harness.handle, id, attrs)
        state = {f"{k}.{self.case.sample(k).name}": (k, i, a) for k, (i, a) in harness.made.items()}
        rt = RuntimeContext(harness.root, "conformance", None, "conformance", state)
        address = f"{kind}.{sample.name}"
        result = invoke(
            harness.provider, harness.provider.name, address, kind, name, id, attrs, rt, **arguments
        )
        found = spec(kind, name)
        assert found is not None, f"{kind}.{name} is not in the catalog"
        if result is None:
            assert found.optional, f"{kind}.{name} returned None; only an optional action may"
        else:
            assert isinstance(result, found.result_type()), f"{kind}.{name} returned {type(result).__name__}"

    # -- the engine end to end -----------------------------------------------------------
    def test_the_engine_applies_and_imports_every_sample_and_the_next_plan_is_empty(
        self, harness: Harness
    ) -> None:
        name = harness.provider.name
        addresses = write_project(self.case, harness.root, name, self.case.settings(harness.handle))
        with registered(self.case, name):
            applied = cli(harness.root, "apply", "--auto-approve")
            assert applied.rc == 0, applied.output
            ids = state_ids(harness.root)
            assert sorted(ids) == sorted(addresses)
            again = cli(harness.root, "plan", "--detailed-exitcode")
            assert again.rc == 0, f"the plan after apply is not empty:\n{again.output}"
            for address in addresses:  # forget every object, then import it back by each reference
                kind, id = address.split(".", 1)[0], ids[address]
                attrs = harness.read(kind, id, {}) or {}
                for ref in [id, *self.case.import_refs(kind, id, attrs)]:
                    assert cli(harness.root, "state", "rm", address).rc == 0
                    imported = cli(harness.root, "import", address, ref)
                    assert imported.rc == 0, imported.output
            assert state_ids(harness.root) == ids, "import recorded other ids"
            again = cli(harness.root, "plan", "--detailed-exitcode")
            assert again.rc == 0, f"the plan after import is not empty:\n{again.output}"
            gone = cli(harness.root, "destroy", "--auto-approve")
            assert gone.rc == 0, gone.output
        assert state_ids(harness.root) == {}
        for address, id in ids.items():
            assert harness.read(address.split(".", 1)[0], id, {}) is None, f"{address} outlived destroy"

    # -- fault injection, around any provider ---------------------------------------------
    def test_injected_faults_are_retried_on_every_call(self, harness: Harness, kind: str) -> None:
        sample = self.case.sample(kind)
        harness.desired(sample)
        spec = [
            {"op": op, "kind": kind, "mode": "transient", "times": 1}
            for op in ("create", "read", "update", "delete")
        ]
        faults = parse_faults(spec)
        harness.provider = FaultyProvider(harness.provider, faults)
        id, attrs = harness.create(sample)
        new = harness.update(sample, id, attrs, sample.in_place)
        assert harness.read(kind, id, new) is not None
        harness.delete(kind, id, new)
        assert [f.fired for f in faults.faults] == [1, 1, 1, 1]

    def test_a_hung_call_times_out(self, harness: Harness, kind: str) -> None:
        id, attrs = harness.create(self.case.sample(kind))
        h = FaultyProvider(
            harness.provider, parse_faults([{"op": "read", "mode": "hang", "seconds": 1}])
        ).handler(kind)
        assert h is not None
        t0 = time.perf_counter()
        with pytest.raises(CallTimeout):
            call_with_retry(lambda: h.read(id, attrs), timeout=0.2, what="read")
        assert time.perf_counter() - t0 < 2


def conformance(case: ProviderCase, name: str = "TestProviderConformance") -> type[ProviderConformance]:
    """The suite bound to `case`, as a test class: assign it to a module-level name starting
    with `Test` for pytest to collect it."""
    return type(name, (ProviderConformance,), {"case": case, "__module__": _caller_module()})


def _caller_module() -> str:
    import sys

    return str(sys._getframe(2).f_globals.get("__name__", __name__))
