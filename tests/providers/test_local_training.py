"""Training runs on the local provider: a real MLflow SQLite registry and DuckDB store in a tmp
dir, small data. Runs register versions, are reproducible, log what promotion reads, and say
clearly what is wrong with a pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_decl.provider import ProviderError, RuntimeContext
from mlops_decl.providers.local.training.estimators import infer_task
from mlops_decl.providers.local.training.fit import train

CONTRACT = {
    "run_id", "model", "version", "metrics", "params", "dataset_versions", "config_hash", "git_commit", "rows",
    "task",
}  # fmt: skip
FEATURES = [
    {"name": "tenure", "dtype": "int"},
    {"name": "spend", "dtype": "float"},
    {"name": "plan", "dtype": "string"},
]
N = 600


def customers(path: Path, seed: int = 0) -> None:
    """A label that depends on every feature, with noise; one row per customer per month."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 60, N)
    spend = rng.normal(50, 15, N).round(2)
    plan = rng.choice(["basic", "plus", "pro"], N)
    logit = -0.08 * tenure + 0.04 * (spend - 50) + np.where(plan == "basic", 1.5, -0.5) + 1.0
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(N) % 200,
            "ts": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(N) // 200 * 30, unit="D"),
            "tenure": tenure,
            "spend": spend,
            "plan": plan,
            "churned": (rng.random(N) < 1 / (1 + np.exp(-logit))).astype(int),
            "ltv": (tenure * 12.0 + spend * 3 + rng.normal(0, 5, N)).round(2),
            "segment": np.select([tenure < 15, spend > 55], ["new", "high"], "core"),
        }
    )
    frame.to_csv(path, index=False)


class Project:
    """A project with dataset.cust, feature_group.cf and model.churn applied."""

    def __init__(self, local, root: Path, spec) -> None:  # type: ignore[no-untyped-def]
        self.local, self.root, self.spec = local, root, spec
        customers(root / "customers.csv")
        _, self.dataset = local.handler("dataset").create(spec("dataset", "cust", uri="customers.csv"))
        local.handler("feature_group").create(
            spec(
                "feature_group",
                "cf",
                source="cust",
                entity=["customer_id"],
                event_time="ts",
                features=FEATURES,
            )
        )
        local.handler("model").create(spec("model", "churn"))
        self.messages: list[str] = []

    def pipeline(self, **fields):  # type: ignore[no-untyped-def]
        base = {
            "inputs": ["cf"],
            "label": "churned",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "hyperparameters": {"C": 0.5, "max_iter": 500},
            "registers": "churn",
            "split": {"test_size": 0.25, "seed": 7},
        }
        desired = self.spec("training_pipeline", "train", **{**base, **fields})
        return self.local.handler("training_pipeline").create(desired)[1]

    def rt(self) -> RuntimeContext:
        return RuntimeContext(
            self.root, "cfg123", "deadbeef", "tester",
            resources={"dataset.cust": ("dataset", "cust", self.dataset)}, emit=self.messages.append,
        )  # fmt: skip

    def run(self, attrs):  # type: ignore[no-untyped-def]
        return train(self.local.env, "train", attrs, self.rt())

    def mlflow(self):  # type: ignore[no-untyped-def]
        import mlflow

        mlflow.set_tracking_uri(self.local.env.registry.uri)
        mlflow.set_registry_uri(self.local.env.registry.uri)
        return mlflow


@pytest.fixture
def proj(local_mlflow, project, spec) -> Project:  # type: ignore[no-untyped-def]
    return Project(local_mlflow, project, spec)


def test_classifier_runs_register_versions_reproducibly(
    proj: Project, capfd: pytest.CaptureFixture[str]
) -> None:
    attrs = proj.pipeline()
    first = proj.run(attrs)
    second = proj.run(attrs)
    assert capfd.readouterr().out == ""  # MLflow and scikit-learn keep off stdout

    assert set(first) == CONTRACT
    assert (first["model"], first["version"], second["version"]) == ("churn", 1, 2)
    assert first["task"] == "classification" and first["rows"] == {"train": 450, "test": 150}
    assert set(first["metrics"]) == {"auc", "accuracy", "f1", "precision", "recall", "log_loss"}
    assert 0.7 < first["metrics"]["auc"] <= 1 and 0.6 < first["metrics"]["accuracy"] <= 1
    assert 0 < first["metrics"]["log_loss"] < 0.69  # better than a coin
    assert first["metrics"] == second["metrics"]  # same data, params and seed
    assert first["run_id"] != second["run_id"]
    assert first["dataset_versions"] == {"dataset.cust": proj.dataset["version"]}
    assert (first["config_hash"], first["git_commit"]) == ("cfg123", "deadbeef")
    assert first["params"] == {
        "C": "0.5", "max_iter": "500", "random_state": "7", "estimator": "sklearn.linear_model.LogisticRegression",
        "task": "classification", "label": "churned", "test_size": "0.25", "seed": "7",
    }  # fmt: skip
    assert proj.messages[0] == "building training set: 600 rows, 3 features (point-in-time join)"
    assert proj.messages[-1].startswith("registered churn version 2 (")

    # What lineage and promotion read back from MLflow
    client = proj.local.env.registry.client()
    mv = client.get_model_version("churn", "2")
    assert mv.run_id == second["run_id"]
    logged = client.get_run(second["run_id"]).data
    assert logged.metrics == second["metrics"] and logged.params == second["params"]
    assert logged.tags["dataset_version.dataset.cust"] == proj.dataset["version"]
    assert (logged.tags["config_hash"], logged.tags["git_commit"], logged.tags["mlops_decl.pipeline"]) == (
        "cfg123", "deadbeef", "train",
    )  # fmt: skip
    local_path = client.download_artifacts(second["run_id"], "evaluation/eval.parquet", str(proj.root))
    evaluation = pd.read_parquet(local_path)
    assert list(evaluation.columns) == ["tenure", "spend", "plan", "__label__", "__pred__", "__score__"]
    assert len(evaluation) == 150 and evaluation["__score__"].between(0, 1).all()
    assert (evaluation["__pred__"] == evaluation["__label__"]).mean() == pytest.approx(
        second["metrics"]["accuracy"]
    )

    # The version carries its preprocessing: raw rows in, extra columns and new categories ignored
    model = proj.mlflow().sklearn.load_model("models:/churn/2")
    rows = pd.DataFrame(
        {"tenure": [2.0, 58.0], "spend": [80.0, 20.0], "plan": ["basic", "enterprise"], "noise": ["x", "y"]}
    )
    assert model.predict_proba(rows)[:, 1].tolist()[0] > 0.5 > model.predict_proba(rows)[:, 1].tolist()[1]


