"""Every runtime action the engine calls, by (kind, action): its arguments and result type.

A provider lists the pairs it supports (`Provider.actions()`, readable without configuring
it) and returns, for each call, an instance of the action's result type. Result types are
named "module:Class" and imported only when a result is checked, so validate and plan,
which read this table, import none of them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from mlops_decl.actions.capabilities import Capability, capabilities

__all__ = ["SPECS", "ActionSpec", "Capability", "capabilities", "spec"]

_RESULTS = "mlops_decl.actions.results"
_EVIDENCE = "mlops_decl.ml.evidence"


@dataclass(frozen=True)
class ActionSpec:
    kind: str
    name: str
    arguments: str  # keyword arguments after (id, attributes, rt), for docs and errors
    result: str  # "module:Class"; "builtins:dict" for an action that returns a JSON object
    long: bool = False  # may take as long as the work does: no default time limit
    optional: bool = False  # None is a result too ("there is none")

    def result_type(self) -> type:
        module, _, name = self.result.partition(":")
        found: type = getattr(importlib.import_module(module), name)
        return found


def _spec(
    kind: str, name: str, arguments: str, result: str, long: bool = False, optional: bool = False
) -> ActionSpec:
    return ActionSpec(kind, name, arguments, result, long, optional)


SPECS: dict[Capability, ActionSpec] = {
    (s.kind, s.name): s
    for s in (
        # training_pipeline: start a run, follow it, close what a killed process left open
        _spec("training_pipeline", "run", "wait: bool", f"{_RESULTS}:RunHandle", long=True),
        _spec("training_pipeline", "run_status", "run_id: str", f"{_RESULTS}:RunStatus"),
        _spec(
            "training_pipeline",
            "end_interrupted",
            "since: str, until: str | None",
            f"{_RESULTS}:EndedRuns",
        ),
        # endpoint
        _spec("endpoint", "predict", "rows: list[dict], capture: bool", f"{_RESULTS}:Prediction"),
        _spec(
            "endpoint",
            "serve",
            "port: int | None, max_body_mb: float | None, timeout: float | None, capture: bool",
            f"{_RESULTS}:Served",
            long=True,
        ),
        # feature_group
        _spec("feature_group", "materialize", "", f"{_RESULTS}:Materialized"),
        _spec("feature_group", "online", "entity: str", f"{_RESULTS}:OnlineRow"),
        # model and monitor: evidence for the engine's gates, promotion and drift (mlops_decl/ml/)
        _spec("model", "version_evidence", "version: int", f"{_EVIDENCE}:VersionEvidence"),
        _spec("model", "evaluation_rows", "version: int", f"{_EVIDENCE}:EvaluationRows", optional=True),
        _spec("model", "score", "version: int, rows: DataFrame", f"{_EVIDENCE}:Scores"),
        _spec("model", "list_versions", "", f"{_EVIDENCE}:ModelVersions"),
        _spec(
            "model",
            "set_alias",
            "alias: str, version: int, expected_current: int | None",
            f"{_EVIDENCE}:AliasMove",
        ),
        _spec("model", "add_approval", "version: int, by: str", f"{_EVIDENCE}:Approval"),
        _spec("monitor", "reference_data", "read: bool", f"{_EVIDENCE}:ReferenceData"),
        _spec("monitor", "current_data", "data: str | None, columns: list[str]", f"{_EVIDENCE}:CurrentData"),
    )
}


def spec(kind: str, name: str) -> ActionSpec | None:
    return SPECS.get((kind, name))
