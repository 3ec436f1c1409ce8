"""Turn pydantic validation errors into diagnostics pointing at file:line:column."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from mlops_decl.config.yaml_source import PathKey, Positions
from mlops_decl.diagnostics import Diagnostic


def data_path(data: Any, loc: Iterable[str | int]) -> PathKey:
    """Follow a pydantic `loc` through the data, dropping union-member tags it adds."""
    path: list[str | int] = []
    cur = data
    for part in loc:
        if (
            isinstance(cur, dict)
            and part in cur
            or isinstance(cur, list)
            and isinstance(part, int)
            and 0 <= part < len(cur)
        ):
            cur = cur[part]
            path.append(part)
        elif isinstance(cur, dict) and isinstance(part, str) and part not in cur and _is_field_name(part):
            path.append(part)  # a missing field: point at its parent, but name it
            break
    return tuple(path)


def _is_field_name(part: str) -> bool:
    # union tags look like class names or type names ("MetricThresholdGate", "int", "constrained-str")
    return not part[:1].isupper() and part not in {"int", "float", "str", "bool", "list", "dict", "none"}


def where(path: PathKey) -> str:
    return ".".join(str(p) for p in path)


def translate(
    exc: ValidationError | list[Any],
    data: Any,
    positions: Positions,
    *,
    base: PathKey = (),
    allowed_fields: Callable[[PathKey], list[str]] | None = None,
    what: str | None = None,
) -> list[Diagnostic]:
    """One diagnostic per distinct problem, in file order."""
    seen: set[tuple[PathKey, str]] = set()
    out: list[tuple[tuple[int, int], Diagnostic]] = []
    errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else exc
    for err in errors:
        loc = tuple(err["loc"])
        path = data_path(data, loc)
        etype = err["type"]
        full = (*base, *path)
        key = (full, etype)
        if key in seen:
            continue
        seen.add(key)
        label = what or where(full[:-1] if etype in ("extra_forbidden", "missing") else full)
        hint: str | None = None
        if etype == "extra_forbidden":
            name = str(path[-1]) if path else "?"
            summary = f"unknown field `{name}` in {label}"
            options = allowed_fields(full[:-1]) if allowed_fields else []
            close = difflib.get_close_matches(name, options, n=1)
            if close:
                hint = f"did you mean `{close[0]}`?"
            elif options:
                hint = "allowed here: " + ", ".join(sorted(options))
            src = positions.source(full, key=True)
        elif etype == "missing":
            name = str(loc[-1])
            summary = f"missing required field `{name}` in {label}"
            hint = f"add `{name}:`"
            parent = full[:-1] if path and path[-1] == loc[-1] else full
            src = positions.source(parent, key=True)
        else:
            got = err.get("input")
            msg = err["msg"]
            summary = f"{label}: {msg[0].lower() + msg[1:]}"
            if etype.endswith("_type") or etype.endswith("_parsing") or etype == "literal_error":
                summary += f" (got {got!r})"
            hint = _hint_for(etype, err)
            src = positions.source(full)
        out.append(((src.line, src.column), Diagnostic(summary, src, hint)))
    out.sort(key=lambda t: t[0])
    return [d for _, d in out]


def _hint_for(etype: str, err: Any) -> str | None:
    if etype == "union_tag_invalid":
        return "set `type:` to one of the listed gate types"
    if etype == "literal_error":
        return "use one of the values listed"
    if etype in ("int_parsing", "int_type", "float_parsing", "float_type", "bool_parsing", "bool_type"):
        return "write the value without quotes, or reference a variable of that type"
    if etype in ("list_type", "dict_type"):
        return "check the indentation and the YAML shape of this value"
    if etype == "value_error":
        return None
    return None
