"""Estimators for training runs: the task a label implies, an estimator built from its class
path and wrapped with its preprocessing, the train/test split, and the evaluation metrics.

scikit-learn, pandas and numpy are imported inside functions (validate and --help stay fast).
"""

from __future__ import annotations

from typing import Any

from mlops_decl.checks.classpath import HINT, load_estimator_class

from ..errors import hinted

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
    # Only a class with fit and predict is built: a config names estimators, not code to run.
    try:
        klass = load_estimator_class(path)
    except (ImportError, AttributeError) as exc:
        raise hinted(f"cannot import estimator `{path}`: {exc}", HINT) from None
    except ValueError as exc:
        raise hinted(f"cannot use estimator `{path}`: {exc}", HINT) from None
    try:
        estimator = klass(**hyperparameters)
    except TypeError as exc:
        raise hinted(
            f"estimator `{path}` rejects the hyperparameters: {exc}",
            "check the names under `hyperparameters` against the class's parameters",
        ) from None
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    if "random_state" in params and "random_state" not in hyperparameters:
        estimator.set_params(random_state=seed)  # reproducible: same seed, same model
    return estimator


def is_numeric(col: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))


def pipeline_for(estimator: Any, X: Any) -> Any:
    """Wrap the estimator so a model version carries its preprocessing: strings one-hot
    encoded, numbers passed through; columns it was not trained on are ignored at predict."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    categorical = [c for c in X.columns if not is_numeric(X[c])]
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
        if is_numeric(out[c]):
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
        raise hinted(
            f"cannot split {len(X)} rows with test_size {test_size}: {exc}",
            "add rows or change split.test_size",
        ) from None
    return parts


def align(proba: Any, model_classes: list[Any], classes: list[Any]) -> Any:
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
