"""The rest of a local CSV dataset past the sampled rows, checked at plan: DuckDB reads the
whole file as text in one pass and says, per declared column, whether any value does not fit
its dtype; only then is the first such value found and its CSV line counted.

Figures in docs/performance.md. The verdicts are kept by the file's content hash, so plan pays
for the scan once per version of the file. Files past FULL_SCAN_BYTES are left to the sample:
their values are checked when they are read at apply.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from mlops_decl.checks.data import DATETIME_PATTERN

from ..client import open_scratch_duckdb

FULL_SCAN_BYTES = 256 * 1024 * 1024

# What mlops_decl.checks.data._fits accepts, as DuckDB SQL over the text value {v} (empty
# values are not checked, as there). tests/checks/test_csv_scan.py holds the two together.
FITS = {
    "int": r"regexp_full_match({v}, '\s*[+-]?\d+(\.0*)?\s*')",
    "float": "TRY_CAST(trim({v}) AS DOUBLE) IS NOT NULL OR lower(trim({v})) IN ('true', 'false')",
    "bool": "lower(trim({v})) IN ('true', 'false', '1', '0', '1.0', '0.0')",
    "datetime": "regexp_full_match({v}, '"
    + DATETIME_PATTERN.replace("'", "''").replace("{", "{{").replace("}", "}}")
    + "')",
}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def misfit_sql(column: str, dtype: str) -> str:
    """SQL true for a value of `column` that is there and does not fit `dtype`."""
    v = _quoted(column)
    return f"({v} IS NOT NULL AND trim({v}) <> '' AND NOT ({FITS[dtype].format(v=v)}))"


def scan_rest(path: Path, version: Any = None, cache: Path | None = None) -> Any:
    """A Sample.rest check over the CSV file at path, or None when the file is too large to
    read whole at plan. With the file's `version` (its content hash) and a `cache` file, the
    verdicts are kept there, so an unchanged file is scanned once, not at every plan."""
    try:
        if path.stat().st_size > FULL_SCAN_BYTES:
            return None
    except OSError:
        return None

    def rest(wanted: dict[str, str]) -> dict[str, tuple[int, str]]:
        checks = {c: d for c, d in wanted.items() if d in FITS}
        kept = _kept(cache, path, version)
        todo = {c: d for c, d in checks.items() if f"{c}:{d}" not in kept}
        if todo:
            found = _first_misfits(path, todo)
            kept.update({f"{c}:{d}": found.get(c) for c, d in todo.items()})
            _keep(cache, path, version, kept)
        return {c: tuple(kept[f"{c}:{d}"]) for c, d in checks.items() if kept.get(f"{c}:{d}")}

    return rest


def _kept(cache: Path | None, path: Path, version: Any) -> dict[str, Any]:
    """The verdicts kept for this file at this version ({} when none, or no cache)."""
    if cache is None or not isinstance(version, str):
        return {}
    try:
        entry = json.loads(cache.read_text()).get(str(path)) or {}
    except (OSError, ValueError, AttributeError):
        return {}  # a cache: missing or damaged, the file is scanned again
    return dict(entry.get("checked") or {}) if entry.get("version") == version else {}


def _keep(cache: Path | None, path: Path, version: Any, checked: dict[str, Any]) -> None:
    """Best effort, and only once the project has its data directory (a plan of a new
    project writes nothing)."""
    if cache is None or not isinstance(version, str) or not cache.parent.is_dir():
        return
    try:
        doc = json.loads(cache.read_text()) if cache.exists() else {}
        if not isinstance(doc, dict):
            doc = {}
    except (OSError, ValueError):
        doc = {}
    doc[str(path)] = {"version": version, "checked": checked}
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
        os.replace(tmp, cache)
    except OSError:
        tmp.unlink(missing_ok=True)


def _source() -> str:
    # The csv module's dialect, as read_sample and training read the file; every column as text.
    return "read_csv(?, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"')"


def _first_misfits(path: Path, checks: dict[str, str]) -> dict[str, tuple[int, str]]:
    from mlops_decl.provider import ProviderError

    try:
        con = open_scratch_duckdb()
    except ProviderError:  # no DuckDB here: the sample's verdict stands
        return {}
    import duckdb  # opened above, so installed

    try:
        columns = list(checks)
        flags = ", ".join(f"bool_or({misfit_sql(c, checks[c])})" for c in columns)
        row = con.execute(f"SELECT {flags} FROM {_source()}", [str(path)]).fetchone()
        bad = [c for c, flagged in zip(columns, row or (), strict=False) if flagged]
        values = {}
        for c in bad:
            got = con.execute(
                f"SELECT {_quoted(c)} FROM {_source()} WHERE {misfit_sql(c, checks[c])} LIMIT 1", [str(path)]
            ).fetchone()
            if got is not None:
                values[c] = str(got[0])
    except duckdb.Error:  # a file DuckDB reads otherwise than csv does: the sample's verdict stands
        return {}
    finally:
        con.close()
    return _lines(path, values)


def _lines(path: Path, values: dict[str, str]) -> dict[str, tuple[int, str]]:
    """column -> (CSV line, value) of the first record holding each value in its column: the
    first misfit, since any earlier record with that value would be one too."""
    out: dict[str, tuple[int, str]] = {}
    if not values:
        return out
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        where = {c: header.index(c) for c in values if c in header}
        for record in reader:
            for c, i in where.items():
                if c not in out and i < len(record) and record[i] == values[c]:
                    out[c] = (reader.line_num, values[c])
            if len(out) == len(where):
                break
    return out
