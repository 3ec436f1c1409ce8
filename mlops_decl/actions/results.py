"""What runtime actions return: one dataclass per action, plain JSON-able fields.

Providers build these; the engine checks the type of every result (a provider returning
something else is a provider bug, reported as one error) and reads fields by name. The model
and monitor evidence types live in mlops_decl/ml/ beside the logic that reads them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

# Run statuses. `queued` and `running` are still going on; the others are final.
QUEUED, RUNNING, SUCCEEDED, FAILED, KILLED = "queued", "running", "succeeded", "failed", "killed"
FINAL = frozenset({SUCCEEDED, FAILED, KILLED})


@dataclass(frozen=True)
class RunHandle:
    """`training_pipeline.run`: returned as soon as the run is started (or, on a provider that
    runs in process when asked to wait, finished). `job_id` is the provider's id of the job
    executing it (an execution ARN, a job run id), by which `run_status` follows the run from
    any machine; None when only the starting process can tell what became of it."""

    run_id: str
    status: str
    job_id: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


@dataclass(frozen=True)
class RunStatus:
    """`training_pipeline.run_status`: where a run stands and, once it succeeded, what it made."""

    run_id: str
    status: str
    job_id: str | None = None
    model: str | None = None  # the registered model's name (the model resource's id)
    version: int | None = None  # the version the run registered
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    dataset_versions: dict[str, str] = field(default_factory=dict)  # dataset address -> version
    config_hash: str | None = None
    git_commit: str | None = None
    started: str | None = None  # ISO 8601, UTC
    ended: str | None = None
    error: str | None = None  # why it failed or was killed, in the provider's words

    @property
    def final(self) -> bool:
        return self.status in FINAL


@dataclass(frozen=True)
class EndedRuns:
    """`training_pipeline.end_interrupted`: the tracking runs it marked killed."""

    ended: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Prediction:
    """`endpoint.predict`: one prediction per row, in order; `scores` is the positive class's
    probability for a binary classifier, else None."""

    endpoint: str
    model: str
    version: int
    predictions: list[Any]
    scores: list[float] | None = None


@dataclass(frozen=True)
class Served:
    """`endpoint.serve`: the address it served on, returned once serving stopped."""

    url: str


@dataclass(frozen=True)
class Materialized:
    """`feature_group.materialize`: rows written offline and online, from which source version."""

    offline_rows: int
    online_rows: int
    source_version: str


@dataclass(frozen=True)
class OnlineRow:
    """`feature_group.online`: the latest feature values of one entity."""

    entity: dict[str, Any]
    features: dict[str, Any]
    event_time: str | None = None


def to_json(result: Any) -> Any:
    """A result as plain JSON-able data (dataclasses to dicts, recursively)."""
    if is_dataclass(result) and not isinstance(result, type):
        return asdict(result)
    return result
