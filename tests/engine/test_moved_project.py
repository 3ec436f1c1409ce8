"""The state holds project-relative paths: a project moved (or checked out elsewhere) plans
no change, and a state written with absolute paths by an older mlops-decl reads the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine_helpers import Project

CONFIG = """project: moved
resources:
  dataset:
    events: {uri: data/events.csv}
  feature_group:
    activity:
      source: "${dataset.events}"
      entity: [user_id]
      event_time: ts
      features:
        - {name: clicks, dtype: int}
      online: true
"""


def _applied(root: Path) -> Project:
    p = Project(root)
    p.write("mlops.yaml", CONFIG)
    p.write("data/events.csv", "user_id,ts,clicks\n1,2024-01-01,3\n2,2024-01-02,5\n")
    p.ok("apply", "--auto-approve")
    return p


def test_a_moved_project_plans_no_change(tmp_path: Path) -> None:
    old = _applied(tmp_path / "old")
    assert str(old.root) not in (old.root / ".mlops" / "state.json").read_text()
    shutil.move(old.root, tmp_path / "new")
    new = Project(tmp_path / "new")
    res = new.run("plan", "--detailed-exitcode")
    assert res.rc == 0, res.out + res.err
    assert "No changes" in res.out
    assert new.ok("features", "get", "feature_group.activity", "--entity", "2").out.count("5") >= 1


def test_absolute_paths_an_older_state_holds_are_read_as_the_project_s(tmp_path: Path) -> None:
    p = _applied(tmp_path / "project")
    state_file = p.root / ".mlops" / "state.json"
    doc = json.loads(state_file.read_text())
    attrs = doc["resources"]["feature_group.activity"]["attributes"]
    attrs["store"] = "/elsewhere/.mlops/local/features.duckdb#activity"
    doc["resources"]["dataset.events"]["attributes"]["path"] = "/elsewhere/data/events.csv"
    state_file.write_text(json.dumps(doc))
    res = p.run("plan", "--detailed-exitcode")
    assert res.rc == 0, res.out + res.err
