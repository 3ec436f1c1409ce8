"""training_pipeline, registry_policy, monitor: catalog-backed definitions."""

from __future__ import annotations

import sqlite3

import pytest

from mlops_decl.provider import ConfigError

CASES = {
    "training_pipeline": (
        {
            "inputs": ["cf"],
            "label": "churned",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "registers": "churn",
        },
        {"hyperparameters": {"C": 0.5}, "schedule": "0 3 * * 1"},
    ),
    "registry_policy": (
        {"model": "churn", "gates": [{"type": "metric_threshold", "metric": "auc", "min": 0.75}]},
        {"promote_to": "prod", "gates": [{"type": "manual_approval", "approvers": 2}]},
    ),
    "monitor": (
        {"baseline": "tx", "features": ["tenure_months"], "method": "psi", "threshold": 0.2},
        {"drift_share": 0.3, "on_drift": {"retrain": "churn_training"}},
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_lifecycle(local, project, spec, write_csv, kind):
    fields, change = CASES[kind]
    if kind == "monitor":  # a monitor profiles its baseline dataset at apply: give it one
        write_csv(project / "tx.csv", ["tenure_months"], [[m] for m in range(1, 40)])
        local.handler("dataset").create(spec("dataset", "tx", uri="tx.csv"))
    h = local.handler(kind)
    desired = spec(kind, "x", **fields)
    planned = h.plan(desired, None)
    assert planned["id"] == "x" and "_name" not in planned

    id, attrs = h.create(desired)
    assert id == "x"
    assert {k: v for k, v in attrs.items() if k in desired} == {
        k: v for k, v in desired.items() if k != "_name"
    }
    assert h.read(id, attrs) == attrs

    new = spec(kind, "x", **(fields | change))
    updated = h.update(id, attrs, new)
    for key in change:
        assert updated[key] == new[key]
    assert h.read(id, attrs) == updated

    with sqlite3.connect(project / ".mlops" / "local" / "catalog.db") as conn:
        conn.execute("DELETE FROM objects WHERE kind = ?", (kind,))
    assert h.read(id, updated) is None  # deleted behind our back

    h.create(desired)
    h.delete(id, attrs)
    assert h.read(id, attrs) is None
    h.delete(id, attrs)


def test_monitor_reference_profile_is_computed_at_apply(local, project, spec, write_csv):
    write_csv(project / "tx.csv", ["tenure_months"], [[m] for m in range(1, 40)])
    local.handler("dataset").create(spec("dataset", "tx", uri="tx.csv"))
    h = local.handler("monitor")
    assert "reference_profile" not in h.plan(spec("monitor", "m", baseline="tx"), None)
    _, attrs = h.create(spec("monitor", "m", baseline="tx"))
    assert attrs["reference_profile"]["rows"] == 39  # tests/providers/test_local_drift.py has more


def test_training_entrypoint_must_exist(local, project, spec):
    h = local.handler("training_pipeline")
    desired = spec("training_pipeline", "t", inputs=["cf"], label="y", entrypoint="train.py", registers="m")
    with pytest.raises(ConfigError) as err:
        h.plan(desired, None)
    assert err.value.field == ("entrypoint",) and "train.py" in str(err.value)
    (project / "train.py").write_text("def train(data):\n    pass\n")
    assert h.create(desired)[1]["entrypoint"] == "train.py"
