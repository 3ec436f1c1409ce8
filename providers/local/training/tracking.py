"""MLflow tracking for training runs: begin a run (its id is the run's and the job's), tagged
with the process that trains it, end one FAILED, log it (params, metrics, model, evaluation
split) and register its version. Reading a run back is actions/training.py's.

mlflow is imported inside functions (validate and --help stay fast).
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from mlops_decl.provider import ProviderError, RuntimeContext

from ..client import LocalEnv
from ..support.quiet import mlflow_quiet, quiet

PIPELINE_TAG = "mlops_decl.pipeline"
PID_TAG, HOST_TAG, ERROR_TAG = "mlops_decl.pid", "mlops_decl.host", "mlops_decl.error"


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
