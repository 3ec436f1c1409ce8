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


# A plan file is not signed: anyone who can write it can recompute its checksums. What apply
# checks beyond them is that each change follows from what the plan records.


def _resign(path: Path, edit) -> None:
    """Edit the plan document and recompute its checksums as `plan` writes them."""
    import hashlib

    doc = json.loads(path.read_text())
    edit(doc)

    def digest(value: object) -> str:
        return hashlib.sha256(json.dumps(value, separators=(",", ":"), sort_keys=True).encode()).hexdigest()

    sums = {k: digest(v) for k, v in doc.items() if k not in ("checksums", "changes")}
    sums.update({f"changes[{c['address']}]": digest(c) for c in doc["changes"]})
    doc["checksums"] = sums
    path.write_text(json.dumps(doc))


def _change(doc: dict, address: str) -> dict:
    return next(c for c in doc["changes"] if c["address"] == address)


def test_a_resigned_planned_value_is_refused_before_anything_is_applied(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"])
    p.ok("plan", "-out", "tf.plan")
    _resign(tmp_path / "tf.plan", lambda d: _change(d, "dataset.b")["after"].update(description="edited"))
    res = p.run("apply", "tf.plan")
    assert res.rc == 1, res.text
    assert (
        "dataset.b: `after.description` in tf.plan is 'edited', but the configuration and variable "
        "values it records give None" in res.err
    ), res.err
    assert "Traceback" not in res.err
    assert not (tmp_path / ".mlops" / "state.json").exists()  # dataset.a was not applied either


def test_a_resigned_action_is_refused_and_the_object_kept(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"])
    p.ok("apply", "--auto-approve")
    p.write("data/b.csv", "id,value\n1,changed\n")
    p.ok("plan", "-out", "tf.plan")  # b updates (its version moved), a is a no-op
    _resign(tmp_path / "tf.plan", lambda d: _change(d, "dataset.a").update(action="delete", after=None))
    before = p.state()
    res = p.run("apply", "tf.plan")
    assert res.rc == 1, res.text
    assert "dataset.a: `action` in tf.plan is 'delete', but the configuration" in res.err, res.err
    assert "give 'no-op'" in res.err
    assert p.state() == before


def test_a_resigned_config_body_is_refused_at_its_line(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.ok("plan", "-out", "tf.plan")

    def edit(d: dict) -> None:  # body and planned value agree with each other, not with the file
        d["bodies"]["dataset.a"]["uri"] = "data/other.csv"
        _change(d, "dataset.a")["after"]["uri"] = "data/other.csv"

    _resign(tmp_path / "tf.plan", edit)
    res = p.run("apply", "tf.plan")
    assert res.rc == 1, res.text
    assert (
        "mlops.yaml:6:12: dataset.a: `uri` in the config body tf.plan records is 'data/other.csv', "
        "the configuration says 'data/a.csv'" in res.err
    ), res.err
    assert not (tmp_path / ".mlops" / "state.json").exists()


def test_a_resigned_extra_change_is_refused(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.ok("apply", "--auto-approve")
    p.write("data/a.csv", "id,value\n1,changed\n")
    p.ok("plan", "-out", "tf.plan")

    def edit(d: dict) -> None:
        extra = json.loads(json.dumps(_change(d, "dataset.a")))
        extra.update(address="dataset.z", name="z", action="create", prior_id=None)
        d["changes"].append(extra)

    _resign(tmp_path / "tf.plan", edit)
    res = p.run("apply", "tf.plan")
    assert res.rc == 1, res.text
    assert "dataset.z: `the change` in tf.plan is a create change, but the configuration" in res.err, res.err
    assert "give none" in res.err
    assert "dataset.z" not in p.state()["resources"]


def test_a_plan_with_drift_and_a_sensitive_variable_applies(tmp_path: Path) -> None:
    extra = "variables:\n  secret: {type: string, sensitive: true}\n"
    p = dataset_project(tmp_path, ["a"], extra=extra)
    text = (
        (tmp_path / "mlops.yaml")
        .read_text()
        .replace("uri: data/a.csv", 'uri: data/a.csv\n      description: "key ${var.secret}"')
    )
    p.write("mlops.yaml", text)
    env = {"MLOPS_VAR_secret": "hunter22"}
    p.ok("apply", "--auto-approve", env=env)
    p.write("data/a.csv", "id,value\n1,changed\n")  # drift: the file moved outside mlops-decl
    p.ok("plan", "-out", "tf.plan", env=env)
    assert "hunter22" not in (tmp_path / "tf.plan").read_text()
    res = p.ok("apply", "tf.plan", env=env)
    assert "Apply complete! Resources: 0 added, 1 changed" in res.out, res.out


def test_show_planfile_says_what_the_plan_was_made_with(tmp_path: Path) -> None:
    extra = "variables:\n  note: {type: string, default: x}\n  secret: {type: string, sensitive: true}\n"
    p = dataset_project(tmp_path, ["a", "b"], extra=extra)
    env = {"MLOPS_VAR_secret": "hunter22"}
    p.ok("plan", "-out", "tf.plan", "-var", "note=reviewed", "-target", "dataset.a", env=env)
    out = p.ok("show", "tf.plan").out
    made = out.split("Made with:\n", 1)[1]
    assert made.splitlines() == [
        "  mode: normal",
        '  var.note = "reviewed"',
        "  var.secret = (sensitive)",
        "  -target dataset.a",
    ], out
    assert "hunter22" not in out
