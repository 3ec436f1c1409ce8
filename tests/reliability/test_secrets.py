"""Sensitive variables (docs/reliability.md, Secrets): never in plan or apply output, logs, plan
files or the audit log; the state and everything under .mlops/ readable by the owner only.

The state keeps the value (as Terraform's does: the next plan has to diff against it), marked
in `sensitive_paths`; so do the local provider's own files under .mlops/local/, which are the
live system the value was sent to (as a cloud API would keep it). Both are owner-only.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from stress_common import cli, read_state

SECRET = "s3cr3t-Tok3n-9f8e7d"
SECRET2 = "an0ther-S3cret-4242"

CONFIG = """\
project: secrets
variables:
  api_token: {type: string, sensitive: true}
  owner: {type: string, default: data-team}
outputs:
  token_echo: "${var.api_token}"
  derived: "${dataset.b.description}"
  plain: "${dataset.a.uri}"
resources:
  dataset:
    a:
      uri: data/a.csv
      description: "token ${var.api_token} for ${var.owner}"
      tags: {auth: "${var.api_token}", team: "${var.owner}"}
    b:
      uri: data/b.csv
      description: "${dataset.a.description}"
    c:
      uri: data/c.csv
      description: plain text
"""


def _project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    for n in "abc":
        (root / "data" / f"{n}.csv").write_text("id,value\n1,2\n")
    (root / "mlops.yaml").write_text(CONFIG)
    return root


def _clean(res, *secrets: str) -> None:
    for s in secrets:
        assert s not in res.out and s not in res.err, f"secret printed:\n{res.out}\n{res.err}"
    assert "Traceback" not in res.err


def _files_without_secret(root: Path, *secrets: str) -> list[str]:
    """Every file under .mlops/ and the plan files, except the state and the provider's data."""
    checked = []
    exempt = {"state.json", "state.json.backup", "state.journal"}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] not in (".mlops", "tfplan", "tfplan2"):
            continue
        if rel.parts[:2] == (".mlops", "local") or (len(rel.parts) == 2 and rel.name in exempt):
            continue
        data = path.read_bytes()
        for s in secrets:
            assert s.encode() not in data, f"{rel} holds a sensitive value"
        checked.append(str(rel))
    return checked


