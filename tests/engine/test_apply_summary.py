"""What an apply writes and says: one serial per state write (none for no change), the
failure summary names each failed address, and destroy's own wording."""

from __future__ import annotations

from pathlib import Path

from engine_helpers import dataset_project


def _serial(p) -> int:
    return int(p.state()["serial"])


def test_one_serial_per_write_and_none_for_a_no_op(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"], extra='outputs:\n  a_version: "${dataset.a.version}"\n')
    p.ok("apply", "--auto-approve")
    before = _serial(p)
    p.ok("apply", "--auto-approve")
    assert _serial(p) == before, "an apply with nothing to do writes nothing"
    p.write("data/a.csv", "id,value\n1,changed\n")
    p.ok("apply", "--auto-approve")
    # dataset.a's new attributes, the output that changed with it, the audit log's anchor
    assert _serial(p) == before + 3
    p.write("mlops.yaml", (tmp_path / "mlops.yaml").read_text().replace("a_version:", "a_ver:"))
    p.write("data/b.csv", "id,value\n1,changed too\n")
    mid = _serial(p)
    p.ok("apply", "--auto-approve")
    assert _serial(p) == mid + 3  # dataset.b, the renamed output, the anchor


def test_an_update_with_unchanged_outputs_is_one_write(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a", "b"], extra='outputs:\n  a_version: "${dataset.a.version}"\n')
    p.ok("apply", "--auto-approve")
    before = _serial(p)
    p.write("data/b.csv", "id,value\n1,changed\n")
    p.ok("apply", "--auto-approve")
    assert _serial(p) == before + 2  # dataset.b, then the audit log's anchor; outputs as they were


def test_failure_summary_names_an_address_whose_error_has_a_file_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    p = dataset_project(tmp_path, ["a", "b"], deps={"b": ["dataset.a"]})
    text = (tmp_path / "mlops.yaml").read_text()
    fault = (
        "providers:\n  local:\n    faults: [{op: create, kind: dataset, name: a, mode: hang, seconds: 2}]\n"
    )
    p.write("mlops.yaml", text.replace("resources:", fault + "resources:", 1))
    # b's file goes while a's create hangs: after the plan read it, before b's create does
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl", "apply", "--auto-approve"],
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("dataset.a: Creating..."):
            (tmp_path / "data" / "b.csv").unlink()
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    assert "mlops.yaml:" in err  # the error points into the config
    assert "failed:    dataset.b" in err, err
    assert "?" not in err.split("failed:")[1].splitlines()[0]


def test_a_saved_plan_whose_data_file_went_is_refused_before_anything_runs(tmp_path: Path) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.ok("plan", "-out", "tf.plan")
    (tmp_path / "data" / "a.csv").unlink()
    res = p.run("apply", "tf.plan")
    assert res.rc == 1
    assert "mlops.yaml:6:12: dataset.a: cannot read dataset file" in res.err, res.err
    assert "Traceback" not in res.err
    assert not (tmp_path / ".mlops" / "state.json").exists()


def test_destroy_cancelled_says_destroy(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    p = dataset_project(tmp_path, ["a"])
    p.ok("apply", "--auto-approve")
    leader, follower = pty.openpty()  # the question is asked only on a terminal
    os.write(leader, b"no\n")  # the answer, waiting for the prompt
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "destroy"],
        cwd=tmp_path,
        stdin=follower,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(follower)
    os.close(leader)
    assert proc.returncode == 1
    assert "Destroy cancelled." in proc.stdout and "Apply cancelled." not in proc.stdout
