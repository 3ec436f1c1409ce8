"""A damaged file on disk never gives a traceback: every command that reads the state (or the
audit log) over every kind of damage says which file, what is wrong and what to do, exits 1
and leaves the files as they were.

The commands run in-process through click (the same code as `mlops-decl ...`, without a
Python start-up per case) in a copy of an applied quickstart.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_decl.cli.main import cli

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"

STATE = ".mlops/state.json"
JOURNAL = ".mlops/state.journal"
AUDIT = ".mlops/audit.jsonl"

# Every command that reads the state, as a user would type it.
STATE_COMMANDS: dict[str, tuple[str, ...]] = {
    "plan": ("plan",),
    "plan-json": ("plan", "--json"),
    "apply": ("apply", "--auto-approve"),
    "destroy": ("destroy", "--auto-approve"),
    "show": ("show",),
    "show-json": ("show", "--json"),
    "output": ("output",),
    "output-name": ("output", "api_url"),
    "state-list": ("state", "list"),
    "state-show": ("state", "show", "model.churn"),
    "state-rm": ("state", "rm", "model.churn"),
    "state-mv": ("state", "mv", "model.churn", "model.churn2"),
    "state-pull": ("state", "pull"),
    "state-push": ("state", "push", "pushed.json"),
    "import": ("import", "model.churn", "churn"),
    "run": ("run", "training_pipeline.churn_training"),
    "promote": ("promote", "model.churn", "--version", "1"),
    "approve": ("approve", "model.churn", "--version", "1", "--by", "me"),
    "monitor": ("monitor", "check", "monitor.churn_drift", "--data", "data/customers.csv"),
    "lineage": ("lineage", "model.churn"),
    "predict": ("predict", "endpoint.churn_api", "--data", "data/customers.csv"),
    "features": ("features", "get", "feature_group.customer_features", "--entity", "1"),
}

# Every command that reads or appends to the audit log.
AUDIT_COMMANDS: dict[str, tuple[str, ...]] = {
    "audit": ("audit",),
    "audit-json": ("audit", "--json"),
    "audit-verify": ("audit", "verify"),
    "apply": ("apply", "--auto-approve"),
    "run": ("run", "training_pipeline.churn_training"),
    "promote": ("promote", "model.churn", "--version", "1"),
    "approve": ("approve", "model.churn", "--version", "1", "--by", "me"),
    "monitor": ("monitor", "check", "monitor.churn_drift", "--data", "data/customers.csv"),
}


def _edit_json(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        doc = json.loads(path.read_text())
        change(doc)
        path.write_text(json.dumps(doc))

    return damage


def _journal_line(make: Callable[[dict], object]) -> Callable[[Path], None]:
    """A journal holding a good line, then make(state) (and a good line after it)."""

    def damage(path: Path) -> None:
        state = json.loads(path.with_suffix(".json").read_text())
        base = {"lineage": state["lineage"], "op": "outputs", "outputs": {}}
        good = json.dumps({**base, "serial": state["serial"] + 1})
        bad = make({**base, "serial": state["serial"] + 2})
        bad_text = bad if isinstance(bad, str) else json.dumps(bad)
        after = json.dumps({**base, "serial": state["serial"] + 3})
        path.write_text(f"{good}\n{bad_text}\n{after}\n")

    return damage


def _audit_tail(text: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        path.write_text(path.read_text() + text + "\n")

    return damage


def _set(doc: dict, *keys: str, value: object) -> None:
    for k in keys[:-1]:
        doc = doc[k]
    doc[keys[-1]] = value


# (file, damage, what the Error line must say besides the file, what the hint must say)
DAMAGE: dict[str, tuple[str, Callable[[Path], None], str, str]] = {
    "state-empty": (STATE, lambda p: p.write_bytes(b""), "it is empty", "state.json.backup"),
    "state-truncated": (
        STATE,
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        "not valid JSON",
        "state.json.backup",
    ),
    "state-not-json": (STATE, lambda p: p.write_bytes(b"<html>\xff</html>"), "not text", "backup"),
    "state-a-list": (STATE, lambda p: p.write_text("[1, 2]"), "must be a JSON object", "backup"),
    "state-serial-a-string": (
        STATE,
        _edit_json(lambda d: _set(d, "serial", value="7")),
        "`serial` must be",
        "backup",
    ),
    "state-resource-no-kind": (
        STATE,
        _edit_json(lambda d: d["resources"]["model.churn"].pop("kind")),
        "resource `model.churn` has no `kind`",
        "backup",
    ),
    "state-attributes-a-list": (
        STATE,
        _edit_json(lambda d: _set(d, "resources", "model.churn", "attributes", value=[1])),
        "`attributes` must be",
        "backup",
    ),
    "state-output-not-an-object": (
        STATE,
        _edit_json(lambda d: _set(d, "outputs", "api_url", value="x")),
        "output `api_url`",
        "backup",
    ),
    "state-future-format": (
        STATE,
        _edit_json(lambda d: _set(d, "format_version", value=99)),
        "format_version 99",
        "upgrade mlops-decl",
    ),
    "journal-garbage-line": (JOURNAL, _journal_line(lambda e: "{garbage"), "line 2", "delete line 2"),
    "journal-entry-a-list": (JOURNAL, _journal_line(lambda e: [e]), "line 2: an entry must be", "line 2"),
    "journal-outputs-a-list": (
        JOURNAL,
        _journal_line(lambda e: {**e, "outputs": [1]}),
        "line 2: `outputs` must be",
        "line 2",
    ),
    "journal-put-without-resource": (
        JOURNAL,
        _journal_line(lambda e: {**e, "op": "put", "address": "model.x"}),
        "line 2: a `put` entry needs a `resource`",
        "line 2",
    ),
    "journal-unknown-op": (
        JOURNAL,
        _journal_line(lambda e: {**e, "op": "frob"}),
        "line 2: unknown operation",
        "line 2",
    ),
}

DAMAGED_AUDIT: dict[str, tuple[str, Callable[[Path], None], str, str]] = {
    "audit-torn-tail": (AUDIT, _audit_tail('{"seq": 2, "ti'), "not valid JSON", "audit verify"),
    "audit-not-an-object": (AUDIT, _audit_tail("[1]"), "must be a JSON object", "audit verify"),
    "audit-seq-a-string": (
        AUDIT,
        lambda p: _audit_tail(json.dumps({**json.loads(p.read_text()), "seq": "2"}))(p),
        "`seq` must be an integer",
        "audit verify",
    ),
    "audit-no-hash": (
        AUDIT,
        lambda p: _audit_tail(
            json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k != "hash"})
        )(p),
        "`hash` must be a string, not missing",
        "audit verify",
    ),
    "audit-not-text": (AUDIT, lambda p: p.write_bytes(p.read_bytes() + b"\xff\xfe\n"), "audit.jsonl", ""),
}


CASES = [(kind, cmd) for kind in DAMAGE for cmd in STATE_COMMANDS] + [
    (kind, cmd) for kind in DAMAGED_AUDIT for cmd in AUDIT_COMMANDS
]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart, applied once."""
    root = tmp_path_factory.mktemp("applied") / "project"
    shutil.copytree(QUICKSTART, root, ignore=shutil.ignore_patterns(".mlops", "__pycache__"))
    with pytest.MonkeyPatch.context() as mp:
        rc, err = _run(root, ("apply", "--auto-approve"), mp)
    assert rc == 0, err
    (root / "pushed.json").write_text((root / STATE).read_text())
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in (STATE, JOURNAL, AUDIT, STATE + ".backup")}