def test_regression_is_inferred_for_a_continuous_label(proj: Project) -> None:
    result = proj.run(proj.pipeline(label="ltv", estimator="sklearn.linear_model.Ridge", hyperparameters={}))
    assert result["task"] == "regression"
    assert set(result["metrics"]) == {"rmse", "mae", "r2"}
    assert result["metrics"]["r2"] > 0.9 and 0 < result["metrics"]["mae"] < result["metrics"]["rmse"] < 20
    assert "random_state" in result["params"]  # Ridge takes one: seeded from split.seed
    evaluation = pd.read_parquet(
        proj.local.env.registry.client().download_artifacts(
            result["run_id"], "evaluation/eval.parquet", str(proj.root)
        )
    )
    assert "__score__" not in evaluation and {"__label__", "__pred__"} <= set(evaluation)


TRAIN_PY = """\
from sklearn.linear_model import LogisticRegression
from helpers import NUMERIC  # a sibling module: the entrypoint's folder is importable


def train(X_train, y_train, hyperparameters):
    model = LogisticRegression(C=hyperparameters["C"], max_iter=1000)
    model.fit(X_train[NUMERIC], y_train)
    return Wrapped(model)


class Wrapped:
    # a class defined here: the version must still load without this file on sys.path
    def __init__(self, model):
        self.model, self.classes_ = model, model.classes_

    def predict(self, X):
        return self.model.predict(X[NUMERIC])

    def predict_proba(self, X):
        return self.model.predict_proba(X[NUMERIC])
"""


def test_entrypoint_trains_a_multiclass_model(proj: Project) -> None:
    (proj.root / "ml").mkdir()
    (proj.root / "ml" / "train.py").write_text(TRAIN_PY)
    (proj.root / "ml" / "helpers.py").write_text('NUMERIC = ["tenure", "spend"]\n')
    fg = proj.local.handler("feature_group")
    fg.update("cf", {}, proj.spec("feature_group", "cf", source="cust", entity=["customer_id"], event_time="ts",
                                  features=[*FEATURES, {"name": "segment", "dtype": "string"}]))  # fmt: skip
    attrs = proj.pipeline(
        label="segment", estimator=None, entrypoint="ml/train.py", hyperparameters={"C": 2.0}
    )
    result = proj.run(attrs)
    assert result["task"] == "classification"  # three string values
    assert result["params"]["entrypoint"] == "ml/train.py" and result["params"]["C"] == "2.0"
    assert set(result["metrics"]) == {"auc", "accuracy", "f1", "precision", "recall", "log_loss"}
    assert result["metrics"]["accuracy"] > 0.7 and result["metrics"]["auc"] > 0.8  # macro, one-vs-rest
    model = proj.mlflow().sklearn.load_model("models:/churn/1")
    assert model.predict(pd.DataFrame({"tenure": [3], "spend": [40.0], "plan": ["pro"]})).tolist() == ["new"]

    (proj.root / "ml" / "train.py").write_text("def fit(X, y):\n    pass\n")
    with pytest.raises(ProviderError, match="has no train\\(\\) function"):
        proj.run(attrs)


def test_missing_label_fails_before_anything_is_logged(proj: Project) -> None:
    with pytest.raises(ProviderError) as err:
        proj.run(proj.pipeline(label="cancelled"))
    assert str(err.value) == "the label spine, dataset `cust`, has no label column cancelled"
    assert "churned" in err.value.hint  # type: ignore[attr-defined]
    assert proj.local.env.registry.client().search_model_versions("name='churn'") == []


def test_a_model_not_applied_and_a_bad_estimator_are_named(proj: Project) -> None:
    with pytest.raises(ProviderError, match="model `other` is not in the local registry"):
        proj.run(proj.pipeline(registers="other"))
    with pytest.raises(ProviderError, match="cannot import estimator `sklearn.nope.Model`"):
        proj.run(proj.pipeline(estimator="sklearn.nope.Model"))
    with pytest.raises(ProviderError, match="rejects the hyperparameters"):
        proj.run(proj.pipeline(hyperparameters={"depth": 3}))


def test_task_inference() -> None:
    assert infer_task(pd.Series([0, 1, 1])) == "classification"
    assert infer_task(pd.Series([True, False])) == "classification"
    assert infer_task(pd.Series(["a", "b", "c"])) == "classification"
    assert infer_task(pd.Series([0.0, 1.0, None])) == "classification"  # whole numbers read as float
    assert infer_task(pd.Series(range(11))) == "regression"
    assert infer_task(pd.Series([0.5, 1.5])) == "regression"
