"""The engine's gates and promotion on evidence from the local MLflow registry (real SQLite,
real models): mlops_decl/ml/promotion.py and gates.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from local_versions import CHURN_STATE, log_version, runtime

from mlops_decl.ml import gates as g
from mlops_decl.ml import promotion
from mlops_decl.ml.evidence import AliasConflict, ModelActions
from mlops_decl.ml.lock import promotion_lock
from mlops_decl.provider import ProviderError
from mlops_decl.state import open_state_backend

MODEL = {"name": "churn"}


def policy(*gates: dict[str, Any], promote_to: str = "champion") -> dict[str, Any]:
    """A registry_policy's attributes as the engine passes them (every gate field present)."""
    from mlops_decl.kinds import RegistryPolicy

    return RegistryPolicy.model_validate(
        {"model": "churn", "promote_to": promote_to, "gates": list(gates)}
    ).model_dump(mode="json")


@pytest.fixture
def actions(local_mlflow, project) -> ModelActions:  # noqa: ANN001
    """The model's evidence actions, called as Runtime.model_actions calls them."""
    rt = runtime(project, CHURN_STATE)

    def call(action: str, **kwargs: Any) -> Any:
        fn = local_mlflow.action("model", action)
        assert fn is not None, action
        return fn("churn", MODEL, rt, **kwargs)

    return ModelActions(call)


@pytest.fixture
def evaluate(actions):  # noqa: ANN001, ANN201
    return lambda policy, version=None: promotion.evaluate(actions, policy, version)


@pytest.fixture
def promote(actions, project: Path):  # noqa: ANN001, ANN201
    return lambda policy, version: promotion.promote(
        actions, policy, version, lambda: promotion_lock(open_state_backend(project, {}), "model.churn")
    )


