"""What the double's training and evaluation steps do: a real scikit-learn fit on the
training data in S3, and its metrics on a held-out split (seeded: the same data and
hyperparameters give the same metrics).

The training step's hyperparameters (strings, as SageMaker passes them) name the estimator
and the data: `mlops_estimator` (an importable class path), `mlops_label`, optionally
`mlops_features` (comma-separated; default every other column), `mlops_task`
(classification | regression; default from the label), `mlops_test_size`, `mlops_seed`.
Every other hyperparameter goes to the estimator, JSON-decoded when it parses.
"""

from __future__ import annotations

import importlib
import io
import json
from dataclasses import dataclass
from typing import Any

RESERVED = ("mlops_estimator", "mlops_label", "mlops_features", "mlops_task", "mlops_test_size", "mlops_seed")


@dataclass
class Trained:
    model: Any  # a fitted sklearn Pipeline taking the raw feature columns
    features: list[str]
    label: str
    task: str
    x_test: Any
    y_test: Any
    rows: int


def read_table(data: bytes, content_type: str | None, key: str) -> Any:
    import pandas as pd

    if (content_type or "").endswith("parquet") or key.endswith(".parquet"):
        return pd.read_parquet(io.BytesIO(data))
    return pd.read_csv(io.BytesIO(data))


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def fit(table: Any, hyperparameters: dict[str, str]) -> Trained:
    from sklearn.compose import ColumnTransformer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    label = hyperparameters.get("mlops_label")
    if not label or label not in table.columns:
        raise ValueError(
            f"the label column `{label}` is not in the training data ({', '.join(table.columns)})"
        )
    names = [f for f in hyperparameters.get("mlops_features", "").split(",") if f]
    features = names or [c for c in table.columns if c != label]
    missing = [f for f in features if f not in table.columns]
    if missing:
        raise ValueError(f"features missing from the training data: {', '.join(missing)}")
    y = table[label]
    task = hyperparameters.get("mlops_task") or (
        "regression" if y.dtype.kind == "f" and y.nunique() > 10 else "classification"
    )
    module, _, cls = hyperparameters.get(
        "mlops_estimator", "sklearn.linear_model.LogisticRegression"
    ).rpartition(".")
    params = {k: _value(v) for k, v in hyperparameters.items() if k not in RESERVED}
    estimator = getattr(importlib.import_module(module), cls)(**params)
    strings = [f for f in features if table[f].dtype.kind not in "biuf"]
    prep = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore"), strings)], remainder="passthrough"
    )
    model = Pipeline([("prep", prep), ("model", estimator)])
    seed = int(hyperparameters.get("mlops_seed", "42"))
    test_size = float(hyperparameters.get("mlops_test_size", "0.2"))
    x_train, x_test, y_train, y_test = train_test_split(
        table[features], y, test_size=test_size, random_state=seed
    )
    model.fit(x_train, y_train)
    return Trained(model, features, label, task, x_test, y_test, len(table))


def metrics(trained: Trained) -> dict[str, float]:
    """The evaluation step's metrics on the held-out split."""
    from sklearn import metrics as m

    predicted = trained.model.predict(trained.x_test)
    if trained.task == "regression":
        return {
            "rmse": float(m.mean_squared_error(trained.y_test, predicted) ** 0.5),
            "mae": float(m.mean_absolute_error(trained.y_test, predicted)),
            "r2": float(m.r2_score(trained.y_test, predicted)),
        }
    binary = trained.y_test.nunique() <= 2
    average = "binary" if binary else "macro"
    out = {
        "accuracy": float(m.accuracy_score(trained.y_test, predicted)),
        "f1": float(m.f1_score(trained.y_test, predicted, average=average, zero_division=0)),
        "precision": float(m.precision_score(trained.y_test, predicted, average=average, zero_division=0)),
        "recall": float(m.recall_score(trained.y_test, predicted, average=average, zero_division=0)),
    }
    if binary and hasattr(trained.model, "predict_proba") and trained.y_test.nunique() == 2:
        out["auc"] = float(m.roc_auc_score(trained.y_test, trained.model.predict_proba(trained.x_test)[:, 1]))
    return out


def split(trained: Trained) -> bytes:
    """The held-out split as the evaluation step keeps it (parquet): the feature columns, the
    label as `__label__`, the prediction as `__pred__` and, for a binary classifier, the
    positive class's probability as `__score__` (what the engine's gates read)."""
    frame = trained.x_test.copy()
    frame["__label__"] = trained.y_test.to_numpy()
    frame["__pred__"] = trained.model.predict(trained.x_test)
    if hasattr(trained.model, "predict_proba") and trained.y_test.nunique() == 2:
        frame["__score__"] = trained.model.predict_proba(trained.x_test)[:, 1]
    out = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(out, index=False)
    return out.getvalue()


def artifact(trained: Trained) -> bytes:
    """model.tar.gz as SageMaker writes it, holding the fitted pipeline (model.pkl)."""
    import pickle
    import tarfile

    payload = pickle.dumps({"model": trained.model, "features": trained.features, "label": trained.label})
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.pkl")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return out.getvalue()
