"""Captured endpoint requests as columns, for the engine's drift check.

A cloud endpoint with capture on writes JSON lines, one per request (SageMaker's data
capture: `{"captureData": {"endpointInput": {"data": ..., "encoding": "CSV" | "JSON" |
"BASE64", "observedContentType": ...}}, "eventMetadata": {...}}`). Each request's input
holds one or more rows: CSV lines (columns by position: the monitor names them), or JSON
(`{"instances": [...]}`, `{"dataframe_records": [...]}`, `{"inputs": ...}`, a list of
objects, or one object). `captured_columns` turns them into one list per column.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

Columns = dict[str, list[Any]]


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _csv_rows(text: str, columns: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for record in csv.reader(io.StringIO(text)):
        if record:
            out.append({name: _number(v.strip()) for name, v in zip(columns, record, strict=False)})
    return out


def _json_rows(payload: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    if isinstance(payload, dict):
        if "dataframe_split" in payload:
            split = payload["dataframe_split"]
            return [
                dict(zip(split.get("columns") or columns, row, strict=False))
                for row in split.get("data") or []
            ]
        for key in ("instances", "dataframe_records", "inputs", "rows"):
            if key in payload:
                return _json_rows(payload[key], columns)
        return [payload]
    if isinstance(payload, list):
        rows: list[dict[str, Any]] = []
        for item in payload:
            if isinstance(item, dict):
                rows.append(item)
            elif isinstance(item, list):
                rows.append(dict(zip(columns, item, strict=False)))
        return rows
    return []


def request_rows(
    captured: dict[str, Any], columns: Sequence[str], side: str = "endpointInput"
) -> list[dict[str, Any]]:
    """The rows one captured request held (its input by default)."""
    data = (captured.get("captureData") or {}).get(side) or {}
    raw, encoding = data.get("data"), str(data.get("encoding") or "").upper()
    if raw is None:
        return []
    content_type = str(data.get("observedContentType") or "")
    if encoding == "BASE64":
        raw = base64.b64decode(raw).decode("utf-8", errors="replace")
        encoding = "JSON" if "json" in content_type else "CSV"
    if encoding == "JSON" or (not encoding and "json" in content_type):
        return _json_rows(json.loads(raw) if isinstance(raw, str) else raw, columns)
    return _csv_rows(str(raw), columns)


def captured_columns(lines: Iterable[str | bytes], columns: Sequence[str]) -> tuple[Columns, int]:
    """(one list per column, requests read) from capture JSON lines. A row lacking a column
    has None there; a line that is not JSON is skipped (a file cut by a crash)."""
    out: Columns = {name: [] for name in columns}
    requests = 0
    for line in lines:
        text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
        if not text.strip():
            continue
        try:
            captured = json.loads(text)
        except ValueError:
            continue
        requests += 1
        for row in request_rows(captured, columns):
            for name in columns:
                out[name].append(row.get(name))
    return out, requests
