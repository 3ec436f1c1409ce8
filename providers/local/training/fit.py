"""Training runs: build the point-in-time training set, split, fit, evaluate, log to MLflow and
register a new model version (estimators.py builds and scores the model, tracking.py logs it).

Two ways to train:
- `estimator: some.module.Class`: any importable scikit-learn-style class, built with the
  pipeline's hyperparameters and wrapped in a Pipeline whose ColumnTransformer one-hot
  encodes string/bool features (unknown categories ignored) and passes numbers through, so a
  model version carries its preprocessing and predicts from raw rows, ignoring extra columns.
  When the class takes `random_state` and the hyperparameters do not set it, the split's
  seed is used, so the same data, params and seed give the same model.
- `entrypoint: train.py`: a Python file (relative to the project) defining
  `train(X_train, y_train, hyperparameters) -> model`. X_train is a DataFrame of the raw
  feature columns (numbers as float64, everything else as str), y_train a Series of labels,
  hyperparameters a dict. The returned object needs `predict` (and `predict_proba` for
  classifier scores) and must pickle; it is logged as an MLflow sklearn model.

pandas, scikit-learn and mlflow are imported inside functions (validate and --help stay fast).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from ..client import LocalEnv
from ..errors import hinted
from ..stores.feature_data import dataset_version, training_set
from ..stores.files import resolve_uri
from ..support.quiet import quiet
from .estimators import (
    align,
    evaluate,
    infer_task,
    is_numeric,
    make_estimator,
    pipeline_for,
    prepare,
    probabilities,
    split,
)
from .tracking import begin_run, fail_run, log_and_register


@contextlib.contextmanager
def _on_path(directory: Path) -> Iterator[None]:
    """The entrypoint's directory on sys.path while it loads, so it can import its siblings."""
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(directory))


def entrypoint_model(env: LocalEnv, path: str, X: Any, y: Any, hyper: dict[str, Any]) -> Any:
    """Import the entrypoint file and call its train(X_train, y_train, hyperparameters)."""
    file = resolve_uri(path, env.project_dir)
    spec = importlib.util.spec_from_file_location(f"mlops_entrypoint_{file.stem}", file)
    if spec is None or spec.loader is None or not file.is_file():
        raise hinted(f"entrypoint {file} is not a Python file", "give a .py file relative to the project")
    module = importlib.util.module_from_spec(spec)
    with _on_path(file.parent):
        try:
            spec.loader.exec_module(module)
            train = getattr(module, "train", None)
            if not callable(train):
                raise hinted(
                    f"entrypoint {path} has no train() function",
                    "define train(X_train, y_train, hyperparameters) returning a fitted model",
                )
            model = train(X, y, dict(hyper))
        except ProviderError:
            raise
        except Exception as exc:  # the user's code: say where, not just what
            raise hinted(
                f"entrypoint {path} failed: {type(exc).__name__}: {exc}",
                "run the entrypoint's train() on a small frame to debug it",
            ) from exc
    if not hasattr(model, "predict"):
        raise hinted(
            f"entrypoint {path}: train() returned {type(model).__name__}, which has no predict()",
            "return the fitted model (an object with predict, and predict_proba for classifiers)",
        )
    return model


def train(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, run_id: str | None = None
) -> dict[str, Any]:
    """Train, evaluate, log and register one version into MLflow run `run_id` (begun here,
    once the training set holds up, when None); what it made. A failure ends the run FAILED."""
    t0 = time.perf_counter()
    try:
        X, y, task, versions = _training_data(env, id, attrs, rt)
    except BaseException as exc:
        if run_id is not None:
            fail_run(env, run_id, str(exc) or type(exc).__name__)
        raise
    if run_id is None:  # from here on the run is tracked
        run_id = begin_run(env, id, rt, versions)
        rt.started(run_id, run_id)
    try:
        return _fit(env, id, attrs, rt, run_id, X, y, task, versions, t0)
    except BaseException as exc:
        fail_run(env, run_id, str(exc) or type(exc).__name__)
        raise


