"""What providers hand the engine for its ML decisions: typed results of the model and monitor
actions (docs/runtime-actions.md), and bindings that call them on one resource.

A provider fetches; it never judges. The engine evaluates the gates on a `VersionEvidence`, asks
for `Scores` of the champion on the candidate's evaluation rows, and moves the alias with a
compare-and-set `set_alias`, which raises `AliasConflict` when the alias no longer points at the
version the gates compared against. Drift reads `ReferenceData` and `CurrentData`.

Tables (`rows`) are pandas DataFrames; they are typed `Any` so that importing this module costs
nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mlops_decl.provider import ProviderError

T = TypeVar("T")

# call(action_name, **arguments) -> the action's result, for one resource
Call = Callable[..., Any]


@dataclass(frozen=True)
class VersionEvidence:
    """A model version as the registry records it: what the gates and lineage read."""

    model: str  # the registered model's name
    version: int
    run_id: str | None
    metrics: dict[str, float]
    params: dict[str, str]
    created: str  # ISO-8601 UTC
    aliases: list[str] = field(default_factory=list)  # the aliases pointing at this version
    approvals: list[str] = field(default_factory=list)  # distinct approvers
    dataset_versions: dict[str, str] = field(default_factory=dict)  # dataset address -> version
    tags: dict[str, str] = field(default_factory=dict)
    config_hash: str | None = None
    git_commit: str | None = None
    pipeline: str | None = None  # the training pipeline's id that registered it
    source: str | None = None  # where the model's artifacts are
    evaluation_split: str | None = None  # where the run kept its evaluation split, if it did


@dataclass(frozen=True)
class EvaluationRows:
    """A version's evaluation split: feature columns plus `__label__`, `__pred__` and, for
    classifiers with probabilities, `__score__` (the positive class's)."""

    version: int
    rows: Any  # DataFrame
    source: str


@dataclass(frozen=True)
class Scores:
    """A version's predictions on given rows. `error` says why it could not score them (the
    rows lack a column it needs), which a gate reports as evidence, not as a failure."""

    version: int
    predictions: Any = None  # array-like, one per row
    scores: Any = None  # positive-class probability per row, binary classifiers only
    error: str | None = None


@dataclass(frozen=True)
class VersionSummary:
    version: int
    run_id: str | None
    pipeline: str | None
    created: str  # ISO-8601 UTC, milliseconds


@dataclass(frozen=True)
class ModelVersions:
    model: str
    versions: list[VersionSummary]
    aliases: dict[str, int]  # alias -> version


@dataclass(frozen=True)
class AliasMove:
    model: str
    alias: str
    version: int
    previous: int | None


@dataclass(frozen=True)
class Approval:
    model: str
    version: int
    by: str
    approvals: list[str]


@dataclass(frozen=True)
class ReferenceData:
    """A monitor's baseline: its dataset, the version it is at now, and its rows when asked."""

    dataset: str
    version: str | None
    source: str
    rows: Any = None  # DataFrame of the monitored columns, or None when not read


@dataclass(frozen=True)
class CurrentData:
    rows: Any  # DataFrame with (at least) the monitored columns
    source: str  # "FILE" or "captured inputs of endpoint NAME"


class AliasConflict(ProviderError):
    """The alias moved since the caller read it: a compare-and-set that did not set."""

    def __init__(self, model: str, alias: str, expected: int | None, actual: int | None):
        was = f"version {expected}" if expected is not None else "no version"
        now = f"version {actual}" if actual is not None else "no version"
        super().__init__(
            f"alias `{alias}` of model `{model}` moved while the gates ran: it points at {now}, "
            f"not {was} the gates compared against"
        )
        self.model, self.alias, self.expected, self.actual = model, alias, expected, actual


def typed(result: Any, cls: type[T], action: str) -> T:
    """The action's result, checked against its declared type."""
    if not isinstance(result, cls):
        raise ProviderError(f"`{action}` returned {type(result).__name__}, not {cls.__name__}")
    return result


@dataclass(frozen=True)
class ModelActions:
    """The evidence actions of one model, through `call` (which maps the provider's errors)."""

    call: Call

    def version_evidence(self, version: int) -> VersionEvidence:
        return typed(self.call("version_evidence", version=version), VersionEvidence, "version_evidence")

    def evaluation_rows(self, version: int) -> EvaluationRows | None:
        found = self.call("evaluation_rows", version=version)
        return None if found is None else typed(found, EvaluationRows, "evaluation_rows")

    def score(self, version: int, rows: Any) -> Scores:
        return typed(self.call("score", version=version, rows=rows), Scores, "score")

    def list_versions(self) -> ModelVersions:
        return typed(self.call("list_versions"), ModelVersions, "list_versions")

    def set_alias(self, alias: str, version: int, expected_current: int | None) -> AliasMove:
        moved = self.call("set_alias", alias=alias, version=version, expected_current=expected_current)
        return typed(moved, AliasMove, "set_alias")

    def add_approval(self, version: int, by: str) -> Approval:
        return typed(self.call("add_approval", version=version, by=by), Approval, "add_approval")


@dataclass(frozen=True)
class MonitorActions:
    """The data actions of one monitor."""

    call: Call

    def reference_data(self, read: bool = True) -> ReferenceData:
        return typed(self.call("reference_data", read=read), ReferenceData, "reference_data")

    def current_data(self, data: str | None, columns: list[str]) -> CurrentData:
        found = self.call("current_data", data=data, columns=columns)
        return typed(found, CurrentData, "current_data")
