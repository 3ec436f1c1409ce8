"""Model versions for promotion and serving tests, made the way training/fit.py makes them (a
scikit-learn Pipeline logged to MLflow, registered with its model_id, plus the evaluation
split `evaluation/eval.parquet`) but without a feature store, so these tests do not depend on
training."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mlops_decl.provider import RuntimeContext

FEATURES = ["tenure", "spend", "plan", "group"]


def frame(n: int, seed: int, *, biased: bool = False) -> Any:
    """Synthetic churn rows. Rows come in pairs identical but for `group`, so a model that
    ignores `group` has a demographic parity difference of exactly 0. With `biased`, the label
    is mostly `group`, so a model that uses it discriminates."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    half = n // 2
    tenure = rng.uniform(0, 60, half)
    spend = rng.uniform(10, 100, half)
    plan = rng.choice(["basic", "pro"], half)
    noise = rng.normal(0, 0.15, half)
    churned = ((spend / 100 - tenure / 60 + 0.3 * (plan == "pro") + noise) > 0).astype(int)
    base = pd.DataFrame({"tenure": tenure, "spend": spend, "plan": plan, "churned": churned})
    rows = pd.concat([base.assign(group="a"), base.assign(group="b")], ignore_index=True)
    if biased:
        flip = rng.random(len(rows)) < 0.05
        rows["churned"] = ((rows["group"] == "a") ^ flip).astype(int)
    return rows[[*FEATURES, "churned"]]


def pipeline(features: list[str], estimator: Any = None) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    cats = [c for c in features if c in ("plan", "group")]
    nums = [c for c in features if c not in cats]
    pre = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore"), cats), ("numeric", "passthrough", nums)]
    )
    return Pipeline([("preprocess", pre), ("model", estimator or LogisticRegression(max_iter=1000))])


def log_version(
    provider: Any,
    name: str,
    *,
    uses: list[str] | None = None,
    biased: bool = False,
    weak: bool = False,
    seed: int = 0,
    keep_split: bool = True,
    tags: dict[str, str] | None = None,
    split_columns: list[str] | None = None,
) -> int:
    """Fit, log and register a version of `name`; returns its number.

    `uses`: the columns the model reads (default all but `group`: a fair model); `weak`: a model
    that only sees noise; `keep_split=False`: no evaluation/eval.parquet (gates fall back to
    the logged metrics); `split_columns`: the feature columns the split keeps (default all).
    """
    import mlflow
    import mlflow.sklearn
    import numpy as np
    from sklearn import metrics as m

    env = provider.env
    client = env.registry.client()
    if env.registry.find("model", lambda c: c.get_registered_model(name)) is None:
        client.create_registered_model(name)
    train, test = frame(800, seed, biased=biased), frame(400, seed + 1000, biased=biased)
    X_train, y_train, X_test, y_test = train[FEATURES], train["churned"], test[FEATURES], test["churned"]
    if weak:  # a model that learnt from noise: AUC near 0.5
        model = pipeline(["tenure"]).fit(X_train, np.random.default_rng(seed).integers(0, 2, len(X_train)))
    else:
        model = pipeline(uses or ["tenure", "spend", "plan"]).fit(X_train, y_train)
    pred, score = model.predict(X_test), model.predict_proba(X_test)[:, 1]
    metrics = {
        "auc": float(m.roc_auc_score(y_test, score)),
        "accuracy": float(m.accuracy_score(y_test, pred)),
        "log_loss": float(m.log_loss(y_test, score)),
    }
    exp = env.registry.experiment_id("tests")
    with env.registry._lock:
        mlflow.set_tracking_uri(env.registry.uri)
        mlflow.set_registry_uri(env.registry.uri)
        with mlflow.start_run(experiment_id=exp) as run:
            mlflow.log_params({"C": "1.0", "seed": str(seed)})
            mlflow.log_metrics(metrics)
            mlflow.set_tags(
                {
                    "dataset_version.dataset.customers": f"sha256:{seed:04d}",
                    "config_hash": "cfg123",
                    "git_commit": "abc123",
                    "mlops_decl.pipeline": "churn_training",
                    **(tags or {}),
                }
            )
            # pinned requirements: inferring them costs about 8 s a model
            info = mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"])
            if keep_split:
                split = X_test[split_columns or FEATURES].copy()
                split["__label__"], split["__pred__"], split["__score__"] = y_test.to_numpy(), pred, score
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "eval.parquet"
                    split.to_parquet(path, index=False)
                    mlflow.log_artifact(str(path), artifact_path="evaluation")
        mv = client.create_model_version(
            name, source=info.model_uri, run_id=run.info.run_id, model_id=info.model_id
        )
    return int(mv.version)


def runtime(
    project: Path, resources: dict[str, tuple[str, str, dict[str, Any]]] | None = None
) -> RuntimeContext:
    """A RuntimeContext whose state holds `resources` (address -> (kind, id, attributes))."""
    lines: list[str] = []
    rt = RuntimeContext(
        project_dir=project,
        config_hash="cfg123",
        git_commit="abc123",
        who="tester",
        resources=dict(resources or {}),
    )
    rt.emit = lines.append
    rt.emitted = lines  # type: ignore[attr-defined]
    return rt


CHURN_STATE = {
    "model.churn": ("model", "churn", {"name": "churn"}),
    "training_pipeline.churn_training": (
        "training_pipeline",
        "churn_training",
        {"registers": "churn", "label": "churned"},
    ),
    "endpoint.churn_api": ("endpoint", "churn_api", {"model": "churn", "version": "champion"}),
}
