"""`apply PLANFILE` applies what was reviewed or nothing: a plan whose configuration changed
since, or whose file was edited by hand, is refused, naming what differs."""

from __future__ import annotations

import json
from pathlib import Path

from engine_helpers import dataset_project


def test_a_plan_applies_after_nothing_changed(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.ok("plan", "-out", "tf.plan")
    p.ok("apply", "tf.plan")
    assert "dataset.a" in p.state()["resources"]


def test_a_plan_is_refused_once_the_configuration_changed(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.ok("plan", "-out", "tf.plan")
    p.write("mlops.yaml", (tmp_path / "mlops.yaml").read_text() + "    b: {uri: data/a.csv}\n")
    res = p.run("apply", "tf.plan")
    assert res.rc == 1
    assert "the configuration changed since tf.plan was made: mlops.yaml" in res.err, res.err
    assert not (tmp_path / ".mlops" / "state.json").exists()


def test_a_hand_edited_plan_is_refused_naming_the_change(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"])
    p.ok("plan", "-out", "tf.plan")
    doc = json.loads((tmp_path / "tf.plan").read_text())
    change = next(c for c in doc["changes"] if c["address"] == "dataset.b")
    change["after"]["description"] = "edited after review"
    (tmp_path / "tf.plan").write_text(json.dumps(doc))
    for command in (("apply", "tf.plan"), ("show", "tf.plan")):
        res = p.run(*command)
        assert res.rc == 1
        assert "tf.plan was edited after `plan` wrote it (changes[dataset.b] differ)" in res.err, res.err
        assert "Traceback" not in res.err
    assert not (tmp_path / ".mlops" / "state.json").exists()


def test_edited_variables_in_a_plan_are_refused(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"], extra="variables:\n  note: {type: string, default: x}\n")
    p.ok("plan", "-out", "tf.plan")
    doc = json.loads((tmp_path / "tf.plan").read_text())
    doc["variables"]["note"] = "y"
    (tmp_path / "tf.plan").write_text(json.dumps(doc))
    res = p.run("apply", "tf.plan")
    assert res.rc == 1 and "(variables differ)" in res.err, res.err
