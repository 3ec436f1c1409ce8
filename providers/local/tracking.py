"""MLflow tracking for training runs: log a run (params, metrics, tags, model, evaluation
split) and register its version; end the runs a killed process left RUNNING.

mlflow is imported inside functions (validate and --help stay fast).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import tempfile
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from .base import LocalEnv


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Library warnings (convergence, future deprecations) off the user's terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


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


def log_and_register(
    env: LocalEnv,
    id: str,
    name: str,
    rt: RuntimeContext,
    model: Any,
    X_train: Any,
    evaluation: Any,
    params: dict[str, str],
    metrics: dict[str, float],
    versions: dict[str, str],
) -> tuple[str, int]:
    """One MLflow run (params, metrics, tags, model, evaluation split) and a new version."""
    client = env.registry.client()  # first: sets MLflow's offline/quiet environment
    import mlflow
    import mlflow.sklearn

    exp_id = env.registry.experiment_id(f"{env.ctx.project}/{id}")
    tags = {f"dataset_version.{a}": v for a, v in versions.items()}
    tags.update({"mlops_decl.pipeline": id, "config_hash": rt.config_hash, "git_commit": rt.git_commit or ""})
    sklearn_log = logging.getLogger("mlflow.sklearn")
    with env.registry._lock, quiet(), contextlib.redirect_stdout(sys.stderr):
        # The fluent API keeps global state: one run at a time, pointed at our store.
        mlflow.set_tracking_uri(env.registry.uri)
        mlflow.set_registry_uri(env.registry.uri)
        level = sklearn_log.level
        sklearn_log.setLevel(logging.ERROR)  # the cloudpickle caution, every time
        try:
            # tagged from the start, so a run a kill leaves RUNNING is found by its pipeline
            with mlflow.start_run(experiment_id=exp_id, run_name=id, tags=tags) as active:
                run_id = active.info.run_id
                mlflow.log_params(params)
                mlflow.log_metrics(metrics)
                # cloudpickle: ~100x faster than skops for boosted trees, and it carries classes
                # defined in an entrypoint file; loading needs trust either way.
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                    input_example=X_train.head(5),
                    pip_requirements=requirements(model),
                )
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "eval.parquet"
                    evaluation.to_parquet(path, index=False)
                    mlflow.log_artifact(str(path), artifact_path="evaluation")
            mv = client.create_model_version(
                name,
                source=info.model_uri,
                run_id=run_id,
                model_id=info.model_id,
                tags={"mlops_decl.pipeline": id},
            )
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(f"MLflow: logging or registering the run failed: {exc}") from exc
        finally:
            sklearn_log.setLevel(level)
    return run_id, int(mv.version)


def end_interrupted(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, since: str, until: str | None = None
) -> dict[str, Any]:
    """Marks KILLED the MLflow runs of this pipeline a killed process left RUNNING, begun
    between `since` and `until` (ISO times of its audit intent and the next one)."""
    if not env.registry.exists():
        return {"ended": []}
    exp = env.registry.find("experiment", lambda c: c.get_experiment_by_name(f"{env.ctx.project}/{id}"))
    if exp is None:
        return {"ended": []}
    start = int(datetime.fromisoformat(since).timestamp() * 1000)
    query = f"attributes.status = 'RUNNING' and tags.`mlops_decl.pipeline` = '{id}' and attributes.start_time >= {start}"
    if until is not None:
        query += f" and attributes.start_time < {int(datetime.fromisoformat(until).timestamp() * 1000)}"
    runs = env.registry.call("runs", lambda c: c.search_runs([exp.experiment_id], query))
    ended = [run.info.run_id for run in runs]

    def end(client: Any) -> None:
        for run_id in ended:
            client.set_terminated(run_id, "KILLED")

    env.registry.call("runs", end)
    return {"ended": ended}
