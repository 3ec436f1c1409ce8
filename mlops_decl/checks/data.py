"""What a dataset holds, against what the config says of it: feature, entity and event-time
names and types, the label, a monitor's features. Provider-neutral: a provider reads the
dataset's header and a bounded sample (`Sample`; `read_sample` does it for local CSV and
parquet files) in its plan-time `Handler.validate` and returns these problems. Where checking
the rest of the file is cheap, the provider gives the sample a `rest` check too (the local
provider's CSV files: DuckDB, providers/local/support/csv_scan.py).

Only what the data shows for certain is a problem: a value that cannot be an int in a
column declared int. Values are quoted from a parsed file only.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops_decl.provider import ConfigError

SAMPLE_ROWS = 1000  # data rows read in Python for types; the rest only through a provider's `rest`
# The shapes of a time pandas reads (ISO 8601, 2026/1/31, 31/01/2026, 20260131, 5 Jan 2026,
# Jan 5, 2026 ...), with an optional time of day and zone. Python's re and DuckDB's RE2 read it
# alike: the whole-file check (providers/local/support/csv_scan.py) uses the same text.
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
DATETIME_PATTERN = (
    r"(?i)\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{8}"
    rf"|\d{{1,2}}\s+{_MONTH},?(\s+\d{{2,4}})?|{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?(,?\s+\d{{2,4}})?)"
    r"([ t]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?\s*(am|pm)?)?\s*(z|utc|[+-]\d{2}(:?\d{2})?)?\s*"
)
_DATETIME = re.compile(DATETIME_PATTERN)
_INT = re.compile(r"^\s*[+-]?\d+(\.0*)?\s*$")  # 42, -7, 42.0 (pandas reads 42.0 as an int-able float)
_BOOL = frozenset({"true", "false", "1", "0", "1.0", "0.0"})
_SHOWN = 40


@dataclass
class Sample:
    """A dataset's columns, with either text values of its first rows (CSV, with their line
    numbers) or the column types its format records (parquet: int, float, bool, datetime,
    string, other)."""

    columns: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    types: dict[str, str] | None = None
    complete: bool = True  # the rows are the whole file
    # column -> dtype in, column -> (line, value) of the first misfit past the rows out: a
    # provider's check of the whole file, where it is cheap (local CSV: DuckDB)
    rest: Callable[[dict[str, str]], dict[str, tuple[int, str]]] | None = None

    def values(self, column: str) -> list[tuple[int, str]]:
        if column not in self.columns:
            return []
        i = self.columns.index(column)
        return [(line, row[i]) for line, row in self.rows if i < len(row) and row[i].strip() != ""]


def read_sample(path: Any, fmt: str, limit: int = SAMPLE_ROWS) -> Sample:
    """The header and first `limit` rows of a local CSV file, or a parquet file's schema.
    Raises OSError, UnicodeDecodeError, csv.Error or ValueError when it does not read."""
    if fmt == "parquet":
        import pyarrow.parquet as pq  # the dataset's plan has imported it already

        schema = pq.read_schema(path)
        return Sample(list(schema.names), types={f.name: _arrow_kind(str(f.type)) for f in schema})
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        for record in reader:
            if not record:
                continue
            if header is None:
                header = record
            else:
                rows.append((reader.line_num, record))
                if len(rows) >= limit:
                    return Sample(header, rows, complete=next(reader, None) is None)
    return Sample(header or [], rows)


def _arrow_kind(t: str) -> str:
    if t.startswith(("int", "uint")):
        return "int"
    if t in ("float", "double", "halffloat") or t.startswith(("float", "decimal")):
        return "float"
    if t == "bool":
        return "bool"
    if t.startswith(("timestamp", "date")):
        return "datetime"
    if t in ("string", "large_string", "utf8", "large_utf8"):
        return "string"
    return "other"


def _fits(dtype: str, value: str) -> bool:
    """Whether a CSV text value converts to `dtype` as training reads it."""
    if dtype == "int":
        return bool(_INT.match(value))
    if dtype == "float":
        try:
            float(value)
        except ValueError:
            return value.strip().lower() in ("true", "false")
        return True
    if dtype == "bool":
        return value.strip().lower() in _BOOL
    if dtype == "datetime":
        return _DATETIME.fullmatch(value) is not None
    return True


# parquet column types a declared dtype cannot be converted from
_TYPED_MISFITS = {
    "int": {"string", "bool"},
    "float": {"string"},
    "bool": {"string", "float"},
    "datetime": {"bool"},
}


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"


# (column, declared dtype, what the message calls it, the config field to point at)
Typed = tuple[str, str, str, tuple[Any, ...]]


def _type_problems(sample: Sample, checks: list[Typed], source: str) -> list[ConfigError]:
    """A problem per column whose values do not fit its dtype: the sampled rows first, then
    (one pass for every column the rows passed) the rest of the file where a provider checks it."""
    out: dict[int, ConfigError] = {}
    passed: dict[str, str] = {}
    for i, (column, dtype, what, where) in enumerate(checks):
        if sample.types is not None:
            actual = sample.types.get(column)
            if actual in _TYPED_MISFITS.get(dtype, ()):
                out[i] = ConfigError(
                    f"{what} is declared {dtype}, but column `{column}` of dataset `{source}` holds {actual} values",
                    field=where,
                    hint=f"declare the dtype the column holds ({actual}), or fix the data",
                )
            continue
        bad = next(((line, v) for line, v in sample.values(column) if not _fits(dtype, v)), None)
        if bad is not None:
            out[i] = _misfit(what, dtype, source, column, *bad, where)
        else:
            passed[column] = dtype
    if passed and not sample.complete and sample.rest is not None:
        found = sample.rest(passed)
        for i, (column, dtype, what, where) in enumerate(checks):
            if column in found and i not in out:
                out[i] = _misfit(what, dtype, source, column, *found[column], where)
    return [out[i] for i in sorted(out)]


def _misfit(
    what: str, dtype: str, source: str, column: str, line: int, value: str, where: tuple[Any, ...]
) -> ConfigError:
    return ConfigError(
        f"{what} is declared {dtype}, but dataset `{source}` holds `{_shown(value)}` in "
        f"column `{column}` (line {line})",
        field=where,
        hint="declare the dtype the column holds, or fix the data",
    )


def _missing(name: Any, sample: Sample, source: str, where: tuple[Any, ...], what: str) -> ConfigError:
    close = difflib.get_close_matches(str(name), sample.columns, n=1)
    return ConfigError(
        f"{what} `{name}` is not a column of dataset `{source}`",
        field=where,
        hint=(f"did you mean `{close[0]}`? " if close else "")
        + f"columns of `{source}`: {', '.join(sample.columns) or '(none)'}",
    )


def feature_group_problems(attrs: dict[str, Any], sample: Sample, source: str) -> list[ConfigError]:
    """Entity keys, event time and features against the source's columns and types."""
    out: list[ConfigError] = []
    for i, key in enumerate(attrs.get("entity") or []):
        if isinstance(key, str) and key not in sample.columns:
            out.append(_missing(key, sample, source, ("entity", i), "entity column"))
    typed: list[Typed] = []
    event_time = attrs.get("event_time")
    if isinstance(event_time, str):
        if event_time not in sample.columns:
            out.append(_missing(event_time, sample, source, ("event_time",), "event_time column"))
        else:
            typed.append((event_time, "datetime", "event_time", ("event_time",)))
    for i, feature in enumerate(attrs.get("features") or []):
        if not isinstance(feature, dict) or not isinstance(feature.get("name"), str):
            continue
        name, dtype = feature["name"], str(feature.get("dtype"))
        if name not in sample.columns:
            out.append(_missing(name, sample, source, ("features", i, "name"), "feature"))
        else:
            typed.append((name, dtype, f"feature `{name}`", ("features", i, "dtype")))
    return out + _type_problems(sample, typed, source)


def label_problems(attrs: dict[str, Any], sample: Sample, source: str) -> list[ConfigError]:
    """The label is a column of the label spine, numeric when the task is regression."""
    label = attrs.get("label")
    if not isinstance(label, str):
        return []
    if label not in sample.columns:
        return [_missing(label, sample, source, ("label",), "label")]
    if attrs.get("task") == "regression":
        return [
            ConfigError(
                str(p).replace("is declared float", "must be numeric for regression"),
                field=("label",),
                hint="set task: classification, or choose a numeric label",
            )
            for p in _type_problems(sample, [(label, "float", f"label `{label}`", ("label",))], source)
        ]
    return []


def monitor_problems(attrs: dict[str, Any], sample: Sample, source: str) -> list[ConfigError]:
    """A monitor's features (and per-feature settings) are columns of its baseline."""
    out: list[ConfigError] = []
    features = attrs.get("features")
    for i, name in enumerate(features if isinstance(features, list) else []):
        if isinstance(name, str) and name not in sample.columns:
            out.append(_missing(name, sample, source, ("features", i), "monitored feature"))
    for name in attrs.get("per_feature") or {}:
        if name not in sample.columns:
            out.append(_missing(name, sample, source, ("per_feature", name), "per_feature entry"))
    return out
