"""Approvals, gates and promotion on the local MLflow registry (real SQLite, real models)."""

from __future__ import annotations

from typing import Any

import pytest
from local_versions import CHURN_STATE, log_version, runtime

from mlops_decl.provider import ProviderError

MODEL = {"name": "churn"}


def policy(*gates: dict[str, Any], promote_to: str = "champion") -> dict[str, Any]:
    """A registry_policy's attributes as the engine passes them (every gate field present)."""
    from mlops_decl.kinds import RegistryPolicy

    return RegistryPolicy.model_validate(
        {"model": "churn", "promote_to": promote_to, "gates": list(gates)}
    ).model_dump(mode="json")


@pytest.fixture
def act(local_mlflow, project):  # noqa: ANN001, ANN201 - call a model action as the engine does
    rt = runtime(project, CHURN_STATE)

    def call(action: str, **kwargs: Any) -> dict[str, Any]:
        fn = local_mlflow.action("model", action)
        assert fn is not None
        return fn("churn", MODEL, rt, **kwargs)

    return call


def gate(result: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(g for g in result["gates"] if g["type"] == type_)


def alias_of(provider, name: str = "churn") -> dict[str, int]:  # noqa: ANN001
    return {a: int(v) for a, v in provider.env.registry.client().get_registered_model(name).aliases.items()}


def test_approvals_are_version_tags_and_count_once_per_person(local_mlflow, act) -> None:
    v = log_version(local_mlflow, "churn")
    assert act("approve", version=v, by="alice") == {
        "model": "churn",
        "version": v,
        "by": "alice",
        "approvals": ["alice"],
    }
    act("approve", version=v, by="bob")
    act("approve", version=v, by="alice")  # again: still one approver
    out = act("approve", version=v, by="carol@example.com")  # not a valid MLflow tag key as is
    assert out["approvals"] == ["alice", "bob", "carol@example.com"]
    tags = local_mlflow.env.registry.client().get_model_version("churn", str(v)).tags
    assert "mlops_decl.approval.alice" in tags and tags["mlops_decl.approval.alice"].startswith("20")

    with pytest.raises(ProviderError, match=r"model `churn` has no version 7 \(versions: 1\)"):
        act("approve", version=7, by="alice")
    with pytest.raises(ProviderError, match="needs a name"):
        act("approve", version=v, by=" ")


def test_metric_threshold_passes_fails_and_names_missing_metrics(local_mlflow, act) -> None:
    v = log_version(local_mlflow, "churn")
    result = act(
        "evaluate_gates",
        policy=policy(
            {"type": "metric_threshold", "metric": "auc", "min": 0.75},
            {"type": "metric_threshold", "metric": "auc", "min": 0.999},
            {"type": "metric_threshold", "metric": "log_loss", "max": 0.6},
            {"type": "metric_threshold", "metric": "rmse", "max": 1.0},
        ),
        version=v,
    )
    assert set(result) == {"model", "version", "alias", "champion", "gates", "passed"}
    assert (result["model"], result["version"], result["alias"], result["champion"]) == (
        "churn",
        v,
        "champion",
        None,
    )
    verdicts = [(g["gate"], g["passed"]) for g in result["gates"]]
    assert verdicts == [
        ("auc >= 0.75", True),
        ("auc >= 0.999", False),
        ("log_loss <= 0.6", True),
        ("rmse <= 1.0", False),
    ]
    assert result["gates"][0]["evidence"].startswith("auc = 0.9")
    assert "logged no `rmse`" in result["gates"][3]["evidence"] and "auc" in result["gates"][3]["evidence"]
    assert result["passed"] is False


def test_champion_comparison_with_and_without_a_champion(local_mlflow, act) -> None:
    strong = log_version(local_mlflow, "churn")
    compare = policy({"type": "champion_comparison", "metric": "auc", "min_delta": 0.0})
    first = act("evaluate_gates", policy=compare, version=strong)
    assert first["passed"] and gate(first, "champion_comparison")["evidence"] == "no champion yet"
    assert act("promote", policy=compare, version=strong)["promoted"] is True

    weak = log_version(local_mlflow, "churn", weak=True, seed=1)
    worse = act("evaluate_gates", policy=compare, version=weak)
    g = gate(worse, "champion_comparison")
    assert worse["champion"] == strong and not g["passed"]
    assert "evaluation split (400 rows)" in g["evidence"] and "higher is better" in g["evidence"]

    # lower is better: the weak model's log loss is higher than the champion's
    by_loss = act(
        "evaluate_gates", policy=policy({"type": "champion_comparison", "metric": "log_loss"}), version=weak
    )
    assert not by_loss["passed"] and "lower is better" in by_loss["gates"][0]["evidence"]

    # the same model again: no gain, which passes min_delta 0 but not 0.01
    same = log_version(local_mlflow, "churn")
    assert act("evaluate_gates", policy=compare, version=same)["passed"]
    stricter = policy({"type": "champion_comparison", "metric": "auc", "min_delta": 0.01})
    assert not act("evaluate_gates", policy=stricter, version=same)["passed"]

    # both judged on the candidate's rows: the champion scored on v4's split, not its own
    other_rows = log_version(local_mlflow, "churn", seed=5)
    evidence = gate(act("evaluate_gates", policy=compare, version=other_rows), "champion_comparison")[
        "evidence"
    ]
    assert f"v{other_rows}'s evaluation split" in evidence


def test_champion_comparison_falls_back_to_logged_metrics(local_mlflow, act) -> None:
    champion = log_version(local_mlflow, "churn")
    act("promote", policy=None, version=champion)
    bare = log_version(local_mlflow, "churn", weak=True, keep_split=False)
    result = act(
        "evaluate_gates", policy=policy({"type": "champion_comparison", "metric": "auc"}), version=bare
    )
    evidence = result["gates"][0]["evidence"]
    assert not result["passed"] and "as logged" in evidence and "no evaluation split" in evidence
    missing = act(
        "evaluate_gates", policy=policy({"type": "champion_comparison", "metric": "r2"}), version=bare
    )
    assert not missing["passed"] and "logged no `r2`" in missing["gates"][0]["evidence"]


def test_bias_gate_blocks_a_discriminating_model_and_passes_a_fair_one(local_mlflow, act) -> None:
    fair = log_version(local_mlflow, "churn")
    biased = log_version(local_mlflow, "churn", biased=True, uses=["tenure", "spend", "plan", "group"])
    dp = policy(
        {"type": "bias", "metric": "demographic_parity_difference", "sensitive_feature": "group", "max": 0.1}
    )
    eo = policy(
        {"type": "bias", "metric": "equalized_odds_difference", "sensitive_feature": "group", "max": 0.1}
    )

    ok = act("evaluate_gates", policy=dp, version=fair)
    assert ok["passed"], ok
    assert ok["gates"][0]["gate"] == "demographic_parity_difference by group <= 0.1"
    assert ok["gates"][0]["evidence"].startswith(
        "demographic_parity_difference = 0.0000 across 2 groups of group"
    )
    assert act("evaluate_gates", policy=eo, version=fair)["passed"]

    blocked = act("evaluate_gates", policy=dp, version=biased)
    assert not blocked["passed"] and "(selection rate: a 1.00, b 0.00)" in blocked["gates"][0]["evidence"]
    assert not act("promote", policy=dp, version=biased)["promoted"]
    assert alias_of(local_mlflow) == {}

    nowhere = policy(
        {"type": "bias", "metric": "demographic_parity_difference", "sensitive_feature": "age", "max": 0.1}
    )
    miss = act("evaluate_gates", policy=nowhere, version=fair)
    assert not miss["passed"] and "`age` is not in the evaluation split" in miss["gates"][0]["evidence"]


def test_bias_numbers_match_fairlearn_and_labels_need_not_be_0_1() -> None:
    import numpy as np
    import pandas as pd
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
    from mlops_decl.providers.local import gates as g

    rng = np.random.default_rng(0)
    groups = rng.choice(["x", "y", "z"], 500)
    y = rng.integers(0, 2, 500)
    pred = np.where(groups == "x", rng.random(500) < 0.7, rng.random(500) < 0.4).astype(int)
    rates = g.group_rates(y, pred, groups)
    assert g.parity_numpy("demographic_parity_difference", rates) == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=groups)
    )
    assert g.parity_numpy("equalized_odds_difference", rates) == pytest.approx(
        equalized_odds_difference(y, pred, sensitive_features=groups)
    )
    # "yes"/"no" labels: "yes" is the positive class (the larger, as in classes_)
    split = pd.DataFrame(
        {
            "s": ["a", "a", "b", "b"],
            "__label__": ["yes", "no", "yes", "no"],
            "__pred__": ["yes", "yes", "no", "no"],
        }
    )
    passed, evidence = g.bias(
        {"metric": "demographic_parity_difference", "sensitive_feature": "s", "max": 0.5}, split
    )
    assert not passed and evidence.startswith("demographic_parity_difference = 1.0000")
    many = split.assign(__label__=["a", "b", "c", "a"])
    assert (
        g.bias({"metric": "demographic_parity_difference", "sensitive_feature": "s", "max": 1}, many)[0]
        is False
    )


