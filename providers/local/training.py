"""Training runs: build the point-in-time training set, split, fit, evaluate, log to MLflow and
register a new model version."""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
import time
from pathlib import Path
from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from .base import LocalEnv
from .features import training_set

CLASSIFIER_METRICS = ("auc", "accuracy", "f1", "precision", "recall", "log_loss")
REGRESSOR_METRICS = ("rmse", "mae", "r2")


def infer_task(y: Any) -> str:
    import pandas as pd

    if pd.api.types.is_float_dtype(y) and y.nunique() > 10:
        return "regression"
    return "classification" if y.nunique() <= 10 else "regression"


def make_estimator(path: str, hyperparameters: dict[str, Any]) -> Any:
    module, _, cls = path.rpartition(".")
    try:
        klass = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ProviderError(f"cannot import estimator `{path}`: {exc}") from None
    try:
        return klass(**hyperparameters)
    except TypeError as exc:
        raise ProviderError(f"estimator `{path}` rejects the hyperparameters: {exc}") from None


def pipeline_for(estimator: Any, X: Any) -> Any:
    """Wrap the estimator so a model version carries its preprocessing: strings one-hot
    encoded, numbers passed through; columns it was not trained on are ignored at predict."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    categorical = [c for c in X.columns if not _numeric(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    pre = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", "passthrough", numeric),
        ],
        remainder="drop",
    )
    return Pipeline([("preprocess", pre), ("model", estimator)])


def _numeric(col: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))


def prepare(X: Any) -> Any:
    """Plain dtypes sklearn understands: nullable ints to float, strings to object."""
    import pandas as pd

    out = X.copy()
    for c in out.columns:
        if _numeric(out[c]):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
        else:
            out[c] = out[c].astype("object").where(out[c].notna(), None).astype(str)
    return out


def evaluate(task: str, y_true: Any, pred: Any, score: Any) -> dict[str, float]:
    from sklearn import metrics as m

    if task == "regression":
        return {
            "rmse": float(m.mean_squared_error(y_true, pred) ** 0.5),
            "mae": float(m.mean_absolute_error(y_true, pred)),
            "r2": float(m.r2_score(y_true, pred)),
        }
    binary = score is not None and score.ndim == 1
    avg = "binary" if binary else "macro"
    out = {
        "accuracy": float(m.accuracy_score(y_true, pred)),
        "f1": float(m.f1_score(y_true, pred, average=avg, zero_division=0)),
        "precision": float(m.precision_score(y_true, pred, average=avg, zero_division=0)),
        "recall": float(m.recall_score(y_true, pred, average=avg, zero_division=0)),
    }
    if score is not None:
        try:
            out["auc"] = float(
                m.roc_auc_score(y_true, score, multi_class="ovr")
                if not binary
                else m.roc_auc_score(y_true, score)
            )
            out["log_loss"] = float(m.log_loss(y_true, score))
        except ValueError:
            pass  # a single class in the test split: no AUC to report
    return out


def scores_of(model: Any, X: Any) -> Any:
    if not hasattr(model, "predict_proba"):
        return None
    proba = model.predict_proba(X)
    return proba[:, 1] if proba.shape[1] == 2 else proba


def _entrypoint_model(env: LocalEnv, path: str, X: Any, y: Any, hyper: dict[str, Any]) -> Any:
    file = (env.project_dir / path).resolve()
    spec = importlib.util.spec_from_file_location(f"mlops_entry_{file.stem}", file)
    if spec is None or spec.loader is None or not file.is_file():
        raise ProviderError(f"entrypoint {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "train"):
        raise ProviderError(f"entrypoint {path} has no train(X, y, hyperparameters) function")
    return module.train(X, y, hyper)


def run(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    t0 = time.perf_counter()
    frame, features = training_set(env, attrs)
    label = attrs["label"]
    frame = frame.dropna(subset=[label])
    rt.emit(f"training set: {len(frame):,} rows, {len(features)} features (point-in-time join)")
    X, y = prepare(frame[features]), frame[label]
    task = attrs.get("task") or infer_task(y)
    split = attrs.get("split") or {}
    seed, test_size = int(split.get("seed", 42)), float(split.get("test_size", 0.2))
    stratify = y if task == "classification" and y.value_counts().min() >= 2 else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=stratify
    )
    hyper = dict(attrs.get("hyperparameters") or {})
    if attrs.get("estimator"):
        model = pipeline_for(make_estimator(attrs["estimator"], hyper), X_train)
        rt.emit(f"fitting {attrs['estimator']} on {len(X_train):,} rows")
        model.fit(X_train, y_train)
    else:
        rt.emit(f"calling {attrs['entrypoint']}:train on {len(X_train):,} rows")
        model = _entrypoint_model(env, attrs["entrypoint"], X_train, y_train, hyper)
    pred = model.predict(X_test)
    score = scores_of(model, X_test) if task == "classification" else None
    metrics = evaluate(task, y_test, pred, score)
    versions = _dataset_versions(env, attrs, rt)
    result = _log_and_register(
        env, id, attrs, rt, model, X_train, X_test, y_test, pred, score, metrics, versions, task
    )
    result.update(
        rows={"train": len(X_train), "test": len(X_test)},
        task=task,
        seconds=round(time.perf_counter() - t0, 2),
    )
    rt.emit(f"registered model {result['model']} version {result['version']}")
    return result


def _dataset_versions(env: LocalEnv, attrs: Attributes, rt: RuntimeContext) -> dict[str, str]:
    """Content hashes of the datasets behind this run, by address, as they are now."""
    from .files import detect_format, resolve_uri

    ids = {str(attrs["labels"])} if attrs.get("labels") else set()
    for fg_id in attrs["inputs"]:
        fg = env.catalog.get("feature_group", str(fg_id)) or {}
        ids.add(str(fg.get("source")))
    out = {}
    for ds in sorted(ids):
        row = env.catalog.get("dataset", ds) or {}
        path = resolve_uri(str(row.get("path") or row.get("uri")), env.project_dir)
        facts = env.inspector.inspect(path, detect_format(path, row.get("format")))
        found = rt.find("dataset", ds)
        out[found[0] if found else f"dataset.{ds}"] = facts.version
    return out


def _trusted_types(model: Any) -> list[str] | None:
    """We fitted this model here: trust the sklearn types skops would otherwise refuse."""
    try:
        import skops.io as sio
    except ImportError:
        return None
    return list(sio.get_untrusted_types(data=sio.dumps(model)))


def _log_and_register(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    model: Any,
    X_train: Any,
    X_test: Any,
    y_test: Any,
    pred: Any,
    score: Any,
    metrics: dict[str, float],
    versions: dict[str, str],
    task: str,
) -> dict[str, Any]:
    import mlflow
    import mlflow.sklearn

    name = str(attrs["registers"])
    client = env.registry.client()
    exp_id = env.registry.experiment_id(f"{env.ctx.project}/{id}")
    params = {k: str(v) for k, v in (attrs.get("hyperparameters") or {}).items()}
    params.update(
        estimator=str(attrs.get("estimator") or attrs.get("entrypoint")),
        task=task,
        test_size=str((attrs.get("split") or {}).get("test_size", 0.2)),
        seed=str((attrs.get("split") or {}).get("seed", 42)),
    )
    tags = {f"dataset_version.{a}": v for a, v in versions.items()}
    tags.update({"mlops_decl.pipeline": id, "config_hash": rt.config_hash, "git_commit": rt.git_commit or ""})
    import warnings

    warnings.filterwarnings("ignore", module="mlflow")
    with env.registry._lock:  # MLflow's fluent API keeps global state: one run at a time
        mlflow.set_tracking_uri(env.registry.uri)
        mlflow.set_registry_uri(env.registry.uri)
        with mlflow.start_run(experiment_id=exp_id, run_name=f"{id}") as active:
            run_id = active.info.run_id
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
            mlflow.set_tags(tags)
            info = mlflow.sklearn.log_model(
                model, name="model", input_example=X_train.head(3), skops_trusted_types=_trusted_types(model)
            )
            evaluation = X_test.copy()
            evaluation["__label__"] = y_test.to_numpy()
            evaluation["__pred__"] = pred
            if score is not None and getattr(score, "ndim", 1) == 1:
                evaluation["__score__"] = score
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "eval.parquet"
                evaluation.to_parquet(path, index=False)
                mlflow.log_artifact(str(path), artifact_path="evaluation")
        mv = client.create_model_version(name, source=info.model_uri, run_id=run_id, model_id=info.model_id)
    return {
        "run_id": run_id,
        "model": name,
        "version": int(mv.version),
        "metrics": metrics,
        "params": params,
        "dataset_versions": versions,
        "config_hash": rt.config_hash,
        "git_commit": rt.git_commit,
    }
