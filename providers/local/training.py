"""Training runs: build the point-in-time training set, split, fit, evaluate, log to MLflow and
register a new model version.

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

from mlops_decl.actions.results import RUNNING, SUCCEEDED, RunHandle
from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from .base import LocalEnv
from .features import _error, dataset_version, training_set
from .files import resolve_uri
from .quiet import quiet
from .tracking import begin_run, fail_run, log_and_register

CLASSIFIER_METRICS = ("auc", "accuracy", "f1", "precision", "recall", "log_loss")
REGRESSOR_METRICS = ("rmse", "mae", "r2")
MAX_CLASSES = 10  # a label with at most this many distinct int/bool/string values is a class


def infer_task(y: Any) -> str:
    """classification for strings, bools and whole numbers with few distinct values."""
    import pandas as pd

    values = y.dropna()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "classification"
    whole = pd.api.types.is_integer_dtype(values) or bool((values == values.round()).all())
    return "classification" if whole and values.nunique() <= MAX_CLASSES else "regression"


def make_estimator(path: str, hyperparameters: dict[str, Any], seed: int) -> Any:
    module, _, cls = path.rpartition(".")
    try:
        klass = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError, ValueError) as exc:
        raise _error(
            f"cannot import estimator `{path}`: {exc}",
            "give a dotted class path, e.g. sklearn.ensemble.GradientBoostingClassifier",
        ) from None
    try:
        estimator = klass(**hyperparameters)
    except TypeError as exc:
        raise _error(
            f"estimator `{path}` rejects the hyperparameters: {exc}",
            "check the names under `hyperparameters` against the class's parameters",
        ) from None
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    if "random_state" in params and "random_state" not in hyperparameters:
        estimator.set_params(random_state=seed)  # reproducible: same seed, same model
    return estimator


def _numeric(col: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))


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


def prepare(X: Any) -> Any:
    """Plain dtypes sklearn understands: numbers (nullable ints too) as float64, the rest as
    str (missing: "None"). Serving calls it too, so training and predict see the same."""
    import pandas as pd

    out = X.copy()
    for c in out.columns:
        if _numeric(out[c]):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
        else:
            out[c] = out[c].astype("object").where(out[c].notna(), None).astype(str)
    return out


def evaluate(task: str, y_true: Any, pred: Any, proba: Any, classes: list[Any]) -> dict[str, float]:
    """Regression: rmse, mae, r2. Classification: accuracy, f1, precision, recall (binary:
    of the positive class, the second of the sorted labels; multiclass: macro averages), and
    with probabilities auc (multiclass: one-vs-rest, macro) and log_loss."""
    from sklearn import metrics as m

    if task == "regression":
        return {
            "rmse": float(m.mean_squared_error(y_true, pred) ** 0.5),
            "mae": float(m.mean_absolute_error(y_true, pred)),
            "r2": float(m.r2_score(y_true, pred)),
        }
    binary = len(classes) == 2
    avg: dict[str, Any] = {"average": "binary", "pos_label": classes[1]} if binary else {"average": "macro"}
    out = {
        "accuracy": float(m.accuracy_score(y_true, pred)),
        "f1": float(m.f1_score(y_true, pred, zero_division=0, **avg)),
        "precision": float(m.precision_score(y_true, pred, zero_division=0, **avg)),
        "recall": float(m.recall_score(y_true, pred, zero_division=0, **avg)),
    }
    if proba is not None:
        out["log_loss"] = float(m.log_loss(y_true, proba, labels=classes))
        try:
            if binary:
                out["auc"] = float(m.roc_auc_score(y_true == classes[1], proba[:, 1]))
            else:
                out["auc"] = float(
                    m.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=classes)
                )
        except ValueError:
            pass  # one class only in the test split: AUC is undefined
    return dict(sorted(out.items()))


def probabilities(model: Any, X: Any) -> Any:
    """predict_proba's matrix, or None for a model without it."""
    if not hasattr(model, "predict_proba"):
        return None
    try:
        return model.predict_proba(X)
    except (AttributeError, NotImplementedError):  # e.g. SVC(probability=False)
        return None


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
        raise _error(f"entrypoint {file} is not a Python file", "give a .py file relative to the project")
    module = importlib.util.module_from_spec(spec)
    with _on_path(file.parent):
        try:
            spec.loader.exec_module(module)
            train = getattr(module, "train", None)
            if not callable(train):
                raise _error(
                    f"entrypoint {path} has no train() function",
                    "define train(X_train, y_train, hyperparameters) returning a fitted model",
                )
            model = train(X, y, dict(hyper))
        except ProviderError:
            raise
        except Exception as exc:  # the user's code: say where, not just what
            raise _error(
                f"entrypoint {path} failed: {type(exc).__name__}: {exc}",
                "run the entrypoint's train() on a small frame to debug it",
            ) from exc
    if not hasattr(model, "predict"):
        raise _error(
            f"entrypoint {path}: train() returned {type(model).__name__}, which has no predict()",
            "return the fitted model (an object with predict, and predict_proba for classifiers)",
        )
    return model


