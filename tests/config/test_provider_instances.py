"""Provider instances: several instances of one type (and several types) in one project and one
plan, each with its own settings and data dir; state records the instance."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from provider_helpers import WITH_PROBE, one_error, write_project

MLOPS = """\
project: two
default_provider: local_a
providers:
  local_a: {type: local}
  local_b: {type: local, delay_ms: 1}
  probe_eu: {type: probe, region: eu-west-1}
  probe_us: {type: probe, region: us-east-1}
outputs:
  eu_arn: ${model.eu.arn}
  b_version: ${dataset.b.version}
"""

ML = """\
resources:
  dataset:
    a: {uri: a.csv}
    b: {uri: b.csv, provider: local_b}
  model:
    eu: {provider: probe_eu, description: "trained on ${dataset.a.version}"}
    us: {provider: probe_us}
"""


def _catalog(root: Path, instance: str) -> set[str]:
    with sqlite3.connect(root / ".mlops" / instance / "catalog.db") as db:
        return {f"{kind}.{id}" for kind, id in db.execute("select kind, id from objects")}


def test_one_plan_over_several_instances_and_types(tmp_path: Path, run_cli) -> None:
    root = write_project(tmp_path / "p", MLOPS, ML)
    (root / "a.csv").write_text("x\n1\n")
    (root / "b.csv").write_text("x\n2\n3\n")
    rc, out, err = run_cli(["plan"], root, env=WITH_PROBE)
    assert rc == 0 and "Plan: 4 to add" in out, out + err
    rc, out, err = run_cli(["apply", "--auto-approve"], root, env=WITH_PROBE)
    assert rc == 0, out + err

    state = json.loads((root / ".mlops" / "state.json").read_text())
    recorded = {a: r["provider"] for a, r in state["resources"].items()}
    assert recorded == {
        "dataset.a": "local_a",
        "dataset.b": "local_b",
        "model.eu": "probe_eu",
        "model.us": "probe_us",
    }
    assert _catalog(root, "local_a") == {"dataset.a"} and _catalog(root, "local_b") == {"dataset.b"}
    assert not (root / ".mlops" / "local").exists()  # no instance of that name was used
    for instance, region in (("probe_eu", "eu-west-1"), ("probe_us", "us-east-1")):
        objects = json.loads((root / ".mlops" / instance / "objects.json").read_text())
        (only,) = objects.values()
        assert only["arn"].startswith(f"arn:probe:{region}:"), objects  # each instance its own settings
    assert state["outputs"]["eu_arn"]["value"].startswith("arn:probe:eu-west-1:model/eu")
    assert state["outputs"]["b_version"]["value"] == state["resources"]["dataset.b"]["attributes"]["version"]

    rc, out, err = run_cli(["plan", "--detailed-exitcode"], root, env=WITH_PROBE)
    assert rc == 0 and "No changes" in out, out + err


def test_an_instance_needs_an_installed_type_and_a_resource_a_declared_instance(
    tmp_path: Path, run_cli
) -> None:
    root = write_project(
        tmp_path / "p", MLOPS.replace("type: probe, region: us", "type: prob, region: us"), ML
    )
    rc, _, err = run_cli(["validate"], root, env=WITH_PROBE)
    m = one_error(err)
    assert rc == 1 and (m["file"], m["line"], m["col"]) == ("mlops.yaml", "7", "3"), err
    assert "provider `probe_us` has type `prob`, which is not installed" in err
    root = write_project(tmp_path / "q", MLOPS, ML.replace("provider: local_b", "provider: local_c"))
    rc, _, err = run_cli(["validate"], root, env=WITH_PROBE)
    m = one_error(err)
    assert rc == 1 and (m["file"], m["line"]) == ("ml.yaml", "4") and "unknown provider `local_c`" in err, err
    assert "did you mean `local_a`?" in err or "did you mean `local_b`?" in err


def test_moving_a_resource_to_another_instance_is_refused(tmp_path: Path, run_cli) -> None:
    root = write_project(tmp_path / "p", MLOPS, ML)
    (root / "a.csv").write_text("x\n1\n")
    (root / "b.csv").write_text("x\n2\n")
    rc, out, err = run_cli(["apply", "--auto-approve"], root, env=WITH_PROBE)
    assert rc == 0, out + err
    (root / "ml.yaml").write_text(ML.replace("b: {uri: b.csv, provider: local_b}", "b: {uri: b.csv}"))
    rc, out, err = run_cli(["plan"], root, env=WITH_PROBE)
    m = one_error(err)
    assert rc == 1 and (m["file"], m["line"]) == ("ml.yaml", "4"), err
    assert "dataset.b is on provider `local_b` in the state but configured on `local_a`" in err
    assert os.path.exists(root / ".mlops" / "local_b" / "catalog.db")