def _damaged(applied: Path, tmp_path: Path, rel: str, damage: Callable[[Path], None]) -> Path:
    root = tmp_path / "project"
    shutil.copytree(applied, root)
    damage(root / rel)
    return root


def _run(root: Path, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(root)
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(cli, list(args))
    if not isinstance(result.exception, SystemExit | None):
        import traceback

        trace = "".join(traceback.format_exception(*result.exc_info))  # type: ignore[misc]
        pytest.fail(f"mlops-decl {' '.join(args)} raised:\n{trace}")
    return result.exit_code, result.stderr


@pytest.mark.parametrize(("kind", "command"), CASES)
def test_a_damaged_file_is_one_clear_error(
    applied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, command: str
) -> None:
    rel, damage, says, hint = {**DAMAGE, **DAMAGED_AUDIT}[kind]
    args = {**STATE_COMMANDS, **AUDIT_COMMANDS}[command]
    if kind in DAMAGED_AUDIT and command == "audit-verify":
        hint = "tampered with"  # verify lists every damaged entry rather than pointing to itself
    root = _damaged(applied, tmp_path, rel, damage)
    before = _files(root)
    rc, err = _run(root, args, monkeypatch)
    assert rc == 1, err
    assert "Traceback" not in err
    assert f"Error: {rel}" in err, err
    assert says in err, err
    assert hint in err, err
    assert _files(root) == before, "a damaged file must leave every state file as it was"


def test_a_damaged_file_pushed_is_refused(
    applied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _damaged(applied, tmp_path, "pushed.json", lambda p: p.write_text('{"format_version": 1, "ser'))
    before = _files(root)
    rc, err = _run(root, ("state", "push", "pushed.json"), monkeypatch)
    assert (rc, "Traceback" in err) == (1, False)
    assert "Error: pushed.json: it is not valid JSON" in err, err
    assert _files(root) == before
