"""Destroying a model is said plainly (its versions, aliases and the endpoints serving one), and
lifecycle.prevent_destroy survives the removal of its block, through the state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from engine_helpers import REPO, Project


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart applied, trained twice, version 1 promoted to champion."""
    root = tmp_path_factory.mktemp("losses") / "q"
    shutil.copytree(REPO / "examples" / "quickstart", root, ignore=shutil.ignore_patterns(".mlops"))
    p = Project(root)
    p.ok("apply", "--auto-approve")
    p.ok("run", "training_pipeline.churn_training")
    p.ok("run", "training_pipeline.churn_training")
    p.ok("promote", "model.churn", "--version", "1")
    return root


@pytest.fixture
def q(trained: Path, tmp_path: Path) -> Project:
    shutil.copytree(trained, tmp_path / "q")
    return Project(tmp_path / "q")


def test_plan_destroy_lists_the_versions_aliases_and_serving_endpoint(q: Project) -> None:
    out = q.ok("plan", "--destroy").out
    assert "# Deleting model.churn deletes 2 versions: 1, 2" in out
    assert "#   and its aliases: champion -> 1" in out
    assert "#   endpoint.churn_api serves version 1 (destroyed too)" in out
    entry = next(c for c in q.plan_json("--destroy")["resource_changes"] if c["address"] == "model.churn")
    assert entry["deletes_with_it"]["versions"] == [1, 2]
    assert entry["deletes_with_it"]["aliases"] == {"champion": 1}


def test_plan_of_a_removed_model_block_lists_what_goes_with_it(q: Project) -> None:
    ml = q.root / "ml.yaml"
    text = ml.read_text()
    # the model and everything that names it, as a user removing the model would
    for kind in ("model", "training_pipeline", "registry_policy", "endpoint", "monitor"):
        start = text.index(f"\n  {kind}:\n")
        end = text.find("\n\n  ", start + 1)
        text = text[:start] + (text[end:] if end != -1 else "\n")
    ml.write_text(text)
    project = q.root / "mlops.yaml"
    project.write_text(project.read_text().replace('  api_url: "${endpoint.churn_api.url}"\n', ""))
    out = q.ok("plan").out
    assert "model.churn will be destroyed" in out
    assert "# Deleting model.churn deletes 2 versions: 1, 2" in out and "champion -> 1" in out


def test_a_saved_plan_keeps_the_listing(q: Project) -> None:
    q.ok("plan", "--destroy", "-out", "d.plan")
    out = q.ok("show", "d.plan").out
    assert "# Deleting model.churn deletes 2 versions: 1, 2" in out


PROTECTED = """\
project: p
resources:
  dataset:
    rows: {uri: rows.csv}
  model:
    keep:
      description: the one we ship
      lifecycle: {prevent_destroy: true}
"""


def _protected(tmp_path: Path) -> Project:
    p = Project(tmp_path / "p")
    p.write("rows.csv", "id,x\n1,2\n")
    p.write("mlops.yaml", PROTECTED)
    p.ok("apply", "--auto-approve")
    return p


def test_prevent_destroy_is_recorded_in_the_state(tmp_path: Path) -> None:
    p = _protected(tmp_path)
    resources = p.state()["resources"]
    assert resources["model.keep"]["lifecycle"] == {"prevent_destroy": True}
    assert "lifecycle" not in resources["dataset.rows"]


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["destroy", "--auto-approve"]])
def test_a_removed_block_of_a_protected_resource_is_not_destroyed(tmp_path: Path, command: list[str]) -> None:
    p = _protected(tmp_path)
    before = (p.root / ".mlops" / "state.json").read_text()
    p.write("mlops.yaml", PROTECTED.split("  model:")[0])  # the model's block removed
    res = p.run(*command)
    assert res.rc == 1 and "Traceback" not in res.err
    assert "model.keep would be destroyed, but it was applied with lifecycle.prevent_destroy" in res.err
    assert "prevent_destroy: false" in res.err and "state rm model.keep" in res.err
    assert (p.root / ".mlops" / "state.json").read_text() == before
    assert "model.keep" in p.state()["resources"]


def test_applying_prevent_destroy_false_then_removing_the_block_destroys_it(tmp_path: Path) -> None:
    p = _protected(tmp_path)
    p.write("mlops.yaml", PROTECTED.replace("prevent_destroy: true", "prevent_destroy: false"))
    assert "No changes." in p.ok("plan").out  # nothing live changes...
    p.ok("apply", "--auto-approve")
    assert "lifecycle" not in p.state()["resources"]["model.keep"]  # ...but the state now knows
    p.write("mlops.yaml", PROTECTED.split("  model:")[0])
    out = p.ok("apply", "--auto-approve").out
    assert "model.keep will be destroyed" in out and "Deleting model.keep deletes no versions" in out
    assert "model.keep" not in json.loads(p.ok("state", "pull").out)["resources"]
