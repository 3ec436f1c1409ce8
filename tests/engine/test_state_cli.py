"""State surgery, import, outputs and show, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from engine_helpers import Project, dataset_project


def _applied(tmp_path: Path) -> Project:
    p = dataset_project(
        tmp_path,
        ["a", "b"],
        extra="variables:\n  token: {type: string, default: s3cr3t, sensitive: true}\n"
        "outputs:\n  a_version: ${dataset.a.version}\n  secret: ${var.token}\n",
    )
    p.ok("apply", "--auto-approve")
    return p


def test_state_list_show_pull(tmp_path: Path) -> None:
    p = _applied(tmp_path)
    assert p.ok("state", "list").out == "dataset.a\ndataset.b\n"
    assert p.ok("state", "list", "dataset.a").out == "dataset.a\n"
    shown = p.ok("state", "show", "dataset.a").out
    assert 'resource "dataset" "a"' in shown and "uri" in shown
    doc = json.loads(p.ok("state", "pull").out)
    assert doc["format_version"] == 1 and doc["serial"] >= 2 and doc["lineage"]
    assert set(doc["resources"]["dataset.a"]) >= {"kind", "provider", "id", "attributes", "dependencies"}
    missing = p.run("state", "show", "dataset.zzz")
    assert missing.rc == 1 and "no resource `dataset.zzz`" in missing.err


def test_state_rm_then_import_adopts_the_object(tmp_path: Path) -> None:
    p = _applied(tmp_path)
    p.ok("state", "rm", "dataset.b")
    assert p.ok("state", "list").out.split() == ["dataset.a"]
    # forgotten, not destroyed: import adopts it and the plan is clean again
    res = p.ok("import", "dataset.b", "b")
    assert "Import complete" in res.out
    assert p.run("plan", "--detailed-exitcode").rc == 0
    again = p.run("import", "dataset.b", "b")
    assert again.rc == 1 and "already managed" in again.err
    gone = p.run("import", "dataset.a", "does-not-exist")
    assert gone.rc == 1


def test_import_takes_a_name_or_a_uri_and_records_the_canonical_id(tmp_path: Path) -> None:
    p = Project(tmp_path)
    p.write("mlops.yaml", "project: t\nresources:\n  model:\n    churn: {description: x}\n")
    p.ok("apply", "--auto-approve")
    p.ok("state", "rm", "model.churn")
    # the model handler's import_ knows MLflow's registry URI for the model
    res = p.ok("import", "model.churn", "models:/churn")
    assert "Import complete [id=churn]" in res.out
    assert p.state()["resources"]["model.churn"]["id"] == "churn"
    assert p.run("plan", "--detailed-exitcode").rc == 0
    p.ok("state", "rm", "model.churn")
    assert "[id=churn]" in p.ok("import", "model.churn", "churn").out
    p.ok("state", "rm", "model.churn")
    gone = p.run("import", "model.churn", "models:/nope")
    assert gone.rc == 1 and "no model `models:/nope` exists" in gone.err and "Traceback" not in gone.err


def test_state_mv_follows_a_rename(tmp_path: Path) -> None:
    p = _applied(tmp_path)
    p.ok("state", "mv", "dataset.b", "dataset.b2")
    assert p.ok("state", "list").out.split() == ["dataset.a", "dataset.b2"]
    wrong_kind = p.run("state", "mv", "dataset.a", "model.a")
    assert wrong_kind.rc == 1 and "kind must stay" in wrong_kind.err


def test_state_push_checks_lineage_and_serial(tmp_path: Path) -> None:
    p = _applied(tmp_path)
    doc = json.loads(p.ok("state", "pull").out)
    older = dict(doc, serial=doc["serial"] - 1)
    p.write("old.json", json.dumps(older))
    res = p.run("state", "push", "old.json")
    assert res.rc == 1
    other = dict(doc, lineage="00000000-0000-0000-0000-000000000000")
    p.write("other.json", json.dumps(other))
    assert p.run("state", "push", "other.json").rc == 1
    del doc["resources"]["dataset.b"]
    doc["serial"] += 1
    p.write("new.json", json.dumps(doc))
    p.ok("state", "push", "new.json")
    assert p.ok("state", "list").out.split() == ["dataset.a"]


def test_outputs_and_sensitive_values(tmp_path: Path) -> None:
    p = _applied(tmp_path)
    out = p.ok("output").out
    assert "secret = (sensitive value)" in out and "s3cr3t" not in out
    version = json.loads(p.ok("output", "a_version", "--json").out)
    assert isinstance(version, str) and len(version) == 16
    assert "s3cr3t" in p.ok("output", "secret", "--raw").out  # asked for by name, as Terraform
    res = p.run("output", "nope")
    assert res.rc == 1 and "no output named" in res.err
    plan_out = p.ok("plan", "-var", "token=other").out
    assert "other" not in plan_out and "s3cr3t" not in plan_out


def test_show_state_json(tmp_path: Path) -> None:
    p = _applied(tmp_path)
    doc = json.loads(p.ok("show", "--json").out)
    addresses = [r["address"] for r in doc["values"]["root_module"]["resources"]]
    assert addresses == ["dataset.a", "dataset.b"]
    assert "dataset.a" in p.ok("show").out


def test_force_unlock(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    (tmp_path / ".mlops").mkdir(exist_ok=True)
    # a lock left by a holder on another machine
    lock = {
        "id": "4b0d1c2e-0000-4000-8000-000000000001",
        "operation": "apply",
        "who": "ci@elsewhere",
        "host": "elsewhere",
        "pid": 1,
        "version": "0.1.0",
        "created": "2026-11-25T00:00:00+00:00",
        "path": str(tmp_path / ".mlops" / "state.json"),
    }
    (tmp_path / ".mlops" / "state.lock.json").write_text(json.dumps(lock))
    res = p.run("apply", "--auto-approve")
    assert res.rc == 1 and "ci@elsewhere" in res.err and lock["id"] in res.err
    wrong = p.run("force-unlock", "nope")
    assert wrong.rc == 1
    p.ok("force-unlock", lock["id"])
    p.ok("apply", "--auto-approve")
