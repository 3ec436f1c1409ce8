"""The audit log's hash chain: intact logs verify, any edit, deletion or reorder is found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlops_decl.audit import AuditLog


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / ".mlops" / "audit.jsonl")
    for i in range(n):
        log.append("run", {"pipeline": "training_pipeline.t", "version": i + 1})
    return log


def test_chain_links_each_entry_to_the_one_before(tmp_path: Path) -> None:
    log = _log(tmp_path)
    entries = list(log.entries())
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    for before, after in zip(entries, entries[1:], strict=False):
        assert after["prev"] == before["hash"]
    assert log.verify() == (5, [])
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"


def test_edit_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["data"]["version"] = 99
    lines[2] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    log.path.write_text("\n".join(lines) + "\n")
    n, problems = log.verify()
    assert n == 5 and [p.line for p in problems] == [3]


def test_deleted_entry_is_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    del lines[1]
    log.path.write_text("\n".join(lines) + "\n")
    _, problems = log.verify()
    assert problems and problems[0].line == 2


def test_rehashed_edit_still_breaks_the_link_to_the_next_entry(tmp_path: Path) -> None:
    from mlops_decl.audit import _digest

    log = _log(tmp_path)
    lines = log.path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["who"] = "mallory@nowhere"
    entry["hash"] = _digest(entry)  # a forger who recomputes this entry's hash...
    lines[1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    log.path.write_text("\n".join(lines) + "\n")
    _, problems = log.verify()
    assert [p.line for p in problems] == [3]  # ...is caught by the next entry's `prev`


def test_audit_verify_cli_exits_1_on_tampering(tmp_path: Path) -> None:
    log = _log(tmp_path)
    (tmp_path / "mlops.yaml").write_text("project: t\n")
    ok = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "audit", "verify"], cwd=tmp_path, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "5 entries" in ok.stdout
    log.path.write_text(log.path.read_text().replace('"version":2', '"version":3', 1))
    bad = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "audit", "verify"], cwd=tmp_path, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "audit.jsonl:2" in bad.stderr and "Traceback" not in bad.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "mlops_decl", "audit"], cwd=tmp_path, capture_output=True, text=True
    )
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == 5


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from mlops_decl.audit import AuditLog\n"
        "log = AuditLog(Path(sys.argv[1]))\n"
        "for i in range(50): log.append('run', {'i': i})\n"
    )
    path = tmp_path / "audit.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)]) for _ in range(4)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    assert AuditLog(path).verify() == (200, [])
