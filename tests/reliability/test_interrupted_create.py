"""A create interrupted after the object was made (docs/reliability.md): the engine records
the object's id before the create returns, so a kill -9 leaves it in state as `creating` and
the next apply finishes it instead of creating it twice; a create that fails after making the
object leaves it `tainted`, and the next plan replaces it (`-/+ ... (tainted)`)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from stress_common import catalog_rows, cli, popen_cli, read_state

HANG_B = json.dumps([{"op": "create", "name": "b", "mode": "hang", "after": True}])


def project(root: Path, names: list[str]) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    lines = ["project: t", "resources:", "  dataset:"]
    for n in names:
        (root / "data" / f"{n}.csv").write_text(f"id,value\n1,{n}\n")
        lines += [f"    {n}:", f"      uri: data/{n}.csv"]
    (root / "mlops.yaml").write_text("\n".join(lines) + "\n")
    return root


def test_kill_9_during_a_hanging_create_then_the_next_apply_creates_nothing_twice(tmp_path: Path) -> None:
    root = project(tmp_path / "p", ["a", "b"])
    log = tmp_path / "calls.log"
    env = {"MLOPS_LOCAL_FAULT_LOG": str(log), "PYTHONUNBUFFERED": "1", "MLOPS_PROGRESS_INTERVAL": "1"}
    proc = popen_cli(root, "apply", "--auto-approve", env={**env, "MLOPS_LOCAL_FAULTS": HANG_B})
    try:
        # b's create made its catalog row and now hangs (a cloud create waiting for "ready")
        seen = ""
        deadline = time.monotonic() + 90
        while "dataset.b: Still creating... [" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            seen += line
        assert "dataset.b: Still creating... [" in seen, seen  # the long create shows progress
        assert ("dataset", "b") in catalog_rows(root)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    state = read_state(root)
    assert state.resources["dataset.b"].status == "creating"
    assert state.resources["dataset.b"].id == "b"

    # the plan reads b and finishes it in place; nothing is created
    res = cli(root, "plan", env=env)
    assert res.rc == 0, res.err
    assert "dataset.b will be updated in-place (its create was interrupted; this finishes it)" in res.out
    assert "0 to add" in res.out

    res = cli(root, "apply", "--auto-approve", env=env)
    assert res.rc == 0, res.err
    assert cli(root, "plan", "--detailed-exitcode", env=env).rc == 0
    state = read_state(root)
    assert {a: rs.status for a, rs in state.resources.items()} == {"dataset.a": None, "dataset.b": None}
    calls = log.read_text().splitlines()
    assert calls.count("create dataset b") == 1, calls
    assert calls.count("create dataset a") == 1 and "update dataset b" in calls


def test_a_create_that_fails_after_making_the_object_taints_it_and_the_next_apply_replaces_it(
    tmp_path: Path,
) -> None:
    root = project(tmp_path / "p", ["b"])
    log = tmp_path / "calls.log"
    env = {"MLOPS_LOCAL_FAULT_LOG": str(log)}
    broken = json.dumps([{"op": "create", "name": "b", "mode": "permanent", "after": True}])
    res = cli(root, "apply", "--auto-approve", env={**env, "MLOPS_LOCAL_FAULTS": broken})
    assert res.rc == 1 and "injected permanent fault on create dataset.b" in res.err
    assert "Traceback" not in res.err
    assert read_state(root).resources["dataset.b"].status == "tainted"
    assert "# dataset.b: (tainted)" in cli(root, "state", "show", "dataset.b").out

    # a refresh records what it read and keeps the mark
    assert cli(root, "apply", "--refresh-only", "--auto-approve", env=env).rc == 0
    assert read_state(root).resources["dataset.b"].status == "tainted"
    res = cli(root, "plan", env=env)
    assert res.rc == 0, res.err
    assert "dataset.b must be replaced (tainted)" in res.out
    assert '-/+ resource "dataset" "b"' in res.out
    assert "1 to replace" in res.out or "1 to add" in res.out

    assert cli(root, "apply", "--auto-approve", env=env).rc == 0
    assert read_state(root).resources["dataset.b"].status is None
    assert cli(root, "plan", "--detailed-exitcode", env=env).rc == 0
    writes = [c for c in log.read_text().splitlines() if not c.startswith("read ")]
    # made, failed, tainted; then deleted and made again: a replacement, never two objects
    assert writes == ["create dataset b", "delete dataset b", "create dataset b"], writes


def test_a_create_that_fails_before_making_anything_leaves_no_trace(tmp_path: Path) -> None:
    root = project(tmp_path / "p", ["b"])
    broken = json.dumps([{"op": "create", "name": "b", "mode": "permanent"}])
    res = cli(root, "apply", "--auto-approve", env={"MLOPS_LOCAL_FAULTS": broken})
    assert res.rc == 1 and "Traceback" not in res.err
    assert read_state(root).resources == {}


def test_lifecycle_timeouts_set_one_resources_limit(tmp_path: Path) -> None:
    root = project(tmp_path / "p", ["a", "b"])
    text = (root / "mlops.yaml").read_text().replace(
        "      uri: data/b.csv", "      uri: data/b.csv\n      lifecycle: {timeouts: {create: 2s}}"
    )
    (root / "mlops.yaml").write_text(text)
    hang = json.dumps([{"op": "create", "mode": "hang", "seconds": 6}])
    res = cli(root, "apply", "--auto-approve", env={"MLOPS_LOCAL_FAULTS": hang}, timeout=60)
    # b has its own limit; a keeps the default and finishes once its hang is over
    assert res.rc == 1 and "dataset.b: create timed out after 2s" in res.err, res.err
    assert "dataset.a: Creation complete" in res.out
    bad = text.replace("create: 2s", "create: soon")
    (root / "mlops.yaml").write_text(bad)
    res = cli(root, "validate")
    assert res.rc == 1 and "mlops.yaml:" in res.err and "timeouts" in res.err and "Traceback" not in res.err
