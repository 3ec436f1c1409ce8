"""The audit log is anchored in the state: a cut-off end, or a chain rewritten from an edited
entry onward with every later hash recomputed, fails `audit verify`; a chain alone passed both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runtime_helpers import mlops

from mlops_decl.audit import _digest


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart applied and trained once: apply, intent, started, run in the log."""
    import shutil

    root = tmp_path_factory.mktemp("anchor") / "project"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "quickstart", root)
    mlops(root, "apply", "--auto-approve")
    mlops(root, "run", "training_pipeline.churn_training")
    return root


@pytest.fixture
def project(applied: Path, tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "p"
    shutil.copytree(applied, dest)
    return dest


def _lines(root: Path) -> list[str]:
    return (root / ".mlops" / "audit.jsonl").read_text().splitlines()


def _write(root: Path, lines: list[str]) -> None:
    (root / ".mlops" / "audit.jsonl").write_text("".join(line + "\n" for line in lines))


def test_an_intact_log_verifies_against_its_anchor(project: Path) -> None:
    out = mlops(project, "audit", "verify")
    assert "Audit log intact: 4 entries" in out.stdout and "holds the 4 the state anchored" in out.stdout


def test_a_cut_off_end_is_detected(project: Path) -> None:
    _write(project, _lines(project)[:-2])  # the run's outcome and its start, gone
    bad = mlops(project, "audit", "verify", check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "audit.jsonl:3: the log ends after 2 entries, but the state recorded 4" in bad.stderr
    assert "entries 3 to 4 were removed" in bad.stderr


def test_an_emptied_log_is_detected(project: Path) -> None:
    _write(project, [])
    bad = mlops(project, "audit", "verify", check=False)
    assert bad.returncode == 1 and "the log ends after 0 entries, but the state recorded 4" in bad.stderr


def test_a_chain_rewritten_from_an_edited_entry_on_is_detected(project: Path) -> None:
    entries = [json.loads(line) for line in _lines(project)]
    entries[1]["who"] = "mallory@nowhere"  # the edit...
    prev = entries[0]["hash"]
    for e in entries[1:]:  # ...and every later link recomputed, so the chain itself is whole
        e["prev"] = prev
        e["hash"] = prev = _digest(e)
    _write(project, [json.dumps(e, sort_keys=True, separators=(",", ":")) for e in entries])
    bad = mlops(project, "audit", "verify", check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "audit.jsonl:4: entry 4 is not the entry the state recorded" in bad.stderr


def test_runtime_entries_are_anchored_and_leave_a_saved_plan_current(project: Path) -> None:
    """A run anchors its entries (so cutting them off shows), and those anchor-only state
    writes do not make a plan saved before the run stale."""
    mlops(project, "plan", "-out", "tf.plan")
    mlops(project, "promote", "model.churn", "--version", "1")
    state = json.loads((project / ".mlops" / "state.json").read_text())
    assert state["audit"]["entries"] == len(_lines(project)) == 6  # intent + promotion
    mlops(project, "apply", "tf.plan")
    assert json.loads(_lines(project)[-1])["event"] == "apply"
    _write(project, _lines(project)[:-1])
    bad = mlops(project, "audit", "verify", check=False)
    assert bad.returncode == 1 and "entry 7 was removed from its end" in bad.stderr


def test_a_log_without_an_anchor_says_what_it_cannot_show(tmp_path: Path) -> None:
    from mlops_decl.audit import AuditLog

    (tmp_path / "mlops.yaml").write_text("project: t\n")
    AuditLog(tmp_path / ".mlops" / "audit.jsonl").append("run", {"i": 1})
    out = mlops(tmp_path, "audit", "verify")
    assert "1 entries" in out.stdout and "the state records no anchor" in out.stdout
