"""The monitor actions on the local provider: `reference_data` (the baseline dataset's file
as a table) and `current_data` (a CSV or parquet file, or the inputs its endpoint captured).
The engine scores drift on them (mlops_decl/ml/monitor.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.ml.evidence import CurrentData, ReferenceData
from mlops_decl.ml.profile import hinted
from mlops_decl.provider import RuntimeContext

from ..stores.profiles import baseline_facts, checked_baseline, read_table

if TYPE_CHECKING:
    from ..client import LocalEnv


def current_data(
    env: LocalEnv, id: str, attrs: dict[str, Any], rt: RuntimeContext, data: str | None, columns: list[str]
) -> CurrentData:
    """`columns` of `data` (a path, relative to the project), or of the endpoint's captures."""
    if data is not None:
        path = Path(data).expanduser()
        if not path.is_absolute():
            path = rt.project_dir / path
        return CurrentData(read_table(path, columns, "--data"), str(path))
    endpoint = attrs.get("endpoint")
    if not endpoint:
        raise hinted(
            "this monitor has no endpoint, so a check needs current data",
            "pass --data FILE (a CSV or parquet file with the monitored features)",
        )
    from ..stores import capture

    frame = capture.read_inputs(env, str(endpoint))
    if frame is None or len(frame) == 0:
        raise hinted(
            f"endpoint `{endpoint}` has no captured inputs yet",
            "score some rows first (`mlops-decl predict endpoint.NAME --data FILE`), or pass --data FILE",
        )
    missing = [f for f in columns if f not in frame.columns]
    if missing:
        raise hinted(
            f"the captured inputs of endpoint `{endpoint}` lack the feature(s) {', '.join(missing)}",
            "send those fields in predict requests, or pass --data FILE",
        )
    return CurrentData(frame, f"captured inputs of endpoint {endpoint}")


def reference_data(
    env: LocalEnv, id: str, attrs: dict[str, Any], rt: RuntimeContext | None, read: bool = True
) -> ReferenceData:
    """The baseline's version now and, with `read`, its rows (the monitored columns). Without
    `read` it never fails: an unreadable baseline has version None (its dataset's plan says why)."""
    dataset = str(attrs.get("baseline") or "")
    if not read:
        facts = baseline_facts(env, dataset)
        return ReferenceData(dataset, facts.version if facts else None, str(facts.path) if facts else "")
    facts = checked_baseline(env, attrs)
    features = attrs.get("features")
    rows = read_table(Path(facts.path), list(features) if features is not None else None, "baseline")
    return ReferenceData(dataset, facts.version, str(facts.path), rows)
