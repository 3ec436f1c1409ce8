"""The plan context: a handler whose plan names a `context` parameter sees its dependencies'
planned changes (action, what the refresh read, what is planned); one that does not is called
with the two-argument protocol, also through the fault-injecting wrapper the suite uses."""

from __future__ import annotations

from typing import Any

from mlops_decl.config.expressions import UNKNOWN
from mlops_decl.plan import Action, Change
from mlops_decl.plan_context import EMPTY, PlanContext, PlannedResource, call_plan
from mlops_decl.planner import upstream
from mlops_decl.provider import Attributes, Handler, Planned
from mlops_decl.state.model import ResourceState, State
from mlops_decl.testing.faults import Faults, FaultyHandler


class Memory(Handler):
    """A whole handler keeping its objects in a dict; these tests call only its plan."""

    def __init__(self) -> None:
        self.objects: dict[str, Attributes] = {}

    def read(self, id: str, prior: Attributes, *args: Any) -> Attributes | None:
        return self.objects.get(id)

    def create(self, desired: Attributes, *args: Any) -> tuple[str, Attributes]:
        id = str(len(self.objects))
        self.objects[id] = dict(desired)
        return id, self.objects[id]

    def update(self, id: str, prior: Attributes, desired: Attributes, *args: Any) -> Attributes:
        self.objects[id] = dict(desired)
        return self.objects[id]

    def delete(self, id: str, prior: Attributes, *args: Any) -> None:
        self.objects.pop(id, None)


class Follower(Memory):
    """Plans `ready` from its endpoint's planned version, as a monitor does."""

    kind = "monitor"

    def plan(
        self, desired: Attributes, prior: Attributes | None, context: PlanContext | None = None
    ) -> Planned:
        endpoint = context.resource("endpoint", desired["endpoint"]) if context is not None else None
        ready = endpoint is not None and endpoint.after.get("serving_version") is not None
        return Planned({**desired, "ready": ready})


class Plain(Memory):
    kind = "dataset"

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned | Attributes:
        return {**desired, "seen": prior}


def _change(address: str, action: Action, before: dict[str, Any] | None, after: dict[str, Any]) -> Change:
    kind, name = address.split(".", 1)
    return Change(address, kind, name, "sm", action, before, after)


def test_the_context_holds_each_dependency_as_planned() -> None:
    state = State()
    state.resources["endpoint.api"] = ResourceState(
        address="endpoint.api",
        kind="endpoint",
        provider="sm",
        id="api-1",
        attributes={"serving_version": None},
        dependencies=[],
    )
    changes = {
        "endpoint.api": _change(
            "endpoint.api", Action.UPDATE, {"serving_version": None}, {"serving_version": 1}
        ),
        "dataset.new": _change("dataset.new", Action.CREATE, None, {"uri": "s3://b/k"}),
    }
    planned = {
        "endpoint.api": ("api-1", {"serving_version": 1}),
        "dataset.new": (UNKNOWN, {"uri": "s3://b/k"}),
    }
    context = upstream(["endpoint.api", "dataset.new", "model.missing"], changes, planned, state)

    endpoint = context.resource("endpoint", "api-1")
    assert endpoint == PlannedResource(
        "endpoint.api", "endpoint", "api-1", "update", {"serving_version": None}, {"serving_version": 1}
    )
    assert (
        context.dependency("dataset.new") is not None and context.dependency("dataset.new").action == "create"
    )
    assert context.resource("endpoint", "other") is None and context.dependency("model.missing") is None

    # the handler that asks for it plans from it; without the endpoint it plans from prior alone
    got = Planned.of(call_plan(Follower(), {"endpoint": "api-1"}, None, context))
    assert got.attributes["ready"] is True
    assert Planned.of(call_plan(Follower(), {"endpoint": "api-1"}, None, EMPTY)).attributes["ready"] is False
    # a dependency outside the plan's scope is as the state records it, with no change
    kept = upstream(["endpoint.api"], {}, {"endpoint.api": ("api-1", {"serving_version": None})}, state)
    assert (
        kept.resource("endpoint", "api-1") is not None
        and kept.resource("endpoint", "api-1").action == "no-op"
    )
    assert Planned.of(call_plan(Follower(), {"endpoint": "api-1"}, None, kept)).attributes["ready"] is False


def test_a_plan_without_a_context_parameter_is_called_as_before_also_when_wrapped() -> None:
    context = PlanContext({})
    assert call_plan(Plain(), {"a": 1}, {"b": 2}, context) == {"a": 1, "seen": {"b": 2}}
    wrapped = FaultyHandler(Plain(), Faults())
    assert call_plan(wrapped, {"a": 1}, None, context) == {"a": 1, "seen": None}
    follower = FaultyHandler(Follower(), Faults())
    ready = PlanContext(
        {
            "endpoint.api": PlannedResource(
                "endpoint.api", "endpoint", "e", "update", {}, {"serving_version": UNKNOWN}
            )
        }
    )
    assert Planned.of(call_plan(follower, {"endpoint": "e"}, None, ready)).attributes["ready"] is True
