"""Applying: failures half-way, lifecycle rules, confirmation, locking."""

from __future__ import annotations

import json
from pathlib import Path

from engine_helpers import dataset_project

FAULT = "providers:\n  local:\n    faults:\n{faults}\n"


def _with_faults(root: Path, faults: list[str]) -> None:
    mlops = root / "mlops.yaml"
    text = mlops.read_text()
    head, _, rest = text.partition("resources:")
    block = FAULT.format(faults="\n".join(f"      - {f}" for f in faults))
    mlops.write_text(head + block + "resources:" + rest)


def test_failure_half_way_keeps_independent_work_and_skips_dependents(tmp_path: Path) -> None:
    # a <- b <- c   and   x, y independent
    p = dataset_project(tmp_path, ["a", "b", "c", "x", "y"], deps={"b": ["dataset.a"], "c": ["dataset.b"]})
    _with_faults(tmp_path, ["{op: create, kind: dataset, name: b, mode: permanent}"])
    res = p.run("apply", "--auto-approve")
    assert res.rc == 1
    assert "Traceback" not in res.err
    assert "dataset.b: injected permanent fault on create dataset.b" in res.err
    assert "skipped:   dataset.c (needs dataset.b)" in res.err
    assert "failed:    dataset.b" in res.err
    for done in ("dataset.a", "dataset.x", "dataset.y"):
        assert done in res.err.split("succeeded:")[1].splitlines()[0]
    # state holds exactly what succeeded, and parses
    state = json.loads((tmp_path / ".mlops" / "state.json").read_text())
    assert sorted(state["resources"]) == ["dataset.a", "dataset.x", "dataset.y"]
    assert p.ok("state", "list").out.split() == ["dataset.a", "dataset.x", "dataset.y"]
    # the fault cleared: the next plan has just the rest, and apply converges
    dataset_project(tmp_path, ["a", "b", "c", "x", "y"], deps={"b": ["dataset.a"], "c": ["dataset.b"]})
    assert p.actions() == {"dataset.b": ["create"], "dataset.c": ["create"]}
    p.ok("apply", "--auto-approve")
    assert p.run("plan", "--detailed-exitcode").rc == 0


def test_transient_faults_are_retried(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    _with_faults(tmp_path, ["{op: create, kind: dataset, mode: transient, times: 2}"])
    res = p.ok("apply", "--auto-approve")
    assert "1 added" in res.out


def test_prevent_destroy_blocks_destroy_and_replace(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"])
    mlops = tmp_path / "mlops.yaml"
    mlops.write_text(
        mlops.read_text().replace(
            "uri: data/a.csv", "uri: data/a.csv\n      lifecycle: {prevent_destroy: true}"
        )
    )
    p.ok("apply", "--auto-approve")
    res = p.run("destroy", "--auto-approve")
    assert res.rc == 1
    assert "mlops.yaml:" in res.err and "prevent_destroy" in res.err and "hint:" in res.err
    assert sorted(p.ok("state", "list").out.split()) == ["dataset.a", "dataset.b"]
    res = p.run("plan", "--replace", "dataset.a")
    assert res.rc == 1 and "prevent_destroy" in res.err
    # a targeted destroy of something else still works
    p.ok("destroy", "--auto-approve", "--target", "dataset.b")
    assert p.ok("state", "list").out.split() == ["dataset.a"]


def test_ignore_changes(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    mlops = tmp_path / "mlops.yaml"
    mlops.write_text(
        mlops.read_text().replace(
            "uri: data/a.csv",
            "uri: data/a.csv\n      description: one\n      lifecycle: {ignore_changes: [description]}",
        )
    )
    p.ok("apply", "--auto-approve")
    mlops.write_text(mlops.read_text().replace("description: one", "description: two"))
    assert p.actions() == {}


def test_apply_needs_a_terminal_or_auto_approve(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    res = p.run("apply")
    assert res.rc == 1
    assert "--auto-approve" in res.err and "Traceback" not in res.err
    assert not (tmp_path / ".mlops" / "state.json").exists() or p.ok("state", "list").out == ""


def test_destroy_goes_in_reverse_dependency_order(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b", "c"], deps={"b": ["dataset.a"], "c": ["dataset.b"]})
    p.ok("apply", "--auto-approve")
    out = p.ok("destroy", "--auto-approve", "--parallelism", "4").out
    order = [line.split(":")[0] for line in out.splitlines() if "Destruction complete" in line]
    assert order == ["dataset.c", "dataset.b", "dataset.a"]
    assert p.ok("state", "list").out == ""


def test_second_writer_is_refused_with_the_holders_name(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    p = dataset_project(tmp_path, ["a"])
    _with_faults(tmp_path, ["{op: create, kind: dataset, mode: hang, seconds: 5}"])
    first = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", "apply", "--auto-approve"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 30
        while not (tmp_path / ".mlops" / "state.lock.json").exists() and time.time() < deadline:
            time.sleep(0.05)
        second = p.run("apply", "--auto-approve")
        assert second.rc == 1
        assert "locked" in second.err and "apply" in second.err and "force-unlock" in second.err
    finally:
        first.wait(timeout=60)
    assert first.returncode == 0
    assert p.ok("state", "list").out.split() == ["dataset.a"]


def test_refresh_only_apply_records_what_changed_outside(tmp_path: Path) -> None:
    import sqlite3

    p = dataset_project(tmp_path, ["a", "b"])
    p.ok("apply", "--auto-approve")
    with sqlite3.connect(tmp_path / ".mlops" / "local" / "catalog.db") as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        for t in tables:
            cols = [c[1] for c in db.execute(f"pragma table_info({t})")]
            if "kind" in cols and "id" in cols:
                db.execute(f"delete from {t} where kind='dataset' and id='b'")
    res = p.ok("apply", "--refresh-only", "--auto-approve")
    assert "dataset.b has been deleted" in res.out
    assert p.ok("state", "list").out.split() == ["dataset.a"]
    # the object is still in the config: a normal plan now creates it again
    assert p.actions() == {"dataset.b": ["create"]}


def test_create_before_destroy_replacement(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.write("data/b.csv", "customer,other,x\n1,2,3\n")
    mlops = tmp_path / "mlops.yaml"
    mlops.write_text(
        mlops.read_text() + "  feature_group:\n    f:\n      source: ${dataset.a}\n      entity: [id]\n"
        "      features: [{name: value, dtype: string}]\n      lifecycle: {create_before_destroy: true}\n"
    )
    p.ok("apply", "--auto-approve")
    mlops.write_text(
        mlops.read_text().replace("entity: [id]", "entity: [value]").replace("name: value", "name: id")
    )
    doc = p.plan_json()
    f = next(r for r in doc["resource_changes"] if r["address"] == "feature_group.f")
    assert f["change"]["actions"] == ["create", "delete"]  # Terraform's order for create_before_destroy
    res = p.ok("apply", "--auto-approve")
    assert "1 added, 0 changed, 1 destroyed" in res.out
    assert p.run("plan", "--detailed-exitcode").rc == 0
