"""What a handler's plan may see of the resources it depends on: their planned change.

The planner plans in dependency order, so when it plans a resource it already knows what
this apply will do to each of its dependencies. A handler whose status follows another
resource's (a monitor scheduled once its endpoint serves a version) reads that here and plans
the state one apply leaves, instead of the state the last refresh saw, so that one apply
converges. A handler opts in by naming a `context` parameter on plan:

    def plan(self, desired, prior, context: PlanContext | None = None) -> Planned: ...

The same context is given at plan, when a saved plan is derived again (plan_verify), and when
apply re-plans a resource with its dependencies' applied attributes; a plain `plan(desired,
prior)` is called as before. Like plan itself, reading the context makes no API call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_decl.provider import Attributes, Handler, Planned

CREATE, UPDATE, REPLACE, NOOP, DELETE = "create", "update", "replace", "no-op", "delete"


@dataclass(frozen=True)
class PlannedResource:
    """One dependency as this apply leaves it. `after` holds UNKNOWN where a value is known
    only once applied (at apply time, after the dependency was applied, it is what the
    provider returned); `before` is what the refresh read (None: it does not exist yet)."""

    address: str
    kind: str
    id: Any  # UNKNOWN while it is to be created
    action: str  # create | update | replace | no-op
    before: Attributes | None
    after: Attributes


class PlanContext:
    """The planned changes of one resource's dependencies, by address or by kind and id."""

    def __init__(self, dependencies: Mapping[str, PlannedResource]):
        self.dependencies = dict(dependencies)

    def dependency(self, address: str) -> PlannedResource | None:
        return self.dependencies.get(address)

    def resource(self, kind: str, id: Any) -> PlannedResource | None:
        """The dependency of that kind whose id is `id` (the value a field referencing it
        resolved to), or None when the resource does not depend on one."""
        for planned in self.dependencies.values():
            if planned.kind == kind and planned.id == id:
                return planned
        return None


EMPTY = PlanContext({})


@functools.cache
def _takes_context(plan: Any) -> bool:
    try:
        return "context" in inspect.signature(plan).parameters
    except (TypeError, ValueError):  # a builtin or C callable: the two-argument protocol
        return False


def call_plan(
    handler: Handler, desired: Attributes, prior: Attributes | None, context: PlanContext
) -> Planned | Attributes:
    """handler.plan, given the context when its plan takes one."""
    if _takes_context(type(handler).plan):
        return handler.plan(desired, prior, context=context)  # type: ignore[call-arg]
    return handler.plan(desired, prior)
