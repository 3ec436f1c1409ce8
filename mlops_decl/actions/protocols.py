"""The runtime actions of each kind, as typed signatures.

A provider's `action(kind, name)` returns a callable `fn(id, attributes, rt, **arguments)`;
these Protocols spell out each one's arguments and result, for provider authors and mypy.
`id` and `attributes` are the managed object's, from the state; `rt` is the RuntimeContext.
Raise ProviderError (retryable=True when nothing took effect and a retry may succeed).
"""

from __future__ import annotations

from typing import Any, Protocol

from mlops_decl.actions.results import (
    EndedRuns,
    Materialized,
    OnlineRow,
    Prediction,
    RunHandle,
    RunStatus,
    Served,
)
from mlops_decl.provider import Attributes, RuntimeContext


class Run(Protocol):
    """Start a run of the pipeline. `wait=False`: return as soon as it is started. `wait=True`:
    the provider may run it to the end first (the local provider trains in process). Call
    `rt.started(run_id, job_id)` as soon as the ids are known, so a kill after that point is
    recovered through `run_status` rather than guessed."""

    def __call__(self, id: str, attrs: Attributes, rt: RuntimeContext, *, wait: bool) -> RunHandle: ...


class RunStatusOf(Protocol):
    def __call__(self, id: str, attrs: Attributes, rt: RuntimeContext, *, run_id: str) -> RunStatus: ...


class EndInterrupted(Protocol):
    """Mark killed the tracking runs of this pipeline begun between `since` and `until` (ISO
    times) that a killed process left running; for runs the engine has no id of."""

    def __call__(
        self, id: str, attrs: Attributes, rt: RuntimeContext, *, since: str, until: str | None = None
    ) -> EndedRuns: ...


class Predict(Protocol):
    def __call__(
        self,
        id: str,
        attrs: Attributes,
        rt: RuntimeContext,
        *,
        rows: list[dict[str, Any]],
        capture: bool = True,
    ) -> Prediction: ...


class Serve(Protocol):
    """Serve until interrupted (KeyboardInterrupt), then return where it served."""

    def __call__(
        self,
        id: str,
        attrs: Attributes,
        rt: RuntimeContext,
        *,
        port: int | None = None,
        max_body_mb: float | None = None,
        timeout: float | None = None,
        capture: bool = True,
    ) -> Served: ...


class Materialize(Protocol):
    def __call__(self, id: str, attrs: Attributes, rt: RuntimeContext) -> Materialized: ...


class Online(Protocol):
    def __call__(self, id: str, attrs: Attributes, rt: RuntimeContext, *, entity: str) -> OnlineRow: ...


class TrainingPipelineActions(Protocol):
    run: Run
    run_status: RunStatusOf
    end_interrupted: EndInterrupted


class EndpointActions(Protocol):
    predict: Predict
    serve: Serve


class FeatureGroupActions(Protocol):
    materialize: Materialize
    online: Online