def test_manual_approval_counts_distinct_approvers(local_mlflow, act) -> None:
    v = log_version(local_mlflow, "churn")
    two = policy({"type": "manual_approval", "approvers": 2})
    assert (
        gate(act("evaluate_gates", policy=two, version=v), "manual_approval")["evidence"]
        == "0 of 2 approvals (none)"
    )
    act("approve", version=v, by="alice")
    act("approve", version=v, by="alice")
    assert not act("evaluate_gates", policy=two, version=v)["passed"]
    act("approve", version=v, by="bob")
    result = act("evaluate_gates", policy=two, version=v)
    assert result["passed"] and result["gates"][0]["evidence"] == "2 of 2 approvals (alice, bob)"
    assert result["gates"][0]["gate"] == "manual approval (2 needed)"


def test_promote_moves_the_alias_only_when_every_gate_passes(local_mlflow, act) -> None:
    gates = policy(
        {"type": "metric_threshold", "metric": "auc", "min": 0.75},
        {"type": "champion_comparison", "metric": "auc"},
        {"type": "bias", "metric": "demographic_parity_difference", "sensitive_feature": "group", "max": 0.1},
        {"type": "manual_approval", "approvers": 1},
    )
    v1 = log_version(local_mlflow, "churn")
    refused = act("promote", policy=gates, version=v1)
    assert refused["promoted"] is False and refused["previous"] is None
    assert [g["passed"] for g in refused["gates"]] == [True, True, True, False]
    assert alias_of(local_mlflow) == {}

    act("approve", version=v1, by="alice")
    done = act("promote", policy=gates, version=v1)
    assert done["promoted"] is True and done["passed"] is True and done["previous"] is None
    assert set(done) == {"model", "version", "alias", "champion", "gates", "passed", "promoted", "previous"}
    assert alias_of(local_mlflow) == {"champion": v1}

    v2 = log_version(local_mlflow, "churn", seed=3)
    act("approve", version=v2, by="bob")
    moved = act("promote", policy=gates, version=v2)
    assert moved["promoted"], moved
    assert moved["previous"] == v1 and alias_of(local_mlflow) == {"champion": v2}

    # promote_to other than champion
    staging = act("promote", policy=policy(promote_to="staging"), version=v1)
    assert staging["alias"] == "staging" and alias_of(local_mlflow) == {
        "champion": v2,
        "staging": v1,
    }
    with pytest.raises(ProviderError, match="has no version 9"):
        act("promote", policy=gates, version=9)