def test_sensitive_values_never_leave_the_state(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    env = {"MLOPS_VAR_api_token": SECRET}

    # plan: human, JSON, saved
    res = cli(root, "plan", env=env)
    assert res.rc == 0, res.err
    _clean(res, SECRET)
    assert res.out.count("(sensitive value)") >= 4  # a.description, a.tags, b.description, outputs
    doc = json.loads(cli(root, "plan", "--json", env=env).out)
    assert SECRET not in json.dumps(doc)
    a = next(r for r in doc["resource_changes"] if r["address"] == "dataset.a")["change"]
    assert a["after_sensitive"] == {"description": True, "tags": True}
    b = next(r for r in doc["resource_changes"] if r["address"] == "dataset.b")["change"]
    assert b["after_sensitive"] == {"description": True}  # inherited through ${dataset.a.description}
    assert doc["output_changes"]["token_echo"]["after_sensitive"] is True
    assert doc["output_changes"]["derived"]["after_sensitive"] is True
    assert doc["output_changes"]["plain"]["after_sensitive"] is False
    res = cli(root, "plan", "-out", "tfplan", env=env)
    _clean(res, SECRET)
    assert os.stat(root / "tfplan").st_mode & 0o777 == 0o600
    for args in (("show", "tfplan"), ("show", "--json", "tfplan")):
        _clean(cli(root, *args), SECRET)

    # apply the saved plan: refused without the value, applied with it (re-resolved)
    res = cli(root, "apply", "tfplan")
    assert res.rc == 1 and "`api_token` has no value" in res.err
    res = cli(root, "apply", "tfplan", env={"MLOPS_VAR_api_token": "wrong-value-123"})
    assert res.rc == 1 and "differs from the value the plan was made with" in res.err
    _clean(res, SECRET, "wrong-value-123")
    res = cli(root, "apply", "tfplan", env=env)
    assert res.rc == 0, res.err
    _clean(res, SECRET)
    state = read_state(root)
    ra, rb = state.resources["dataset.a"], state.resources["dataset.b"]
    assert ra.attributes["description"] == f"token {SECRET} for data-team"  # the real value
    assert ra.attributes["tags"]["auth"] == SECRET
    assert ra.sensitive_paths == ["description", "tags"] and rb.sensitive_paths == ["description"]
    assert state.resources["dataset.c"].sensitive_paths == []
    assert state.outputs["token_echo"]["sensitive"] and state.outputs["derived"]["sensitive"]
    assert cli(root, "plan", "--detailed-exitcode", env=env).rc == 0

    # reading the state back
    for args in (("state", "show", "dataset.a"), ("state", "show", "dataset.b"), ("show",), ("output",)):
        res = cli(root, *args, env=env)
        assert res.rc == 0, res.err
        _clean(res, SECRET)
    assert "(sensitive value)" in cli(root, "state", "show", "dataset.a").out
    assert "plain text" in cli(root, "state", "show", "dataset.c").out

    # a changed secret: an update whose before and after are both hidden
    env2 = {"MLOPS_VAR_api_token": SECRET2}
    res = cli(root, "plan", "-out", "tfplan2", env=env2)
    assert res.rc == 0 and "~ description = (sensitive value) -> (sensitive value)" in res.out
    _clean(res, SECRET, SECRET2)
    res = cli(root, "apply", "tfplan2", env=env2)
    assert res.rc == 0, res.err
    _clean(res, SECRET, SECRET2)
    assert read_state(root).resources["dataset.a"].attributes["tags"]["auth"] == SECRET2

    # a failing apply does not print it either (a permanent fault on b's update)
    faults = json.dumps([{"op": "update", "mode": "permanent"}])
    res = cli(root, "apply", "--auto-approve", env={**env, "MLOPS_LOCAL_FAULTS": faults})
    assert res.rc == 1 and "injected permanent fault" in res.err
    _clean(res, SECRET, SECRET2)

    # destroy, audit
    res = cli(root, "destroy", "--auto-approve", env=env2)
    assert res.rc == 0, res.err
    _clean(res, SECRET, SECRET2)
    for args in (("audit",), ("audit", "verify")):
        _clean(cli(root, *args), SECRET, SECRET2)

    # no file under .mlops/ (but the state's own and the provider's data) and no plan file holds it
    checked = _files_without_secret(root, SECRET, SECRET2)
    assert ".mlops/audit.jsonl" in checked and "tfplan" in checked and "tfplan2" in checked


def test_state_and_mlops_dir_are_owner_only(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    old = os.umask(0o022)  # a typical umask: what is created must not follow it
    try:
        res = cli(root, "apply", "--auto-approve", env={"MLOPS_VAR_api_token": SECRET})
    finally:
        os.umask(old)
    assert res.rc == 0, res.err
    mlops = root / ".mlops"
    assert stat.S_IMODE(mlops.stat().st_mode) == 0o700
    for name in ("state.json", "state.json.backup", "state.journal", "audit.jsonl"):
        path = mlops / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    # the provider's data directory is owner-only too
    assert stat.S_IMODE((mlops / "local").stat().st_mode) == 0o700
    for path in mlops.iterdir():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path.name, oct(mode))


def test_files_libraries_make_under_mlops_are_owner_only(tmp_path: Path) -> None:
    """SQLite, DuckDB, MLflow and numpy create files through the umask; the provider tightens
    them, so a copy or backup of .mlops/ is not readable by others either."""
    import shutil

    root = tmp_path / "quickstart"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "quickstart", root)
    old = os.umask(0o022)
    try:
        res = cli(root, "apply", "--auto-approve")
    finally:
        os.umask(old)
    assert res.rc == 0, res.err
    below = list((root / ".mlops").rglob("*"))
    names = {p.name for p in below}
    assert {"catalog.db", "features.duckdb", "mlflow.db"} <= names, names
    assert any(p.suffix == ".npz" for p in below)  # a monitor's reference profile
    for path in below:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, (str(path.relative_to(root)), oct(mode))


# apply, then die before exit handlers run: nothing tightens the files afterwards
APPLY_THEN_SIGKILL = """import os, signal
from mlops_decl.cli.main import main
try:
    main(["apply", "--auto-approve"])
except SystemExit:
    pass
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_process_leaves_no_file_others_can_read(tmp_path: Path) -> None:
    """While the local provider holds its data directory the process creates files owner-only,
    so a process killed before it could tighten them leaves none readable by others."""
    import shutil
    import subprocess
    import sys

    root = tmp_path / "quickstart"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "quickstart", root)
    old = os.umask(0o022)
    try:
        killed = subprocess.run(
            [sys.executable, "-c", APPLY_THEN_SIGKILL], cwd=root, capture_output=True, text=True, timeout=300
        )
    finally:
        os.umask(old)
    assert killed.returncode == -9, killed.stderr
    below = list((root / ".mlops").rglob("*"))
    assert {"catalog.db", "features.duckdb", "mlflow.db"} <= {p.name for p in below}
    loose = [str(p.relative_to(root)) for p in below if stat.S_IMODE(p.lstat().st_mode) & 0o077]
    assert loose == []


def test_provider_errors_do_not_quote_sensitive_values(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "mlops.yaml").write_text(
        "project: t\nvariables:\n  tok: {type: string, sensitive: true}\n"
        'resources:\n  dataset:\n    a: {uri: "data/${var.tok}.csv"}\n'
    )
    res = cli(root, "plan", env={"MLOPS_VAR_tok": SECRET})
    assert res.rc == 1 and "cannot read dataset file" in res.err and "(sensitive value).csv" in res.err
    _clean(res, SECRET)
