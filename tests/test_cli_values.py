"""A bad value on the command line is a usage error (exit 2, click's convention, naming the
option and what it accepts) or, where only the project can tell, one Error line (exit 1):
never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_decl.cli.main import cli

USAGE = 2

CASES: dict[str, tuple[tuple[str, ...], int, str]] = {
    "serve-port-too-big": (("serve", "endpoint.churn_api", "--port", "99999"), USAGE, "0<=x<=65535"),
    "serve-port-not-a-number": (("serve", "endpoint.churn_api", "--port", "abc"), USAGE, "'abc'"),
    "serve-body-limit-negative": (("serve", "endpoint.churn_api", "--max-body-mb", "-1"), USAGE, "x>0"),
    "plan-parallelism-negative": (("plan", "--parallelism", "-1"), USAGE, "--parallelism"),
    "apply-parallelism-zero": (("apply", "--parallelism", "0", "--auto-approve"), USAGE, "x>=1"),
    "destroy-parallelism-zero": (("destroy", "--parallelism", "0", "--auto-approve"), USAGE, "x>=1"),
    "plan-lock-timeout": (("plan", "-lock-timeout", "soon"), USAGE, "is not a duration"),
    "destroy-lock-timeout": (
        ("destroy", "-lock-timeout", "-5s", "--auto-approve"),
        USAGE,
        "is not a duration",
    ),
    "promote-version-zero": (("promote", "model.churn", "--version", "0"), USAGE, "x>=1"),
    "approve-version-word": (("approve", "model.churn", "--version", "two", "--by", "me"), USAGE, "'two'"),
    "audit-unknown-event": (("audit", "--event", "bogus"), USAGE, "'bogus' is not one of"),
    "graph-format": (("graph", "--format", "png"), USAGE, "'png' is not one of"),
    "chdir-missing": (("-C", "no/such/dir", "plan"), USAGE, "-C no/such/dir"),
    "plan-out-unwritable": (("plan", "-out", "no/such/dir/x.plan"), 1, "cannot save the plan to"),
    "predict-data-not-csv": (("predict", "endpoint.churn_api", "--data", "mlops.yaml"), 1, "mlops.yaml:2:"),
    "predict-data-not-text": (
        ("predict", "endpoint.churn_api", "--data", "binary.csv"),
        1,
        "is not a CSV file",
    ),
    "lineage-version-word": (("lineage", "model.churn@latest"), 1, "is not a version number"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_value_is_a_clear_error(project: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    args, code, says = CASES[case]
    (project / "binary.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, list(args))
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code == code, result.output
    assert says in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not (project / ".mlops" / "state.json").exists()