def test_promote_without_a_policy_skips_gates_and_says_so(local_mlflow, act) -> None:
    v = log_version(local_mlflow, "churn")
    result = act("promote", policy=None, version=v)
    assert result["promoted"] and result["passed"] and result["gates"] == [] and result["alias"] == "champion"
    assert "without gates" in result["note"]
    assert alias_of(local_mlflow) == {"champion": v}


def test_evaluate_gates_defaults_to_the_newest_version_past_the_champion(local_mlflow, act) -> None:
    threshold = policy({"type": "metric_threshold", "metric": "auc", "min": 0.5})
    empty = act("evaluate_gates", policy=threshold)
    assert empty["version"] is None and empty["gates"] == [] and not empty["passed"]
    v1 = log_version(local_mlflow, "churn")
    v2 = log_version(local_mlflow, "churn", seed=1)
    assert act("evaluate_gates", policy=threshold)["version"] == v2
    act("promote", policy=None, version=v2)
    assert act("evaluate_gates", policy=threshold)["version"] is None  # v1 is older than the champion
    v3 = log_version(local_mlflow, "churn", seed=2)
    assert act("evaluate_gates", policy=threshold)["version"] == v3
    assert v1 == 1


def test_unknown_gate_types_fail_closed(local_mlflow, act) -> None:
    v = log_version(local_mlflow, "churn")
    result = act("evaluate_gates", policy={"promote_to": "champion", "gates": [{"type": "vibes"}]}, version=v)
    assert not result["passed"] and "unknown gate type" in result["gates"][0]["evidence"]


def test_version_info(local_mlflow, act) -> None:
    v = log_version(local_mlflow, "churn", seed=7)
    act("promote", policy=None, version=v)
    info = act("version_info", version=v)
    assert info["version"] == v and len(info["run_id"]) == 32
    assert info["metrics"]["auc"] > 0.8 and info["params"] == {"C": "1.0", "seed": "7"}
    assert info["dataset_versions"] == {"dataset.customers": "sha256:0007"}
    assert (info["config_hash"], info["git_commit"]) == ("cfg123", "abc123")
    assert info["aliases"] == ["champion"] and info["created"].startswith("20")
    assert info["inputs"] == {"pipeline": "churn_training", "datasets": ["dataset.customers"]}
    assert "config_hash" in info["tags"] and not any(k.startswith("mlflow.") for k in info["tags"])
    with pytest.raises(ProviderError, match="has no version 5"):
        act("version_info", version=5)


def test_gate_status_before_any_training_costs_no_registry(local, project) -> None:
    """plan asks for gate status on every run: without a registry database it must not make
    one (a migration costs seconds)."""
    fn = local.action("model", "evaluate_gates")
    result = fn("churn", MODEL, runtime(project), policy=policy({"type": "manual_approval"}), version=None)
    assert result["version"] is None and result["champion"] is None and result["gates"] == []
    assert not local.env.registry.exists()
