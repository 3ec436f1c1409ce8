"""The training pipeline actions on the local provider: `run` (in this process, or detached in
a worker), `run_status` (an MLflow run's status, metrics and registered version) and
`end_interrupted` (the runs a killed process left RUNNING, ended KILLED).

The process training a run tags it with its pid and host, so `run_status` tells a run that is
going on from one whose process was killed: the latter is ended KILLED when asked.
"""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from typing import Any

from mlops_decl.actions.results import FAILED, KILLED, RUNNING, SUCCEEDED, EndedRuns, RunHandle, RunStatus
from mlops_decl.provider import Attributes, ProviderError, RuntimeContext
from mlops_decl.state.fsutil import pid_alive

from ..client import LocalEnv
from ..training.fit import train
from ..training.tracking import ERROR_TAG, HOST_TAG, PID_TAG, PIPELINE_TAG


def run(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, wait: bool = True) -> RunHandle:
    """The `run` action: with `wait`, train in this process to the end; without, in a
    detached worker process (training/worker.py), returning once the run is begun. The MLflow run id
    is both the run's id and its job's."""
    if not wait:
        from ..training.worker import start

        run_id = start(env, id, attrs, rt)
        rt.started(run_id, run_id)
        return RunHandle(run_id, RUNNING, run_id)
    run_id = str(train(env, id, attrs, rt)["run_id"])
    return RunHandle(run_id, SUCCEEDED, run_id)


STATUSES = {
    "RUNNING": RUNNING,
    "SCHEDULED": RUNNING,
    "FINISHED": SUCCEEDED,
    "FAILED": FAILED,
    "KILLED": KILLED,
}


def run_status(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, run_id: str) -> RunStatus:
    """The run's MLflow status, metrics and registered version. A RUNNING run whose process
    (on this host) is gone is ended KILLED first."""
    found = env.registry.find("run", lambda c: c.get_run(run_id)) if env.registry.exists() else None
    if found is None or found.data.tags.get(PIPELINE_TAG) != id:
        err = ProviderError(f"no run {run_id} of training_pipeline.{id}")
        err.hint = "`mlops-decl audit --event run` lists the runs"  # type: ignore[attr-defined]
        raise err
    info, tags = found.info, found.data.tags
    error = tags.get(ERROR_TAG)
    if info.status == "RUNNING" and _killed(tags):
        _terminate(env, run_id)
        info = env.registry.call("run", lambda c: c.get_run(run_id)).info
        error = f"the process training it (pid {tags.get(PID_TAG)}) ended before the run did"
    status = STATUSES.get(str(info.status), FAILED)
    version = None
    if status == SUCCEEDED:
        mvs = env.registry.call("versions", lambda c: c.search_model_versions(f"run_id = '{run_id}'"))
        version = max((int(mv.version) for mv in mvs if mv.name == attrs["registers"]), default=None)
    return RunStatus(
        run_id=run_id,
        status=status,
        job_id=run_id,
        model=str(attrs["registers"]),
        version=version,
        metrics=dict(sorted(found.data.metrics.items())),
        params=dict(found.data.params),
        dataset_versions={
            k.removeprefix("dataset_version."): v
            for k, v in sorted(tags.items())
            if k.startswith("dataset_version.")
        },
        config_hash=tags.get("config_hash") or None,
        git_commit=tags.get("git_commit") or None,
        started=_iso(info.start_time),
        ended=_iso(info.end_time),
        error=error,
    )


def _terminate(env: LocalEnv, run_id: str) -> None:
    env.registry.call("run", lambda c: c.set_terminated(run_id, "KILLED"))


def _killed(tags: dict[str, str]) -> bool:
    """Whether the process that tagged a RUNNING run is gone (known only on its own host)."""
    pid = tags.get(PID_TAG, "")
    return tags.get(HOST_TAG) == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def _iso(millis: int | None) -> str | None:
    return None if not millis else datetime.fromtimestamp(millis / 1000, timezone.utc).isoformat()


def end_interrupted(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, since: str, until: str | None = None
) -> EndedRuns:
    """Marks KILLED the MLflow runs of this pipeline a killed process left RUNNING, begun
    between `since` and `until` (ISO times of its audit intent and the next one)."""
    if not env.registry.exists():
        return EndedRuns([])
    exp = env.registry.find("experiment", lambda c: c.get_experiment_by_name(f"{env.ctx.project}/{id}"))
    if exp is None:
        return EndedRuns([])
    start = int(datetime.fromisoformat(since).timestamp() * 1000)
    query = f"attributes.status = 'RUNNING' and tags.`mlops_decl.pipeline` = '{id}' and attributes.start_time >= {start}"
    if until is not None:
        query += f" and attributes.start_time < {int(datetime.fromisoformat(until).timestamp() * 1000)}"
    found = env.registry.call("runs", lambda c: c.search_runs([exp.experiment_id], query))
    # a run tagged by a process still alive (a --no-wait worker) is going on, not interrupted
    ended = [str(r.info.run_id) for r in found if PID_TAG not in r.data.tags or _killed(r.data.tags)]

    def end(client: Any) -> None:
        for run_id in ended:
            client.set_terminated(run_id, "KILLED")

    env.registry.call("runs", end)
    return EndedRuns(ended)
