"""Reading what is kept on disk: the one place where the bytes of a state document, a journal
entry and an audit entry are parsed and checked, so a truncated, empty, hand-edited or
newer-format file gives one StateFileError naming the file (and the line), what is wrong
and what to do, never a traceback from deeper down.

Plain checks, not pydantic: `plan` reads the state and must not import it at start-up.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mlops_decl.state.model import ResourceState, State, StateError, check_audit_anchor, check_outputs

Entry = dict[str, Any]

JOURNAL_OPS = ("put", "rm", "outputs", "audit")


class StateFileError(StateError):
    """A file the state backend keeps cannot be read as what it should hold."""

    def __init__(
        self, where: str, problem: str, hint: str | None = None, line: int | None = None, unit: str = "line"
    ):
        super().__init__(where, problem)
        self.where, self.problem, self.hint, self.line, self.unit = where, problem, hint, line, unit

    def __str__(self) -> str:
        at = f" {self.unit} {self.line}" if self.line is not None else ""
        return f"{self.where}{at}: {self.problem}"


def shown(path: Path | str) -> str:
    """path as a message shows it: relative to the working directory when inside it."""
    text = str(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return text if rel.startswith("..") else rel


def parse_json(raw: bytes | str) -> Any:
    """The JSON value in raw; ValueError saying, in a few words, why it is not one."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"it is not text (byte {exc.start} is not UTF-8)") from None
    if not raw.strip():
        raise ValueError("it is empty")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        why = f"{exc.msg}: line {exc.lineno} column {exc.colno}"
    except ValueError as exc:  # e.g. a number too long to convert
        why = str(exc)
    raise ValueError(f"it is not valid JSON ({why}); was it cut short or edited?")


def restore_hint(path: Path | str, backup: Path | str | None) -> str:
    """What to do about an unreadable state document."""
    if backup is not None and Path(backup).is_file():
        return (
            f"the previous version is kept beside it in {shown(backup)}: look at it, then "
            f"`cp {shown(backup)} {shown(path)}` to go back to it (it lacks the last write; "
            "`mlops-decl plan` then shows what the state is missing)"
        )
    return (
        "restore it from version control or a backup; without one, move it aside and "
        "`mlops-decl import` each existing object again"
    )


def read_state(raw: bytes, where: str, backup: Path | str | None = None) -> State:
    """The state document in raw (the bytes of `where`), upgraded to the current format."""
    try:
        return State.from_json(parse_json(raw))
    except ValueError as exc:
        raise StateFileError(where, str(exc), restore_hint(where, backup)) from None
    except StateError as exc:
        newer = "newer mlops-decl" in str(exc)
        hint = "upgrade mlops-decl: `pip install -U mlops-decl`" if newer else restore_hint(where, backup)
        raise StateFileError(where, str(exc), hint) from None


def journal_hint(line: int, unit: str = "line") -> str:
    return (
        f"the {unit}s before {unit} {line} are intact: delete {unit} {line} and every one after "
        "it to read the state as it was up to there (`mlops-decl plan` then shows what is missing)"
    )


def journal_entry(data: Any) -> Entry:
    """data checked as a journal entry (state/journal.py); StateError saying what is wrong."""
    if not isinstance(data, dict):
        raise StateError(f"an entry must be a JSON object, not {type(data).__name__}")
    serial, op = data.get("serial"), data.get("op")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 1:
        raise StateError("`serial` must be a positive integer")
    if not isinstance(data.get("lineage"), str):
        raise StateError("`lineage` must be a string")
    if op not in JOURNAL_OPS:
        raise StateError(f"unknown operation {op!r} (written by a newer mlops-decl?)")
    if op in ("put", "rm") and not isinstance(data.get("address"), str):
        raise StateError(f"a `{op}` entry needs an `address` string")
    if op == "put":
        if "resource" not in data:
            raise StateError("a `put` entry needs a `resource`")
        ResourceState.from_json(data["address"], data["resource"])
    if op == "outputs":
        check_outputs(data.get("outputs"))
    if op == "audit":
        check_audit_anchor(data.get("audit"))
    return data


AUDIT_FIELDS: tuple[tuple[str, type], ...] = (
    ("seq", int),
    ("time", str),
    ("who", str),
    ("event", str),
    ("data", dict),
    ("prev", str),
    ("hash", str),
)


def audit_entry(text: str | bytes, where: str, line: int | None) -> Entry:
    """One audit log line, parsed and checked; StateFileError naming the file and line."""
    try:
        data = parse_json(text)
        if not isinstance(data, dict):
            raise ValueError(f"an entry must be a JSON object, not {type(data).__name__}")
        for key, typ in AUDIT_FIELDS:
            value = data.get(key)
            if not isinstance(value, typ) or isinstance(value, bool):
                raise ValueError(f"`{key}` must be {_NAMES[typ]}, not {_type_name(value)}")
    except ValueError as exc:
        raise StateFileError(
            where,
            str(exc),
            "`mlops-decl audit verify` lists every damaged entry; keep the file as evidence and "
            "restore the log from a backup (the log is append-only: nothing edits it)",
            line,
        ) from None
    return data


_NAMES = {int: "an integer", str: "a string", dict: "an object"}


def _type_name(value: Any) -> str:
    return "missing" if value is None else type(value).__name__
