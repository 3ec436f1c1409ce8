"""Data stays in the project unless mlops.yaml says otherwise: a dataset (or an entrypoint)
outside the project directory, by path or through a symlink, is refused at validate with
file:line:column; `allow_paths:` lets directories and glob patterns in."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., tuple[int, str, str]]


def _use(project: Path, uri: str, allow: list[str] | None = None) -> None:
    ml = project / "ml.yaml"
    ml.write_text(ml.read_text().replace("uri: data/customers.csv", f"uri: {uri}"))
    if allow is not None:
        top = project / "mlops.yaml"
        top.write_text(top.read_text() + f"allow_paths: {allow}\n")


@pytest.fixture
def outside(tmp_path: Path, project: Path) -> Path:
    """A copy of the quickstart's data in a directory beside the project."""
    lake = tmp_path / "lake"
    lake.mkdir()
    shutil.copy(project / "data" / "customers.csv", lake / "customers.csv")
    return lake


@pytest.mark.parametrize("uri", ["/etc/passwd", "../lake/customers.csv", "data/../../lake/customers.csv"])
def test_a_path_outside_the_project_is_refused(
    run_cli: RunCli, project: Path, outside: Path, uri: str
) -> None:
    _use(project, uri)
    for command in ("validate", "plan"):
        rc, out, err = run_cli([command], project)
        assert rc == 1, (out, err)
        assert "Traceback" not in err
        assert (
            f"ml.yaml:4:22: dataset.customers: the dataset's file `{uri}` is outside the project directory"
            in err
        )
        assert "allow_paths" in err
        assert "root:" not in out + err  # nothing of the file is read, let alone shown
    assert not (project / ".mlops" / "state.json").exists()


def test_a_symlink_that_leads_out_is_refused(run_cli: RunCli, project: Path, outside: Path) -> None:
    os.symlink(outside / "customers.csv", project / "data" / "linked.csv")
    _use(project, "data/linked.csv")
    rc, out, err = run_cli(["validate"], project)
    assert rc == 1
    assert (
        f"`data/linked.csv` is outside the project directory (it leads to {outside / 'customers.csv'})" in err
    )


def test_a_symlink_inside_the_project_is_fine(run_cli: RunCli, project: Path) -> None:
    os.symlink(project / "data" / "customers.csv", project / "data" / "linked.csv")
    _use(project, "data/linked.csv")
    rc, out, err = run_cli(["validate"], project)
    assert rc == 0, err


@pytest.mark.parametrize("allow", ["../lake", "{lake}", "../lake/*.csv", "{lake}/cust*"])
def test_allow_paths_lets_a_directory_or_a_pattern_in(
    run_cli: RunCli, project: Path, outside: Path, allow: str
) -> None:
    _use(project, str(outside / "customers.csv"), [allow.format(lake=outside)])
    rc, out, err = run_cli(["validate"], project)
    assert rc == 0, err
    rc, out, err = run_cli(["plan"], project)
    assert rc == 0, err
    assert "Plan: 7 to add" in out


def test_allow_paths_that_do_not_cover_it_still_refuse(run_cli: RunCli, project: Path, outside: Path) -> None:
    _use(project, str(outside / "customers.csv"), ["../lake/*.parquet", "../elsewhere"])
    rc, out, err = run_cli(["validate"], project)
    assert rc == 1
    assert "is outside the project directory" in err


def test_an_entrypoint_outside_the_project_is_refused(run_cli: RunCli, project: Path, tmp_path: Path) -> None:
    ml = project / "ml.yaml"
    ml.write_text(
        ml.read_text().replace(
            "estimator: sklearn.linear_model.LogisticRegression", "entrypoint: ../train.py"
        )
    )
    rc, out, err = run_cli(["validate"], project)
    assert rc == 1
    assert (
        "training_pipeline.churn_training: the entrypoint `../train.py` is outside the project directory"
        in err
    )


def test_allow_paths_must_be_a_list_of_strings(run_cli: RunCli, project: Path) -> None:
    top = project / "mlops.yaml"
    top.write_text(top.read_text() + "allow_paths: /mnt/lake\n")
    rc, out, err = run_cli(["validate"], project)
    assert rc == 1
    assert "mlops.yaml:" in err and "allow_paths: expected a list" in err
