"""The local provider's model evidence and primitives (providers/local/actions/registry.py) on the
local MLflow registry: approvals, version evidence, scores, versions and the alias's
compare-and-set. The gates that judge this evidence are tested in tests/ml/."""

from __future__ import annotations

from typing import Any

import pytest
from local_versions import CHURN_STATE, FEATURES, frame, log_version, runtime

from mlops_decl.ml.evidence import AliasConflict, AliasMove, ModelVersions, Scores, VersionEvidence
from mlops_decl.provider import ProviderError

MODEL = {"name": "churn"}


@pytest.fixture
def act(local_mlflow, project):  # noqa: ANN001, ANN201 - call a model action as the engine does
    rt = runtime(project, CHURN_STATE)

    def call(action: str, **kwargs: Any) -> Any:
        fn = local_mlflow.action("model", action)
        assert fn is not None
        return fn("churn", MODEL, rt, **kwargs)

    return call


def alias_of(provider, name: str = "churn") -> dict[str, int]:  # noqa: ANN001
    return {a: int(v) for a, v in provider.env.registry.client().get_registered_model(name).aliases.items()}


def test_approvals_are_version_tags_and_count_once_per_person(local_mlflow, act) -> None:
    v = log_version(local_mlflow, "churn")
    first = act("add_approval", version=v, by="alice")
    assert (first.model, first.version, first.by, first.approvals) == ("churn", v, "alice", ["alice"])
    act("add_approval", version=v, by="bob")
    act("add_approval", version=v, by="alice")  # again: still one approver
    out = act("add_approval", version=v, by="carol@example.com")  # not a valid MLflow tag key as is
    assert out.approvals == ["alice", "bob", "carol@example.com"]
    assert act("version_evidence", version=v).approvals == out.approvals
    tags = local_mlflow.env.registry.client().get_model_version("churn", str(v)).tags
    assert "mlops_decl.approval.alice" in tags and tags["mlops_decl.approval.alice"].startswith("20")

    with pytest.raises(ProviderError, match=r"model `churn` has no version 7 \(versions: 1\)"):
        act("add_approval", version=7, by="alice")
    with pytest.raises(ProviderError, match="needs a name"):
        act("add_approval", version=v, by=" ")


def test_version_evidence(local_mlflow, act) -> None:
    v = log_version(local_mlflow, "churn", seed=7)
    act("set_alias", alias="champion", version=v, expected_current=None)
    ev = act("version_evidence", version=v)
    assert isinstance(ev, VersionEvidence)
    assert ev.version == v and ev.run_id is not None and len(ev.run_id) == 32
    assert ev.metrics["auc"] > 0.8 and ev.params == {"C": "1.0", "seed": "7"}
    assert ev.dataset_versions == {"dataset.customers": "sha256:0007"}
    assert (ev.config_hash, ev.git_commit, ev.pipeline) == ("cfg123", "abc123", "churn_training")
    assert ev.aliases == ["champion"] and ev.created.startswith("20")
    assert ev.evaluation_split == f"runs:/{ev.run_id}/evaluation/eval.parquet"
    assert "config_hash" in ev.tags and not any(k.startswith("mlflow.") for k in ev.tags)
    with pytest.raises(ProviderError, match="has no version 5"):
        act("version_evidence", version=5)

    bare = log_version(local_mlflow, "churn", keep_split=False)
    assert act("version_evidence", version=bare).evaluation_split is None
    assert act("evaluation_rows", version=bare) is None
    rows = act("evaluation_rows", version=v)
    assert rows.version == v and len(rows.rows) == 400
    assert {"__label__", "__pred__", "__score__", *FEATURES} <= set(rows.rows.columns)


def test_scores_of_a_version_on_raw_rows_set_no_global_mlflow_uri(local_mlflow, act, project) -> None:
    import mlflow

    v = log_version(local_mlflow, "churn")  # (the test helper logs through the fluent API)
    elsewhere = f"sqlite:///{project / 'elsewhere.db'}"
    mlflow.set_tracking_uri(elsewhere)  # a user's own global URI, which the provider leaves alone
    mlflow.set_registry_uri(elsewhere)
    rows = frame(40, seed=9)[FEATURES]
    scored = act("score", version=v, rows=rows)
    assert isinstance(scored, Scores) and scored.error is None
    assert len(scored.predictions) == 40 and ((scored.scores >= 0) & (scored.scores <= 1)).all()
    assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == (elsewhere, elsewhere)
    assert not (project / "elsewhere.db").exists()

    lacking = act("score", version=v, rows=rows.drop(columns=["spend"]))
    assert lacking.predictions is None and "spend" in str(lacking.error)


def test_set_alias_is_a_compare_and_set(local_mlflow, act) -> None:
    v1, v2 = log_version(local_mlflow, "churn"), log_version(local_mlflow, "churn", seed=1)
    moved = act("set_alias", alias="champion", version=v1, expected_current=None)
    assert moved == AliasMove(model="churn", alias="champion", version=v1, previous=None)
    # a second writer that read "no champion" too is refused, and the alias stays
    with pytest.raises(AliasConflict, match="points at version 1, not no version") as refused:
        act("set_alias", alias="champion", version=v2, expected_current=None)
    assert (refused.value.expected, refused.value.actual) == (None, v1)
    assert alias_of(local_mlflow) == {"champion": v1}
    assert act("set_alias", alias="champion", version=v2, expected_current=v1).previous == v1
    with pytest.raises(ProviderError, match="has no version 9"):
        act("set_alias", alias="champion", version=9, expected_current=v2)


def test_list_versions_with_aliases(local_mlflow, act) -> None:
    v1 = log_version(local_mlflow, "churn")
    v2 = log_version(local_mlflow, "churn", seed=1)
    act("set_alias", alias="staging", version=v2, expected_current=None)
    listed = act("list_versions")
    assert isinstance(listed, ModelVersions) and listed.model == "churn"
    assert [v.version for v in listed.versions] == [v1, v2] and listed.aliases == {"staging": v2}
    assert all(v.run_id and v.created.startswith("20") for v in listed.versions)


def test_list_versions_before_any_training_costs_no_registry(local, project) -> None:
    """plan asks for gate status on every run: without a registry database listing must not
    make one (a migration costs seconds)."""
    listed = local.action("model", "list_versions")("churn", MODEL, runtime(project))
    assert listed == ModelVersions(model="churn", versions=[], aliases={})
    assert not local.env.registry.exists()
