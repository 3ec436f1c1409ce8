"""The local ML loop's guarantees: point-in-time joins do not leak, runs are reproducible,
and the bias gate blocks a model that discriminates."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from runtime_helpers import mlops

from mlops_decl.provider import ProviderContext

PROJECT = """\
project: loop
resources:
  dataset:
    labels: {uri: labels.csv}
    events: {uri: events.csv}
  feature_group:
    activity:
      source: ${dataset.events}
      entity: [customer_id]
      event_time: ts
      features:
        - {name: spend, dtype: float}
        - {name: group, dtype: string}
  model:
    m: {}
  training_pipeline:
    train:
      inputs: ["${feature_group.activity}"]
      labels: ${dataset.labels}
      label: churned
      estimator: sklearn.linear_model.LogisticRegression
      hyperparameters: {max_iter: 500}
      registers: ${model.m}
  registry_policy:
    fair:
      model: ${model.m}
      gates:
        - {type: metric_threshold, metric: accuracy, min: 0.5}
        - {type: bias, metric: demographic_parity_difference, sensitive_feature: group, max: 0.2}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Labels at day 10 of each month; feature rows at day 1 and, after the label, day 20.
    The day-20 rows carry a spend of 999.0 that only a leaking join could see. The label is
    decided by `group`, so a model using it discriminates."""
    root = tmp_path_factory.mktemp("loop")
    rng = random.Random(3)
    labels, events = ["customer_id,ts,churned"], ["customer_id,ts,spend,group"]
    for c in range(300):
        group = "a" if c % 2 else "b"
        for month in (1, 2, 3):
            churned = int(rng.random() < (0.9 if group == "a" else 0.1))
            labels.append(f"{c},2026-0{month}-10T00:00:00,{churned}")
            events.append(f"{c},2026-0{month}-01T00:00:00,{rng.uniform(10, 100):.2f},{group}")
            events.append(f"{c},2026-0{month}-20T00:00:00,999.0,{group}")
    (root / "labels.csv").write_text("\n".join(labels) + "\n")
    (root / "events.csv").write_text("\n".join(events) + "\n")
    (root / "mlops.yaml").write_text(PROJECT)
    mlops(root, "apply", "--auto-approve")
    return root


def _env(root: Path):  # type: ignore[no-untyped-def]
    from mlops_decl.providers.local.provider import LocalProvider

    provider = LocalProvider()
    provider.configure({}, ProviderContext(root, root / ".mlops" / "local", "loop"))
    return provider


def test_point_in_time_join_never_sees_the_future(project: Path) -> None:
    import pandas as pd

    from mlops_decl.providers.local.stores.feature_data import load_dataset, training_set

    provider = _env(project)
    pipeline = json.loads(mlops(project, "state", "show", "training_pipeline.train", "--json").stdout)[
        "attributes"
    ]
    frame, features = training_set(provider.env, pipeline)
    provider.close()
    assert features == ["spend", "group"]
    assert len(frame) == 900
    assert not (frame["spend"] == 999.0).any(), "a feature value from after the label's time leaked in"
    assert frame["spend"].notna().all()
    # a naive join on the latest feature row per customer would have leaked: the test can fail
    events = load_dataset(provider.env, "events")
    naive = events.sort_values("ts").drop_duplicates("customer_id", keep="last")
    assert (naive["spend"] == 999.0).all()
    assert isinstance(frame["ts"].iloc[0], pd.Timestamp)


def test_same_data_params_and_seed_give_the_same_metrics(project: Path) -> None:
    first = json.loads(mlops(project, "run", "training_pipeline.train", "--json").stdout)
    second = json.loads(mlops(project, "run", "training_pipeline.train", "--json").stdout)
    assert second["version"] == first["version"] + 1
    assert first["metrics"] == second["metrics"]
    assert first["dataset_versions"] == second["dataset_versions"]
    assert set(first["metrics"]) == {"auc", "accuracy", "f1", "precision", "recall", "log_loss"}


def test_bias_gate_blocks_a_discriminating_model(project: Path) -> None:
    run = json.loads(mlops(project, "run", "training_pipeline.train", "--json").stdout)
    blocked = mlops(project, "promote", "model.m", "--version", str(run["version"]), check=False)
    assert blocked.returncode == 1
    assert "demographic_parity_difference" in blocked.stdout and "FAIL" in blocked.stdout
    assert "Not promoted" in blocked.stderr
    info = json.loads(mlops(project, "lineage", f"model.m@{run['version']}", "--format", "json").stdout)
    assert info["aliases"] == []  # the alias did not move
    audit = [json.loads(line) for line in mlops(project, "audit", "--json").stdout.splitlines()]
    promotion = [e for e in audit if e["event"] == "promotion"][-1]
    assert promotion["data"]["promoted"] is False
    bias = next(g for g in promotion["data"]["gates"] if "demographic" in g["gate"])
    assert bias["passed"] is False


def test_lineage_without_a_version_is_the_newest_one(project: Path) -> None:
    # The state's latest_version is what apply saw; runs since registered newer versions.
    run = json.loads(mlops(project, "run", "training_pipeline.train", "--json").stdout)
    info = json.loads(mlops(project, "lineage", "model.m", "--format", "json").stdout)
    assert info["version"] == run["version"]
