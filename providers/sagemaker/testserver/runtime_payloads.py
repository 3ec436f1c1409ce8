"""invoke_endpoint bodies as the double's model server reads them, and its answers.

The server in the double plays the inference container a training image would ship: it
takes `text/csv` (no header; the values of each line are the model's features, in order) and
JSON (`application/json`): `{"dataframe_split": {"columns": [...], "data": [[...]]}}`,
`{"dataframe_records": [{...}]}`, `{"instances": [...]}` or `{"inputs": [...]}` (row objects,
or lists of values in feature order), `{"inputs": {column: [values]}}`, or a bare list of
either. It answers `application/json` `{"predictions": [...]}`, with `"scores"` (the positive
class's probability) for a binary classifier, or `text/csv`, one prediction a line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

CSV_TYPES = ("text/csv", "application/csv")
JSON_TYPES = ("application/json",)


class BadRequest(ValueError):
    """What the container answers a body it cannot read: HTTP 400 (415 for the media type)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    return media in JSON_TYPES or media.endswith("+json")


def _value(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _by_position(values: Sequence[Any], features: Sequence[str], n: int) -> dict[str, Any]:
    if len(values) != len(features):
        raise BadRequest(
            f"row {n} has {len(values)} values; the model takes {len(features)} ({', '.join(features)})"
        )
    return dict(zip(features, values, strict=True))


def _records(items: Any, features: Sequence[str]) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise BadRequest("the rows are not a JSON list")
    out = []
    for n, item in enumerate(items):
        if isinstance(item, dict):
            out.append(item)
        elif isinstance(item, list):
            out.append(_by_position(item, features, n))
        else:
            raise BadRequest(f"row {n} is neither an object nor a list of values")
    return out


def _json_rows(payload: Any, features: Sequence[str]) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return _records(payload, features)
    if not isinstance(payload, dict):
        raise BadRequest("the JSON body holds no rows")
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        if not isinstance(split, dict) or not isinstance(split.get("data"), list):
            raise BadRequest('dataframe_split takes {"columns": [...], "data": [[...]]}')
        columns = split.get("columns") or list(features)
        return [_by_position(row, columns, n) for n, row in enumerate(split["data"])]
    if "dataframe_records" in payload:
        return _records(payload["dataframe_records"], features)
    for key in ("instances", "inputs"):
        found = payload.get(key)
        if isinstance(found, dict):  # columnar: {column: [values]}
            lengths = {len(v) if isinstance(v, list) else -1 for v in found.values()}
            if len(lengths) != 1 or -1 in lengths:
                raise BadRequest(f"{key} as columns takes one list of equal length per column")
            return [dict(zip(found, values, strict=True)) for values in zip(*found.values(), strict=True)]
        if found is not None:
            return _records(found, features)
    raise BadRequest("the JSON body has none of dataframe_split, dataframe_records, instances, inputs")


def read_rows(body: bytes, content_type: str | None, features: Sequence[str]) -> Any:
    """The body as a DataFrame of the model's feature columns (extra columns dropped)."""
    import pandas as pd

    media = media_type(content_type)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text") from None
    if media in CSV_TYPES:
        lines = [r for r in csv.reader(io.StringIO(text)) if r]
        rows = [_by_position([_value(v.strip()) for v in r], features, n) for n, r in enumerate(lines)]
    elif is_json(media):
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise BadRequest(f"the body is not JSON: {exc}") from None
        rows = _json_rows(payload, features)
    else:
        raise BadRequest(f"content type {content_type or '(none)'} is not text/csv or application/json", 415)
    if not rows:
        raise BadRequest("the body holds no rows")
    frame = pd.DataFrame.from_records(rows)
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise BadRequest(f"the rows lack the model's feature(s) {', '.join(missing)}")
    return frame[list(features)]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def answer(predictions: list[Any], scores: list[float] | None, accept: str | None) -> tuple[bytes, str]:
    """(body, content type) for the Accept header: JSON unless text/csv is asked for."""
    media = media_type(accept)
    if media in CSV_TYPES:
        return "".join(f"{p}\n" for p in predictions).encode(), "text/csv"
    if media and media not in ("*/*", "application/*") and not is_json(media):
        raise BadRequest(f"cannot answer {accept}: application/json or text/csv", 406)
    body: dict[str, Any] = {"predictions": [_plain(p) for p in predictions]}
    if scores is not None:
        body["scores"] = scores
    return json.dumps(body).encode(), "application/json"
