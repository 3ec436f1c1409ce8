"""What the data already tells is reported by `plan` before anything is applied, at the config's
file:line:column, every problem at once: names against the dataset's columns, types against
the data (the first rows, then the rest of a CSV file in one DuckDB pass), the label, a monitor's features, ragged CSV rows, estimators this Python
cannot import. The local provider says it through the plan-time `Handler.validate`."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., tuple[int, str, str]]
CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"
COLUMNS = "customer_id, ts, tenure_months, monthly_spend, support_calls, plan, contract, region, churned"


@pytest.fixture
def churn(tmp_path: Path) -> Path:
    dest = tmp_path / "churn"
    shutil.copytree(CHURN, dest, ignore=shutil.ignore_patterns(".mlops", "__pycache__"))
    return dest


def edit(project: Path, old: str, new: str, file: str = "ml.yaml") -> None:
    text = (project / file).read_text()
    assert old in text, old
    (project / file).write_text(text.replace(old, new, 1))


def plan_fails(run_cli: RunCli, project: Path) -> str:
    rc, out, err = run_cli(["plan"], project)
    assert rc == 1, (out, err)
    assert "Traceback" not in out + err
    assert not (project / ".mlops" / "state.json").exists()
    return err


CASES = {
    "feature": (
        ("name: tenure_months,", "name: tenure_month,"),
        "ml.yaml:15:18: feature_group.customer_features: feature `tenure_month` is not a column of dataset `customers`",
        f"did you mean `tenure_months`? columns of `customers`: {COLUMNS}",
    ),
    "entity": (
        ("entity: [customer_id]", "entity: [customerid]"),
        "ml.yaml:12:16: feature_group.customer_features: entity column `customerid` is not a column",
        "did you mean `customer_id`?",
    ),
    "event-time": (
        ("event_time: ts", "event_time: tss"),
        "ml.yaml:13:19: feature_group.customer_features: event_time column `tss` is not a column",
        "did you mean `ts`?",
    ),
    "int-of-text": (
        ("name: plan, dtype: string", "name: plan, dtype: int"),
        "ml.yaml:18:31: feature_group.customer_features: feature `plan` is declared int, but dataset "
        "`customers` holds `plus` in column `plan` (line 2)",
        "declare the dtype the column holds",
    ),
    "int-of-decimals": (
        ("name: monthly_spend, dtype: float", "name: monthly_spend, dtype: int"),
        "feature `monthly_spend` is declared int, but dataset `customers` holds `62.41` in column `monthly_spend`",
        "declare the dtype the column holds",
    ),
    "datetime-of-decimals": (
        ("name: monthly_spend, dtype: float", "name: monthly_spend, dtype: datetime"),
        "feature `monthly_spend` is declared datetime, but dataset `customers` holds `62.41` in column "
        "`monthly_spend`",
        "declare the dtype the column holds",
    ),
    "event-time-of-text": (
        ("event_time: ts", "event_time: plan"),
        "event_time is declared datetime, but dataset `customers` holds `plus` in column `plan` (line 2)",
        "fix the data",
    ),
    "label": (
        ("label: churned", "label: churnd"),
        "ml.yaml:29:14: training_pipeline.churn_training: label `churnd` is not a column of dataset `customers`",
        "did you mean `churned`?",
    ),
    "label-to-regress": (
        ("label: churned", "label: plan\n      task: regression"),
        "training_pipeline.churn_training: label `plan` must be numeric for regression, but dataset "
        "`customers` holds `plus`",
        "set task: classification, or choose a numeric label",
    ),
    "monitor-feature": (
        (
            "features: [tenure_months, monthly_spend, support_calls",
            "features: [tenure_monthz, monthly_spend, support_calls",
        ),
        "ml.yaml:57:18: monitor.churn_drift: monitored feature `tenure_monthz` is not a column of dataset `customers`",
        "did you mean `tenure_months`?",
    ),
    "uninstalled-estimator": (
        (
            "estimator: sklearn.ensemble.GradientBoostingClassifier",
            "estimator: xgboost_not_here.XGBClassifier",
        ),
        "ml.yaml:30:18: training_pipeline.churn_training: cannot import estimator "
        "`xgboost_not_here.XGBClassifier`: no module named `xgboost_not_here` in this Python",
        "install the package that provides it",
    ),
}


REGRESSION_GATES = [
    ('metric: auc, min: "${var.auc_floor}"', "metric: rmse, max: 1.0"),
    ("metric: auc, min_delta", "metric: rmse, min_delta"),
    (
        '        - {type: bias, metric: demographic_parity_difference, sensitive_feature: region, max: "${var.max_parity_gap}"}\n',
        "",
    ),
]


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_reports_what_the_data_tells(run_cli: RunCli, churn: Path, case: str) -> None:
    (old, new), message, hint = CASES[case]
    edit(churn, old, new)
    if case == "label-to-regress":
        for pair in REGRESSION_GATES:
            edit(churn, *pair)
    rc, out, err = run_cli(["validate"], churn)
    assert rc == 0, err  # the data is the provider's to read: validate calls none
    err = plan_fails(run_cli, churn)
    assert message in err
    assert hint in err


def test_every_problem_in_the_data_at_once(run_cli: RunCli, churn: Path) -> None:
    # (the label is checked once the feature group it comes through plans)
    cases = ("feature", "entity", "int-of-text", "uninstalled-estimator", "monitor-feature")
    for case in cases:
        edit(churn, *CASES[case][0])
    err = plan_fails(run_cli, churn)
    assert err.count("Error: ") == len(cases), err
    for case in cases:
        assert CASES[case][1].split(": ", 1)[1] in err


def test_a_row_with_too_few_fields_names_its_line(run_cli: RunCli, churn: Path) -> None:
    data = churn / "data" / "customers.csv"
    lines = data.read_bytes().splitlines(keepends=True)
    lines[2] = b"10681,2026-01-01T00:29:31,37\r\n"
    data.write_bytes(b"".join(lines))
    err = plan_fails(run_cli, churn)
    assert "ml.yaml:5:12: dataset.customers: cannot read dataset file" in err
    assert "line 3 has 3 fields but the header has 9" in err
    assert "10681" not in err and "00:29:31" not in err  # the row itself is not quoted


def test_a_file_that_is_not_the_declared_format_is_not_quoted(run_cli: RunCli, churn: Path) -> None:
    (churn / "data" / "notes.csv").write_text("api_key: s3cr3t\nother: value, with a comma\n")
    edit(churn, "uri: data/customers.csv", "uri: data/notes.csv")
    err = plan_fails(run_cli, churn)
    assert "line 2 has 2 fields but the header has 1" in err
    assert "s3cr3t" not in err and "with a comma" not in err


def _with_rows_after(data: Path, *rows: str) -> None:
    """The file with its last row replaced by `rows` (lines 4001...)."""
    text = data.read_text()
    data.write_text(text.rstrip("\r\n").rsplit("\n", 1)[0] + "\n" + "".join(r + "\n" for r in rows))


def test_a_bad_value_past_the_sampled_rows_is_reported_with_its_csv_line(
    run_cli: RunCli, churn: Path
) -> None:
    data = churn / "data" / "customers.csv"
    _with_rows_after(
        data,
        "99998,2026-06-30T00:00:00,3,1.0,0,plus,annual,west,0",
        "99999,2026-06-30T00:00:00,x,1.0,0,plus,annual,west,0",  # line 4002
        "99990,2026-06-30T00:00:00,y,1.0,0,plus,annual,west,0",
    )
    err = plan_fails(run_cli, churn)
    assert (
        "ml.yaml:15:40: feature_group.customer_features: feature `tenure_months` is declared int, but "
        "dataset `customers` holds `x` in column `tenure_months` (line 4002)" in err
    ), err
    assert err.count("Error: ") == 1, err


def test_the_line_counts_records_that_span_lines(run_cli: RunCli, churn: Path) -> None:
    data = churn / "data" / "customers.csv"
    _with_rows_after(
        data,
        '99998,2026-06-30T00:00:00,3,1.0,0,plus,annual,"west\nand more",0',  # lines 4001-4002
        "99999,2026-06-30T00:00:00,4,1.0,0,plus,annual,west,0",
        "99997,not a time,5,1.0,0,plus,annual,west,0",  # line 4004: no digit, not a time
    )
    err = plan_fails(run_cli, churn)
    assert (
        "event_time is declared datetime, but dataset `customers` holds `not a time` in column `ts` (line 4004)"
        in err
    ), err


def test_a_good_long_dataset_plans(run_cli: RunCli, churn: Path) -> None:
    _with_rows_after(churn / "data" / "customers.csv", "99999,2026-06-30T00:00:00,7,1.5,0,plus,annual,west,0")
    rc, out, err = run_cli(["plan"], churn)
    assert rc == 0, err
    assert "Plan: 7 to add" in out


def test_the_whole_file_verdict_is_kept_per_version_of_the_file(run_cli: RunCli, churn: Path) -> None:
    rc, out, err = run_cli(["apply", "--auto-approve"], churn, timeout=600)
    assert rc == 0, out + err
    data = churn / "data" / "customers.csv"
    good = data.read_bytes()
    _with_rows_after(data, "99999,2026-06-30T00:00:00,x,1.0,0,plus,annual,west,0")
    for _ in range(2):  # scanned, then answered from what was kept for this version
        rc, out, err = run_cli(["plan"], churn)
        assert rc == 1 and "holds `x` in column `tenure_months` (line 4001)" in err, out + err
    kept = (churn / ".mlops" / "local" / "data_checks.json").read_text()
    assert '"tenure_months:int": [4001, "x"]' in kept
    data.write_bytes(good)  # fixed: the applied version again, scanned again
    rc, out, err = run_cli(["plan", "--detailed-exitcode"], churn)
    assert rc == 0, out + err