def gate(result: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(r for r in result["gates"] if r["type"] == type_)


def alias_of(provider, name: str = "churn") -> dict[str, int]:  # noqa: ANN001
    return {a: int(v) for a, v in provider.env.registry.client().get_registered_model(name).aliases.items()}


def test_metric_threshold_passes_fails_and_names_missing_metrics(local_mlflow, evaluate) -> None:
    v = log_version(local_mlflow, "churn")
    result = evaluate(
        policy(
            {"type": "metric_threshold", "metric": "auc", "min": 0.75},
            {"type": "metric_threshold", "metric": "auc", "min": 0.999},
            {"type": "metric_threshold", "metric": "log_loss", "max": 0.6},
            {"type": "metric_threshold", "metric": "rmse", "max": 1.0},
        ),
        v,
    )
    assert set(result) == {"model", "version", "alias", "champion", "gates", "passed"}
    assert (result["model"], result["version"], result["alias"], result["champion"]) == (
        "churn",
        v,
        "champion",
        None,
    )
    verdicts = [(r["gate"], r["passed"]) for r in result["gates"]]
    assert verdicts == [
        ("auc >= 0.75", True),
        ("auc >= 0.999", False),
        ("log_loss <= 0.6", True),
        ("rmse <= 1.0", False),
    ]
    assert result["gates"][0]["evidence"].startswith("auc = 0.9")
    assert "logged no `rmse`" in result["gates"][3]["evidence"] and "auc" in result["gates"][3]["evidence"]
    assert result["passed"] is False


def test_champion_comparison_with_and_without_a_champion(local_mlflow, evaluate, promote) -> None:
    strong = log_version(local_mlflow, "churn")
    compare = policy({"type": "champion_comparison", "metric": "auc", "min_delta": 0.0})
    first = evaluate(compare, strong)
    assert first["passed"] and gate(first, "champion_comparison")["evidence"] == "no champion yet"
    assert promote(compare, strong)["promoted"] is True

    weak = log_version(local_mlflow, "churn", weak=True, seed=1)
    worse = evaluate(compare, weak)
    verdict = gate(worse, "champion_comparison")
    assert worse["champion"] == strong and not verdict["passed"]
    assert "evaluation split (400 rows)" in verdict["evidence"] and "higher is better" in verdict["evidence"]

    # lower is better: the weak model's log loss is higher than the champion's
    by_loss = evaluate(policy({"type": "champion_comparison", "metric": "log_loss"}), weak)
    assert not by_loss["passed"] and "lower is better" in by_loss["gates"][0]["evidence"]

    # the same model again: no gain, which passes min_delta 0 but not 0.01
    same = log_version(local_mlflow, "churn")
    assert evaluate(compare, same)["passed"]
    stricter = policy({"type": "champion_comparison", "metric": "auc", "min_delta": 0.01})
    assert not evaluate(stricter, same)["passed"]

    # both judged on the candidate's rows: the champion scored on v4's split, not its own
    other_rows = log_version(local_mlflow, "churn", seed=5)
    evidence = gate(evaluate(compare, other_rows), "champion_comparison")["evidence"]
    assert f"v{other_rows}'s evaluation split" in evidence


def test_champion_comparison_falls_back_to_logged_metrics(local_mlflow, evaluate, promote) -> None:
    champion = log_version(local_mlflow, "churn")
    promote(None, champion)
    bare = log_version(local_mlflow, "churn", weak=True, keep_split=False)
    result = evaluate(policy({"type": "champion_comparison", "metric": "auc"}), bare)
    evidence = result["gates"][0]["evidence"]
    assert not result["passed"] and "as logged" in evidence and "no evaluation split" in evidence
    missing = evaluate(policy({"type": "champion_comparison", "metric": "r2"}), bare)
    assert not missing["passed"] and "logged no `r2`" in missing["gates"][0]["evidence"]


def test_a_champion_that_cannot_score_the_split_is_compared_as_logged(local_mlflow, evaluate, promote):
    """The champion reads `group`, which the candidate's split lacks: its score is an error the
    gate reports, and the logged metrics decide."""
    champion = log_version(local_mlflow, "churn", uses=["tenure", "spend", "plan", "group"])
    promote(None, champion)
    candidate = log_version(local_mlflow, "churn", seed=2, split_columns=["tenure", "spend", "plan"])
    evidence = evaluate(policy({"type": "champion_comparison", "metric": "auc"}), candidate)["gates"][0][
        "evidence"
    ]
    assert "as logged" in evidence and f"champion v{champion} could not score the split" in evidence


def test_bias_gate_blocks_a_discriminating_model_and_passes_a_fair_one(local_mlflow, evaluate, promote):
    fair = log_version(local_mlflow, "churn")
    biased = log_version(local_mlflow, "churn", biased=True, uses=["tenure", "spend", "plan", "group"])
    dp = policy(
        {"type": "bias", "metric": "demographic_parity_difference", "sensitive_feature": "group", "max": 0.1}
    )
    eo = policy(
        {"type": "bias", "metric": "equalized_odds_difference", "sensitive_feature": "group", "max": 0.1}
    )

    ok = evaluate(dp, fair)
    assert ok["passed"], ok
    assert ok["gates"][0]["gate"] == "demographic_parity_difference by group <= 0.1"
    assert ok["gates"][0]["evidence"].startswith(
        "demographic_parity_difference = 0.0000 across 2 groups of group"
    )
    assert evaluate(eo, fair)["passed"]

    blocked = evaluate(dp, biased)
    assert not blocked["passed"] and "(selection rate: a 1.00, b 0.00)" in blocked["gates"][0]["evidence"]
    assert not promote(dp, biased)["promoted"]
    assert alias_of(local_mlflow) == {}

    nowhere = policy(
        {"type": "bias", "metric": "demographic_parity_difference", "sensitive_feature": "age", "max": 0.1}
    )
    miss = evaluate(nowhere, fair)
    assert not miss["passed"] and "`age` is not in the evaluation split" in miss["gates"][0]["evidence"]


def test_bias_numbers_match_fairlearn_and_labels_need_not_be_0_1() -> None:
    import numpy as np
    import pandas as pd
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

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


def test_manual_approval_counts_distinct_approvers(local_mlflow, actions, evaluate) -> None:
    v = log_version(local_mlflow, "churn")
    two = policy({"type": "manual_approval", "approvers": 2})
    assert gate(evaluate(two, v), "manual_approval")["evidence"] == "0 of 2 approvals (none)"
    actions.add_approval(v, "alice")
    actions.add_approval(v, "alice")
    assert not evaluate(two, v)["passed"]
    actions.add_approval(v, "bob")
    result = evaluate(two, v)
    assert result["passed"] and result["gates"][0]["evidence"] == "2 of 2 approvals (alice, bob)"
    assert result["gates"][0]["gate"] == "manual approval (2 needed)"


def test_promote_moves_the_alias_only_when_every_gate_passes(local_mlflow, actions, promote) -> None:
    gates = policy(
        {"type": "metric_threshold", "metric": "auc", "min": 0.75},
        {"type": "champion_comparison", "metric": "auc"},
        {"type": "bias", "metric": "demographic_parity_difference", "sensitive_feature": "group", "max": 0.1},
        {"type": "manual_approval", "approvers": 1},
    )
    v1 = log_version(local_mlflow, "churn")
    refused = promote(gates, v1)
    assert refused["promoted"] is False and refused["previous"] is None
    assert [r["passed"] for r in refused["gates"]] == [True, True, True, False]
    assert alias_of(local_mlflow) == {}

    actions.add_approval(v1, "alice")
    done = promote(gates, v1)
    assert done["promoted"] is True and done["passed"] is True and done["previous"] is None
    assert set(done) == {"model", "version", "alias", "champion", "gates", "passed", "promoted", "previous"}
    assert alias_of(local_mlflow) == {"champion": v1}

    v2 = log_version(local_mlflow, "churn", seed=3)
    actions.add_approval(v2, "bob")
    moved = promote(gates, v2)
    assert moved["promoted"], moved
    assert moved["previous"] == v1 and alias_of(local_mlflow) == {"champion": v2}

    # promote_to other than champion
    staging = promote(policy(promote_to="staging"), v1)
    assert staging["alias"] == "staging" and alias_of(local_mlflow) == {"champion": v2, "staging": v1}
    with pytest.raises(ProviderError, match="has no version 9"):
        promote(gates, 9)


def test_the_alias_moves_only_from_the_champion_the_gates_compared_against(
    local_mlflow, actions, project: Path
) -> None:
    """Another writer (one that skips the promotion lock) moves the alias after the gates read
    the champion: the compare-and-set refuses to move it and says why."""
    v1, v2 = log_version(local_mlflow, "churn"), log_version(local_mlflow, "churn", seed=1)
    compare = policy({"type": "champion_comparison", "metric": "auc"})

    def racing(action: str, **kwargs: Any) -> Any:
        if action == "set_alias":  # just before this promotion moves it, the other one does
            actions.set_alias("champion", v1, expected_current=None)
        return actions.call(action, **kwargs)

    with pytest.raises(AliasConflict, match="points at version 1, not no version the gates compared"):
        promotion.promote(ModelActions(racing), compare, v2, lambda: promotion_lock(open_state_backend(project, {}), "model.churn"))
    assert alias_of(local_mlflow) == {"champion": v1}


def test_promote_without_a_policy_skips_gates_and_says_so(local_mlflow, promote) -> None:
    v = log_version(local_mlflow, "churn")
    result = promote(None, v)
    assert result["promoted"] and result["passed"] and result["gates"] == [] and result["alias"] == "champion"
    assert "without gates" in result["note"]
    assert alias_of(local_mlflow) == {"champion": v}


def test_evaluate_defaults_to_the_newest_version_past_the_champion(local_mlflow, evaluate, promote) -> None:
    threshold = policy({"type": "metric_threshold", "metric": "auc", "min": 0.5})
    empty = evaluate(threshold)
    assert empty["version"] is None and empty["gates"] == [] and not empty["passed"]
    v1 = log_version(local_mlflow, "churn")
    v2 = log_version(local_mlflow, "churn", seed=1)
    assert evaluate(threshold)["version"] == v2
    promote(None, v2)
    assert evaluate(threshold)["version"] is None  # v1 is older than the champion
    v3 = log_version(local_mlflow, "churn", seed=2)
    assert evaluate(threshold)["version"] == v3
    assert v1 == 1


def test_unknown_gate_types_fail_closed(local_mlflow, evaluate) -> None:
    v = log_version(local_mlflow, "churn")
    result = evaluate({"promote_to": "champion", "gates": [{"type": "vibes"}]}, v)
    assert not result["passed"] and "unknown gate type" in result["gates"][0]["evidence"]


def test_gate_status_before_any_training_costs_no_registry(local, project) -> None:
    """plan asks for gate status on every run: without a registry database it must not make
    one (a migration costs seconds)."""
    rt = runtime(project)
    actions = ModelActions(lambda action, **kw: local.action("model", action)("churn", MODEL, rt, **kw))
    result = promotion.evaluate(actions, policy({"type": "manual_approval"}), None)
    assert result["version"] is None and result["champion"] is None and result["gates"] == []
    assert not local.env.registry.exists()