def _training_data(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext
) -> tuple[Any, Any, str, dict[str, str]]:
    """(X, y, task, dataset versions), or a ProviderError saying what is wrong with the data."""
    name = str(attrs["registers"])
    _check_model(env, name)  # fail before the work, not after it
    versions = _dataset_versions(env, attrs, rt)  # the files as this run reads them
    frame, features = training_set(env, attrs)
    label = attrs["label"]
    rows = len(frame)
    frame = frame.dropna(subset=[label])
    if not features:
        raise hinted(f"training_pipeline.{id} has no feature columns", "declare features on its inputs")
    unmatched = int(frame[features].isna().all(axis=1).sum())
    if unmatched:  # labels older than any feature row of their entity
        frame = frame[frame[features].notna().any(axis=1)]
        rt.emit(f"dropped {unmatched:,} label rows with no feature row at or before their time")
    if frame.empty:
        raise hinted(
            f"training_pipeline.{id}: the training set is empty ({rows} spine rows, none with a label and features)",
            "check that the label column is filled and feature rows precede the labels",
        )
    rt.emit(f"building training set: {len(frame):,} rows, {len(features)} features (point-in-time join)")
    X, y = prepare(frame[features]).reset_index(drop=True), frame[label].reset_index(drop=True)
    task = attrs.get("task") or infer_task(y)
    if task == "regression" and not is_numeric(y):
        raise hinted(
            f"label `{label}` is not numeric, so it cannot be regressed",
            "set task: classification, or choose a numeric label",
        )
    return X, y, task, versions


def _fit(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    run_id: str,
    X: Any,
    y: Any,
    task: str,
    versions: dict[str, str],
    t0: float,
) -> dict[str, Any]:
    name, label = str(attrs["registers"]), attrs["label"]
    spl = attrs.get("split") or {}
    seed, test_size = int(spl.get("seed", 42)), float(spl.get("test_size", 0.2))
    X_train, X_test, y_train, y_test = split(X, y, task, test_size, seed)
    hyper = dict(attrs.get("hyperparameters") or {})
    with quiet():
        if attrs.get("estimator"):
            estimator = make_estimator(str(attrs["estimator"]), hyper, seed)
            model = pipeline_for(estimator, X_train)
            rt.emit(f"fitting {attrs['estimator']} on {len(X_train):,} rows")
            try:
                model.fit(X_train, y_train)
            except (ValueError, TypeError) as exc:
                raise hinted(
                    f"{attrs['estimator']} failed to fit: {exc}",
                    "check the label and features suit the estimator (e.g. a regressor for a numeric label)",
                ) from None
            hyper = {
                k: v for k, v in estimator.get_params(deep=False).items() if k in hyper or k == "random_state"
            }
        else:
            rt.emit(f"fitting {attrs['entrypoint']}:train() on {len(X_train):,} rows")
            model = entrypoint_model(env, str(attrs["entrypoint"]), X_train, y_train, hyper)
        pred = model.predict(X_test)
        classes = sorted(y.unique().tolist()) if task == "classification" else []
        proba = probabilities(model, X_test) if task == "classification" else None
        if proba is not None:
            proba = align(proba, list(getattr(model, "classes_", classes)), classes)
        metrics = evaluate(task, y_test, pred, proba, classes)
    rt.emit("metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
    params = {k: str(v) for k, v in hyper.items()}
    params.update(
        {
            "estimator" if attrs.get("estimator") else "entrypoint": str(
                attrs.get("estimator") or attrs.get("entrypoint")
            )
        },
        task=task,
        label=str(label),
        test_size=str(test_size),
        seed=str(seed),
    )
    binary_score = proba[:, 1] if proba is not None and len(classes) == 2 else None
    evaluation = X_test.copy()
    evaluation["__label__"] = y_test.to_numpy()
    evaluation["__pred__"] = pred
    if binary_score is not None:
        evaluation["__score__"] = binary_score
    version = log_and_register(env, run_id, id, name, model, X_train, evaluation, params, metrics)
    rt.emit(f"registered {name} version {version} ({time.perf_counter() - t0:.1f}s)")
    return {
        "run_id": run_id,
        "model": name,
        "version": version,
        "metrics": metrics,
        "params": params,
        "dataset_versions": versions,
        "config_hash": rt.config_hash,
        "git_commit": rt.git_commit,
        "rows": {"train": len(X_train), "test": len(X_test)},
        "task": task,
    }


def _check_model(env: LocalEnv, name: str) -> None:
    found = env.registry.find(f"registered model `{name}`", lambda c: c.get_registered_model(name))
    if found is None:
        raise hinted(f"model `{name}` is not in the local registry", "run `mlops-decl apply` first")


def _dataset_versions(env: LocalEnv, attrs: Attributes, rt: RuntimeContext) -> dict[str, str]:
    """Content hashes of the datasets behind this run (labels and every input's source), by
    address."""
    ids = {str(attrs["labels"])} if attrs.get("labels") else set()
    for fg_id in attrs["inputs"]:
        fg = env.catalog.get("feature_group", str(fg_id))
        if fg is None:
            raise hinted(f"input feature_group.{fg_id} is not applied", "run `mlops-decl apply` first")
        ids.add(str(fg["source"]))
    out = {}
    for ds in sorted(ids):
        found = rt.find("dataset", ds)
        out[found[0] if found else f"dataset.{ds}"] = dataset_version(env, ds)
    return dict(sorted(out.items()))
