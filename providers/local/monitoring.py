"""A monitor's current data on the local provider: a CSV or parquet file, or the inputs its
endpoint captured. The engine scores drift on it (mlops_decl/ml/monitor.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.ml.evidence import CurrentData
from mlops_decl.ml.profile import hinted
from mlops_decl.provider import RuntimeContext

from .profile import read_table

if TYPE_CHECKING:
    from .base import LocalEnv


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
    from . import capture

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
