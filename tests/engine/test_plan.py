"""Planning: actions, targets, replace, refresh, drift, JSON shape, saved plans."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from engine_helpers import Project, dataset_project


def test_plan_json_is_shaped_like_terraform(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"])
    doc = p.plan_json()
    assert doc["format_version"] == "1.2"
    assert doc["summary"] == {"add": 2, "change": 0, "replace": 0, "destroy": 0}
    rc = {r["address"]: r for r in doc["resource_changes"]}
    a = rc["dataset.a"]
    assert (a["type"], a["name"], a["provider_name"], a["mode"]) == ("dataset", "a", "local", "managed")
    assert a["change"]["actions"] == ["create"]
    assert a["change"]["before"] is None
    assert a["change"]["after"]["uri"] == "data/a.csv"
    assert a["change"]["after"]["rows"] == 1
    # the local provider knows a dataset's hash before apply; only where this machine keeps
    # the file is left to apply
    assert a["change"]["after_unknown"] == {"path": True}


def test_unknown_values_show_as_known_after_apply(tmp_path: Path) -> None:
    p = Project(tmp_path)
    p.write("data/a.csv", "id,value\n1,2\n")
    p.write(
        "mlops.yaml",
        "project: t\nresources:\n  model:\n    m: {description: x}\n"
        "  dataset:\n    a: {uri: data/a.csv, description: 'latest=${model.m.latest_version}'}\n",
    )
    doc = p.plan_json()
    a = next(r for r in doc["resource_changes"] if r["address"] == "dataset.a")
    assert a["change"]["after_unknown"]["description"] is True
    assert "(known after apply)" in p.ok("plan").out


def test_target_limits_plan_to_target_and_dependencies(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b", "c"], deps={"b": ["dataset.a"]})
    assert p.actions("--target", "dataset.b") == {"dataset.a": ["create"], "dataset.b": ["create"]}
    assert p.actions("-target", "dataset.c") == {"dataset.c": ["create"]}
    bad = p.run("plan", "--target", "dataset.nope")
    assert bad.rc == 1 and "dataset.nope" in bad.err and "Traceback" not in bad.err


def test_replace_and_force_new_fields(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.write("data/b.csv", "customer,ts,x\n1,2026-01-01,3\n")
    (tmp_path / "mlops.yaml").write_text(
        (tmp_path / "mlops.yaml").read_text()
        + "    b: {uri: data/b.csv}\n  feature_group:\n    f:\n      source: ${dataset.b}\n"
        "      entity: [customer]\n      event_time: ts\n      features: [{name: x, dtype: int}]\n"
    )
    p.ok("apply", "--auto-approve")
    assert p.actions("--replace", "dataset.a") == {"dataset.a": ["delete", "create"]}
    out = p.ok("plan", "--replace", "dataset.a").out
    assert "-/+ resource" in out and "Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy." in out
    # entity forces replacement of a feature group, and the plan says which field did it
    (tmp_path / "mlops.yaml").write_text(
        (tmp_path / "mlops.yaml").read_text().replace("entity: [customer]", "entity: [x]")
    )
    doc = p.plan_json()
    f = next(r for r in doc["resource_changes"] if r["address"] == "feature_group.f")
    assert f["change"]["actions"] == ["delete", "create"]
    assert f["change"]["replace_paths"] == [["entity"]]
    assert "# forces replacement" in p.ok("plan").out


def test_a_field_inside_a_provider_block_can_force_replacement(tmp_path: Path) -> None:
    p = Project(tmp_path)
    body = "project: t\nresources:\n  model:\n    m: {}\n  endpoint:\n    api:\n      model: ${model.m}\n"
    p.write("mlops.yaml", body + "      local: {port: 9001}\n")
    p.ok("apply", "--auto-approve")
    p.write("mlops.yaml", body + "      local: {port: 9002}\n      description: moved\n")
    doc = p.plan_json()
    api = next(r for r in doc["resource_changes"] if r["address"] == "endpoint.api")
    assert api["change"]["actions"] == ["delete", "create"]
    assert api["change"]["replace_paths"] == [["local", "port"]]
    out = p.ok("plan").out
    local_line = next(line for line in out.splitlines() if line.strip().startswith("~ local"))
    assert "# forces replacement" in local_line
    assert not any("description" in line and "forces" in line for line in out.splitlines())
    # the description alone is an update in place
    p.write("mlops.yaml", body + "      local: {port: 9001}\n      description: moved\n")
    assert p.actions() == {"endpoint.api": ["update"]}


def test_object_deleted_behind_our_back_is_planned_again(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"])
    p.ok("apply", "--auto-approve")
    with sqlite3.connect(tmp_path / ".mlops" / "local" / "catalog.db") as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        assert tables
        deleted = 0
        for t in tables:
            cols = [c[1] for c in db.execute(f"pragma table_info({t})")]
            if "kind" in cols and "id" in cols:
                deleted += db.execute(f"delete from {t} where kind='dataset' and id='a'").rowcount
        assert deleted == 1
    out = p.ok("plan").out
    assert "dataset.a has been deleted" in out
    assert p.actions() == {"dataset.a": ["create"]}
    p.ok("apply", "--auto-approve")
    assert p.run("plan", "--detailed-exitcode").rc == 0


def test_removed_from_config_is_destroyed(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"])
    p.ok("apply", "--auto-approve")
    dataset_project(tmp_path, ["a"])
    assert p.actions() == {"dataset.b": ["delete"]}
    p.ok("apply", "--auto-approve")
    assert p.ok("state", "list").out.split() == ["dataset.a"]


def test_no_refresh_and_refresh_only(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.ok("apply", "--auto-approve")
    (tmp_path / "data" / "a.csv").write_text("id,value\n1,2\n3,4\n")
    assert p.actions("--no-refresh") == {"dataset.a": ["update"]}
    # refresh-only proposes no changes to objects, only to the state
    doc = p.plan_json("--refresh-only")
    assert all(r["change"]["actions"] == ["no-op"] for r in doc["resource_changes"])


def test_saved_plan_applies_exactly_and_stale_plans_are_refused(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"])
    p.ok("plan", "-out", "tf.plan")
    shown = json.loads(p.ok("show", "--json", "tf.plan").out)
    assert sorted(r["address"] for r in shown["resource_changes"]) == ["dataset.a", "dataset.b"]
    # a change to the config after planning refuses the saved plan, naming the file
    dataset_project(tmp_path, ["a", "b", "c"])
    changed = p.run("apply", "tf.plan")
    assert changed.rc == 1 and "configuration changed since tf.plan was made: mlops.yaml" in changed.err
    dataset_project(tmp_path, ["a", "b"])
    res = p.ok("apply", "tf.plan")
    assert "2 added" in res.out
    assert p.ok("state", "list").out.split() == ["dataset.a", "dataset.b"]
    # applying it again is refused: the state moved on
    again = p.run("apply", "tf.plan")
    assert again.rc == 1 and "stale" in again.err
    missing = p.run("apply", "nope.plan")
    assert missing.rc == 1 and "does not exist" in missing.err


def test_detailed_exitcode(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    assert p.run("plan", "--detailed-exitcode").rc == 2
    p.ok("apply", "--auto-approve")
    assert p.run("plan", "-detailed-exitcode").rc == 0
