"""MLflow tracking for training runs: begin a run (its id is the run's and the job's), log
it (params, metrics, model, evaluation split) and register its version; a run's status; end
the runs a killed process left RUNNING.

The process training a run tags it with its pid and host, so `run_status` tells a run that is
going on from one whose process was killed: the latter is ended KILLED when asked.

mlflow is imported inside functions (validate and --help stay fast).
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_decl.actions.results import FAILED, KILLED, RUNNING, SUCCEEDED, EndedRuns, RunStatus
from mlops_decl.provider import Attributes, ProviderError, RuntimeContext
from mlops_decl.state.fsutil import pid_alive

from .base import LocalEnv
from .quiet import mlflow_quiet, quiet

PIPELINE_TAG = "mlops_decl.pipeline"
PID_TAG, HOST_TAG, ERROR_TAG = "mlops_decl.pid", "mlops_decl.host", "mlops_decl.error"
STATUSES = {
    "RUNNING": RUNNING,
    "SCHEDULED": RUNNING,
    "FINISHED": SUCCEEDED,
    "FAILED": FAILED,
    "KILLED": KILLED,
}


def requirements(model: Any) -> list[str]:
    """pip requirements named up front: MLflow's inference runs a subprocess (~10 s)."""
    from importlib import metadata

    import mlflow.sklearn

    reqs = list(mlflow.sklearn.get_default_pip_requirements(include_cloudpickle=True))
    steps = [s for _, s in getattr(model, "steps", [])] or [model]
    dists = metadata.packages_distributions()
    for step in steps:
        for dist in dists.get(type(step).__module__.split(".")[0], []):
            if not any(r.split("==")[0].lower() == dist.lower() for r in reqs):
                reqs.append(f"{dist}=={metadata.version(dist)}")
    return reqs


def begin_run(
    env: LocalEnv,
    id: str,
    rt: RuntimeContext,
    versions: dict[str, str],
    pid: int | None = None,
) -> str:
    """A RUNNING MLflow run for pipeline `id`, tagged with what it trains on and the process
    that trains it, `pid` (default: this one), so a run a kill leaves RUNNING is found by its
    pipeline and known to be dead."""
    exp_id = env.registry.experiment_id(f"{env.ctx.project}/{id}")
    tags = {f"dataset_version.{a}": v for a, v in versions.items()}
    tags.update({PIPELINE_TAG: id, "config_hash": rt.config_hash, "git_commit": rt.git_commit or ""})
    tags.update({PID_TAG: str(pid or os.getpid()), HOST_TAG: socket.gethostname()})
    made = env.registry.call("run", lambda c: c.create_run(exp_id, run_name=id, tags=tags))
    return str(made.info.run_id)


def fail_run(env: LocalEnv, run_id: str, error: str) -> None:
    """End a run FAILED, saying why (read back by run_status)."""

    def fail(c: Any) -> None:
        c.set_tag(run_id, ERROR_TAG, error[:4000])
        c.set_terminated(run_id, "FAILED")

    with contextlib.suppress(ProviderError):  # the failure being reported matters more
        env.registry.call("run", fail)


def log_and_register(
    env: LocalEnv,
    run_id: str,
    id: str,
    name: str,
    model: Any,
    X_train: Any,
    evaluation: Any,
    params: dict[str, str],
    metrics: dict[str, float],
) -> int:
    """Log params, metrics, model and evaluation split into the begun run `run_id`, end it
    FINISHED, and register a new version of model `name` from it."""
    client = env.registry.client()  # first: imports mlflow
    import mlflow.sklearn
    from mlflow.entities import Metric, Param
    from mlflow.models import Model

    # Through this provider's own client only: MLflow's fluent API (start_run, log_model) reads
    # a process-wide tracking URI, which two providers in one process would fight over.
    # mlflow_quiet: the cloudpickle caution, every time.
    with env.registry._lock, quiet(), mlflow_quiet():
        try:
            exp_id = client.get_run(run_id).info.experiment_id
            now = int(time.time() * 1000)
            client.log_batch(
                run_id,
                metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
                params=[Param(k, str(v)) for k, v in params.items()],
                synchronous=True,
            )
            logged = client.create_logged_model(exp_id, name="model", source_run_id=run_id)
            with tempfile.TemporaryDirectory() as tmp:
                saved = Path(tmp) / "model"
                # cloudpickle: ~100x faster than skops for boosted trees, and it carries classes
                # defined in an entrypoint file; loading needs trust either way.
                mlflow.sklearn.save_model(
                    model,
                    str(saved),
                    mlflow_model=Model(run_id=run_id, model_id=logged.model_id, artifact_path="model"),
                    serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                    input_example=X_train.head(5),
                    pip_requirements=requirements(model),
                )
                client.log_model_artifacts(logged.model_id, str(saved))
                path = Path(tmp) / "eval.parquet"
                evaluation.to_parquet(path, index=False)
                client.log_artifact(run_id, str(path), artifact_path="evaluation")
            client.finalize_logged_model(logged.model_id, "READY")
            client.set_terminated(run_id, "FINISHED")
            mv = client.create_model_version(
                name,
                source=logged.artifact_location,  # a models:/ URI would resolve through the global URI
                run_id=run_id,
                model_id=logged.model_id,
                tags={PIPELINE_TAG: id},
            )
        except ProviderError:
            raise
        except Exception as exc:  # the caller ends the run FAILED, saying why
            raise ProviderError(f"MLflow: logging or registering the run failed: {exc}") from exc
    return int(mv.version)


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