def split(X: Any, y: Any, task: str, test_size: float, seed: int) -> tuple[Any, Any, Any, Any]:
    """train_test_split, stratified for classifiers whenever every class can be split."""
    from sklearn.model_selection import train_test_split

    if task == "classification" and y.value_counts().min() >= 2:
        try:
            parts: tuple[Any, Any, Any, Any] = train_test_split(
                X, y, test_size=test_size, random_state=seed, stratify=y
            )
            return parts
        except ValueError:
            pass  # a test split smaller than the number of classes: split plainly
    try:
        parts = train_test_split(X, y, test_size=test_size, random_state=seed)
    except ValueError as exc:
        raise _error(
            f"cannot split {len(X)} rows with test_size {test_size}: {exc}",
            "add rows or change split.test_size",
        ) from None
    return parts


def run(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, wait: bool = True) -> RunHandle:
    """The `run` action: with `wait`, train in this process to the end; without, in a
    detached worker process (worker.py), returning once the run is begun. The MLflow run id
    is both the run's id and its job's."""
    if not wait:
        from .worker import start

        run_id = start(env, id, attrs, rt)
        rt.started(run_id, run_id)
        return RunHandle(run_id, RUNNING, run_id)
    run_id = str(train(env, id, attrs, rt)["run_id"])
    return RunHandle(run_id, SUCCEEDED, run_id)


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
        raise _error(f"training_pipeline.{id} has no feature columns", "declare features on its inputs")
    unmatched = int(frame[features].isna().all(axis=1).sum())
    if unmatched:  # labels older than any feature row of their entity
        frame = frame[frame[features].notna().any(axis=1)]
        rt.emit(f"dropped {unmatched:,} label rows with no feature row at or before their time")
    if frame.empty:
        raise _error(
            f"training_pipeline.{id}: the training set is empty ({rows} spine rows, none with a label and features)",
            "check that the label column is filled and feature rows precede the labels",
        )
    rt.emit(f"building training set: {len(frame):,} rows, {len(features)} features (point-in-time join)")
    X, y = prepare(frame[features]).reset_index(drop=True), frame[label].reset_index(drop=True)
    task = attrs.get("task") or infer_task(y)
    if task == "regression" and not _numeric(y):
        raise _error(
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
                raise _error(
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
            proba = _align(proba, list(getattr(model, "classes_", classes)), classes)
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


def _align(proba: Any, model_classes: list[Any], classes: list[Any]) -> Any:
    """predict_proba's columns in the order of `classes` (a class absent from the training
    split has probability 0)."""
    import numpy as np

    if model_classes == classes:
        return proba
    out = np.zeros((proba.shape[0], len(classes)))
    for j, c in enumerate(model_classes):
        if c in classes:
            out[:, classes.index(c)] = proba[:, j]
    return out


def _check_model(env: LocalEnv, name: str) -> None:
    found = env.registry.find(f"registered model `{name}`", lambda c: c.get_registered_model(name))
    if found is None:
        raise _error(f"model `{name}` is not in the local registry", "run `mlops-decl apply` first")


def _dataset_versions(env: LocalEnv, attrs: Attributes, rt: RuntimeContext) -> dict[str, str]:
    """Content hashes of the datasets behind this run (labels and every input's source), by
    address."""
    ids = {str(attrs["labels"])} if attrs.get("labels") else set()
    for fg_id in attrs["inputs"]:
        fg = env.catalog.get("feature_group", str(fg_id))
        if fg is None:
            raise _error(f"input feature_group.{fg_id} is not applied", "run `mlops-decl apply` first")
        ids.add(str(fg["source"]))
    out = {}
    for ds in sorted(ids):
        found = rt.find("dataset", ds)
        out[found[0] if found else f"dataset.{ds}"] = dataset_version(env, ds)
    return dict(sorted(out.items()))
