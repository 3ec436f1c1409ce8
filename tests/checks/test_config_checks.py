"""What the configuration alone tells is reported by `validate` (and so by `plan`, before any
lock, state or provider call) at file:line:column with a hint, every problem at once: wrong
kinds of references, an unterminated `${`, durations, estimators that are not classes with
fit/predict, gate metrics the pipeline's task never logs, a bias gate's feature."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., tuple[int, str, str]]
CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"


@pytest.fixture
def churn(tmp_path: Path) -> Path:
    dest = tmp_path / "churn"
    shutil.copytree(CHURN, dest, ignore=shutil.ignore_patterns(".mlops", "__pycache__"))
    return dest


def edit(project: Path, old: str, new: str, file: str = "ml.yaml") -> None:
    text = (project / file).read_text()
    assert old in text, old
    (project / file).write_text(text.replace(old, new))


def failing(run_cli: RunCli, project: Path, command: str = "validate") -> str:
    rc, out, err = run_cli([command], project)
    assert rc == 1, (out, err)
    assert "Traceback" not in out + err
    return out + err


CASES = {
    "aucc": (
        ('metric: auc, min: "${var.auc_floor}"', 'metric: aucc, min: "${var.auc_floor}"'),
        "ml.yaml:41:44: registry_policy.churn_gates: gates[0]: `aucc` is not a metric training runs log",
        "did you mean `auc`?",
    ),
    "rmse-on-a-classifier": (
        ("metric: auc, min_delta", "metric: rmse, min_delta"),
        "ml.yaml:42:47: registry_policy.churn_gates: gates[1]: `rmse` is a regression metric, but "
        "training_pipeline.churn_training trains for classification (its estimator "
        "GradientBoostingClassifier is a classifier)",
        "gate on one of those",
    ),
    "declared-task": (
        ("split: {test_size", "task: regression\n      split: {test_size"),
        "`auc` is a classification metric, but training_pipeline.churn_training trains for "
        "regression (task: regression)",
        "a bias gate compares a classifier's decisions",
    ),
    "sensitive-feature": (
        ("sensitive_feature: region", "sensitive_feature: regoin"),
        "ml.yaml:43:82: registry_policy.churn_gates: gates[2]: sensitive_feature `regoin` is not a "
        "feature training_pipeline.churn_training trains on",
        "did you mean `region`?",
    ),
    "entity-is-not-a-feature": (
        ("sensitive_feature: region", "sensitive_feature: customer_id"),
        "sensitive_feature `customer_id` is not a feature",
        "its features: tenure_months, monthly_spend, support_calls, plan, contract, region",
    ),
    "wrong-kind": (
        ('source: "${dataset.customers}"', 'source: "${model.churn}"'),
        "ml.yaml:11:15: feature_group.customer_features: `source` takes a dataset, but "
        "`${model.churn}` is a model",
        "reference a dataset: ${dataset.NAME} (declared: dataset.customers)",
    ),
    "attribute-for-a-resource": (
        ('registers: "${model.churn}"', 'registers: "${model.churn.latest_version}"'),
        "`registers` takes the model itself, not its attribute `latest_version`",
        "write ${model.churn}",
    ),
    "retrain-a-model": (
        ('retrain: "${training_pipeline.churn_training}"', 'retrain: "${model.churn}"'),
        "monitor.churn_drift: `on_drift.retrain` takes a training_pipeline, but `${model.churn}` is a model",
        "training_pipeline.churn_training",
    ),
    "unterminated": (
        ('baseline: "${dataset.customers}"', 'baseline: "${dataset.customers"'),
        "ml.yaml:56:17: monitor.churn_drift: unterminated `${` in '${dataset.customers'",
        "close it with `}`",
    ),
    "cooldown": (
        ("cooldown: 1h", 'cooldown: "1 fortnight"'),
        "ml.yaml:63:19: monitor.churn_drift: on_drift.cooldown: '1 fortnight' is not a duration",
        "write a number and a unit (s, m, h or d)",
    ),
    "timeout": (
        (
            "      local: {port: 8765}",
            '      local: {port: 8765}\n      lifecycle: {timeouts: {create: "2 days"}}',
        ),
        "endpoint.churn_api: lifecycle.timeouts.create: '2 days' is not a duration",
        "e.g. 90s, 30m, 1h or 1h30m",
    ),
    "misspelt-class": (
        ("GradientBoostingClassifier", "GradientBoostingClasifier"),
        "ml.yaml:30:18: training_pipeline.churn_training: estimator: module `sklearn.ensemble` has no "
        "`GradientBoostingClasifier`; did you mean `sklearn.ensemble.GradientBoostingClassifier`?",
        "to run your own code, use `entrypoint: FILE.py`",
    ),
    "a-function": (
        ("estimator: sklearn.ensemble.GradientBoostingClassifier", "estimator: os.system"),
        "ml.yaml:30:18: training_pipeline.churn_training: estimator: `os.system` is a function, not a class",
        "name an estimator class (one with fit and predict)",
    ),
    "no-fit-predict": (
        ("estimator: sklearn.ensemble.GradientBoostingClassifier", "estimator: collections.OrderedDict"),
        "estimator: `collections.OrderedDict` is a class without fit() and predict()",
        "name an estimator class",
    ),
    "a-transformer": (
        (
            "estimator: sklearn.ensemble.GradientBoostingClassifier",
            "estimator: sklearn.preprocessing.StandardScaler",
        ),
        "estimator: `sklearn.preprocessing.StandardScaler` is a class without predict()",
        "name an estimator class",
    ),
    "hyperparameter": (
        ("learning_rate: 0.05", "learning_rat: 0.05"),
        "training_pipeline.churn_training: hyperparameters: `learning_rat` is not a parameter of "
        "sklearn.ensemble.GradientBoostingClassifier",
        "did you mean `learning_rate`? GradientBoostingClassifier takes: loss, learning_rate,",
    ),
    "a-module": (
        ("estimator: sklearn.ensemble.GradientBoostingClassifier", "estimator: sklearn.ensemble._gb"),
        "estimator: `sklearn.ensemble._gb` is a module, not a class",
        "name an estimator class",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_reports_it_at_its_position(run_cli: RunCli, churn: Path, case: str) -> None:
    (old, new), message, hint = CASES[case]
    edit(churn, old, new)
    text = failing(run_cli, churn)
    assert message in text
    assert hint in text


def test_every_problem_at_once_and_plan_stops_before_the_state(run_cli: RunCli, churn: Path) -> None:
    # (a value the schema rejects, such as the cooldown, is reported with the other schema
    # errors, before these)
    cases = ("aucc", "sensitive-feature", "wrong-kind", "unterminated", "a-function")
    for old, new in (CASES[c][0] for c in cases):
        edit(churn, old, new)
    for command in ("validate", "plan"):
        text = failing(run_cli, churn, command)
        assert text.count("Error: ") == len(cases), text
        for case in cases:
            assert CASES[case][1].split(": ", 1)[1] in text
    assert not (churn / ".mlops").exists()


def test_the_examples_and_estimators_of_every_kind_pass(run_cli: RunCli, churn: Path) -> None:
    edit(churn, "hyperparameters: {n_estimators: 150, max_depth: 3, learning_rate: 0.05, random_state: 7}", "")
    for estimator in (
        "sklearn.linear_model.LogisticRegression",
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.svm.SVC",
        "sklearn.pipeline.Pipeline",  # no mixin: the task is left to the data
    ):
        edit(churn, "estimator: sklearn.ensemble.GradientBoostingClassifier", f"estimator: {estimator}")
        rc, out, err = run_cli(["validate"], churn)
        assert rc == 0, (estimator, out, err)
        edit(churn, f"estimator: {estimator}", "estimator: sklearn.ensemble.GradientBoostingClassifier")
    # a regressor with regression gates (and no bias gate) is fine as well, and takes its own
    # hyperparameters
    edit(churn, "GradientBoostingClassifier", "GradientBoostingRegressor\n      hyperparameters: {alpha: 0.8}")
    edit(churn, 'metric: auc, min: "${var.auc_floor}"', "metric: rmse, max: 1.0")
    edit(churn, "metric: auc, min_delta", "metric: r2, min_delta")
    text = (churn / "ml.yaml").read_text()
    (churn / "ml.yaml").write_text("\n".join(line for line in text.splitlines() if "type: bias" not in line))
    rc, out, err = run_cli(["validate"], churn)
    assert rc == 0, (out, err)


def test_constructor_keywords_are_read_from_the_source_only_when_certain() -> None:
    from mlops_decl.checks.classpath import _init_params

    own = "    def __init__(self, a=1, *, b=(1, 2), c: int = 3):\n        pass\n"
    assert _init_params(own) == ("a", "b", "c")
    assert _init_params("    def __init__(self, a, **kwargs):\n        pass\n") is None  # takes anything
    assert _init_params("    def fit(self, X):\n        pass\n") is None  # inherited: not followed
    assert _init_params("    def __init__(self, a=f(\n") is None  # unclear source
