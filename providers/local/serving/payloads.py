"""Request bodies to rows, by Content-Type, as MLflow's scoring server reads them.

JSON (`application/json`, `...+json`, or no Content-Type): a list of row objects,
`{"dataframe_split": {"columns", "data"}}`, `{"dataframe_records": [...]}`, or
`{"instances" | "inputs": [...]}` (row objects, or an object of column lists). CSV
(`text/csv`, `application/csv`): a header line, then rows. A form-encoded body (what `curl -d`
sends without a Content-Type) is read as JSON when it parses as JSON; any other type is a 415.
"""

from __future__ import annotations

import io
import json
from typing import Any

JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv", "application/csv")
CURL_DEFAULT = "application/x-www-form-urlencoded"
SHAPES = 'a JSON list of row objects, {"dataframe_split": {"columns": [...], "data": [[...]]}}, ' + (
    '{"dataframe_records": [...]} or {"instances": [...]}'
)


class BadPayload(ValueError):
    """The body cannot be read as rows; `status` is the HTTP answer (400 or 415)."""

    def __init__(self, message: str, status: int = 400, hint: str | None = None):
        super().__init__(message)
        self.status, self.hint = status, hint


def media_type(header: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`; no header reads as JSON."""
    if not header:
        return "application/json"
    return header.split(";", 1)[0].strip().lower()


def parse(body: bytes, content_type: str | None) -> Any:
    """The body's rows as a DataFrame."""
    media = media_type(content_type)
    if not body.strip():
        raise BadPayload("empty body", hint=f"send {SHAPES}")
    if media in JSON_TYPES or media.endswith("+json"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            raise BadPayload(f"bad JSON: {exc}") from None
        return from_json(data)
    if media in CSV_TYPES:
        return from_csv(body)
    if media == CURL_DEFAULT:  # `curl -d '[...]'` without -H: JSON it is, when it parses
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if data is not None:
            return from_json(data)
    raise BadPayload(
        f"unsupported Content-Type `{media}`",
        status=415,
        hint="send application/json (rows or MLflow's dataframe_split / dataframe_records / instances) or text/csv",
    )


def from_json(data: Any) -> Any:
    if isinstance(data, dict):
        split = data.get("dataframe_split")
        if split is not None:
            return _split(split)
        for key in ("dataframe_records", "instances", "inputs", "rows"):
            if key in data:
                return _records(data[key], key)
        raise BadPayload(
            f"no rows in an object with keys {', '.join(map(str, list(data)[:5])) or 'none'}",
            hint=f"send {SHAPES}",
        )
    if isinstance(data, list):
        return _records(data, "the body")
    raise BadPayload(f"a JSON {type(data).__name__} is not rows", hint=f"send {SHAPES}")


def _records(rows: Any, where: str) -> Any:
    import pandas as pd

    if isinstance(rows, dict):  # column-oriented: {"col": [values...]}
        lengths = {len(v) if isinstance(v, list) else -1 for v in rows.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise BadPayload(f"{where}: an object of columns needs a list of equal length per column")
        return pd.DataFrame(rows)
    if not isinstance(rows, list) or not rows:
        raise BadPayload(f"{where}: no rows", hint=f"send {SHAPES}")
    bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict)), None)
    if bad is not None:
        raise BadPayload(
            f"{where}: row {bad} is not an object of column: value pairs ({type(rows[bad]).__name__})",
            hint='rows without column names go in {"dataframe_split": {"columns": [...], "data": [...]}}',
        )
    return pd.DataFrame.from_records(rows)


def _split(split: Any) -> Any:
    import pandas as pd

    if not isinstance(split, dict) or not isinstance(split.get("columns"), list):
        raise BadPayload('dataframe_split needs {"columns": [...], "data": [[...], ...]}')
    data, columns = split.get("data"), split["columns"]
    if not isinstance(data, list) or not data:
        raise BadPayload("dataframe_split: no rows in `data`")
    bad = next((i for i, r in enumerate(data) if not isinstance(r, list) or len(r) != len(columns)), None)
    if bad is not None:
        raise BadPayload(
            f"dataframe_split: data row {bad} does not have {len(columns)} values (one per column)"
        )
    return pd.DataFrame(data, columns=[str(c) for c in columns])


def from_csv(body: bytes) -> Any:
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:  # EmptyDataError too
        raise BadPayload(f"bad CSV: {str(exc).strip()}") from None
    if frame.empty:
        raise BadPayload("bad CSV: a header but no rows")
    return frame
