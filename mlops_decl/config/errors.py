"""Turn pydantic validation errors into diagnostics pointing at file:line:column.

One mistake gives one diagnostic: errors pydantic reports once per union member (a `str | int`
field given a list) are merged, and union tags in an error's `loc` are dropped so the position is
that of the value the user wrote. Messages speak YAML (mapping, list, whole number), not Python.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any

from mlops_decl.config.yaml_source import PathKey, Positions
from mlops_decl.core_validator import ValidationError
from mlops_decl.diagnostics import Diagnostic
from mlops_decl.kind_rules import PATTERNS

# pydantic names for what a value should have been, in the user's words
_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "none_required": "nothing",
}


def data_path(data: Any, loc: Iterable[str | int]) -> PathKey:
    """Follow a pydantic `loc` through the data, dropping union-member tags it adds."""
    path: list[str | int] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
            path.append(part)
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[int(part)]
            path.append(part)
        elif (
            isinstance(cur, dict)
            and isinstance(part, str)
            and _is_field_name(part)
            and not any(v == part for v in cur.values() if isinstance(v, str))  # a discriminator tag
        ):
            path.append(part)  # a missing field: point at its parent, but name it
            break
    return tuple(path)


def paths_where(value: Any, hit: Callable[[Any], bool], path: PathKey = ()) -> list[PathKey]:
    """Paths of the leaves (and containers) in `value` for which `hit` is true."""
    if hit(value):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in paths_where(v, hit, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in paths_where(v, hit, (*path, i))]
    return []


def errors_outside(errors: Iterable[Any], data: Any, skip: list[PathKey]) -> list[Any]:
    """pydantic errors, without those at or below a path in `skip` (values not known yet)."""
    if not skip:
        return list(errors)
    out = []
    for err in errors:
        path = data_path(data, err["loc"])
        if not any(path[: len(p)] == p for p in skip):
            out.append(err)
    return out


def _is_field_name(part: str) -> bool:
    # union tags look like class names or type names ("MetricThresholdGate", "int", "constrained-str")
    return (
        not part[:1].isupper()
        and part not in {"int", "float", "str", "bool", "list", "dict", "none"}
        and "[" not in part
        and "-" not in part
    )


def _value_at(data: Any, path: PathKey) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def where(path: PathKey) -> str:
    """`resources.dataset.a.features[0].dtype`"""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _label(full: PathKey, base: PathKey, sep: str = ": ") -> str:
    """How a path is named in a message.

    Below a resource the address comes first (`dataset.a: format`, or with sep="."
    `dataset.a.format`); when `base` is given the caller names the resource itself, so only the
    field path is returned.
    """
    if base:
        return where(full[len(base) :])
    if len(full) >= 3 and full[0] == "resources":
        address, rest = f"{full[1]}.{full[2]}", where(full[3:])
        if not rest:
            return address
        return f"{address}{sep}{rest}" if sep == ": " or rest.startswith("[") else f"{address}.{rest}"
    return where(full)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    return repr(value)


def _count(value: Any) -> str:
    return str(len(value)) if isinstance(value, (list, dict, str)) else _describe(value)


def _choices(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "a, b, c"."""
    return ", ".join(re.findall(r"'([^']*)'", expected)) or expected


def translate(
    exc: ValidationError | list[Any],
    data: Any,
    positions: Positions,
    *,
    base: PathKey = (),
    allowed_fields: Callable[[PathKey, Any], list[str]] | None = None,
    what: str | None = None,
) -> list[Diagnostic]:
    """One diagnostic per distinct problem, in file order.

    `allowed_fields(path, value)` names the fields allowed in the mapping `value` found at
    `path`, for did-you-mean hints.
    """
    errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else list(exc)
    # a misspelt required field is one mistake, not an unknown field plus a missing one
    missing_in: dict[PathKey, list[str]] = {}
    for err in errors:
        if err["type"] == "missing":
            path = data_path(data, tuple(err["loc"]))
            missing_in.setdefault(path[:-1], []).append(str(err["loc"][-1]))
    meant: dict[PathKey, str] = {}  # path of an unknown field -> the missing field it stands for
    for err in errors:
        if err["type"] == "extra_forbidden":
            path = data_path(data, tuple(err["loc"]))
            close = difflib.get_close_matches(str(path[-1]), missing_in.get(path[:-1], []), n=1)
            if close:
                meant[path] = close[0]
    explained = {(*p[:-1], m) for p, m in meant.items()}
    # type errors at one path come once per union member: merge them into one
    expected_at: dict[PathKey, list[str]] = {}
    for err in errors:
        if err["type"] in _EXPECTED:
            path = data_path(data, tuple(err["loc"]))
            wants = expected_at.setdefault(path, [])
            if _EXPECTED[err["type"]] not in wants:
                wants.append(_EXPECTED[err["type"]])
    seen: set[PathKey] = set()
    out: list[tuple[tuple[int, int], Diagnostic]] = []
    for err in errors:
        loc = tuple(err["loc"])
        path = data_path(data, loc)
        etype = err["type"]
        full = (*base, *path)
        if path in seen or (etype == "missing" and path in explained):
            continue
        seen.add(path)
        hint: str | None = None
        if etype == "extra_forbidden":
            name = str(path[-1]) if path else "?"
            label = what or _label(full[:-1], base, ".")
            summary = f"unknown field `{name}` in {label}" if label else f"unknown top-level key `{name}`"
            options = allowed_fields(full[:-1], _value_at(data, path[:-1])) if allowed_fields else []
            close = [meant[path]] if path in meant else difflib.get_close_matches(name, options, n=1)
            if close:
                hint = f"did you mean `{close[0]}`?"
            elif options:
                hint = "allowed here: " + ", ".join(sorted(options))
            else:
                hint = "remove it, or check its spelling and indentation"
            src = positions.source(full, key=True)
        elif etype == "missing":
            name = str(loc[-1])
            parent = full[:-1] if path and path[-1] == loc[-1] else full
            label = what or _label(parent, base, ".")
            summary = f"missing required field `{name}`" + (f" in {label}" if label else "")
            hint = f"add `{name}:`"
            src = positions.source(parent, key=True)
        else:
            label = what or _label(full, base)
            summary, hint = _message(etype, err, expected_at.get(path, []))
            if label:
                summary = f"{label}: {summary}"
            src = positions.source(full)
            if etype in ("union_tag_invalid", "union_tag_not_found") and isinstance(err.get("input"), dict):
                disc = str((err.get("ctx") or {}).get("discriminator", "type")).strip("'")
                if disc in err["input"]:
                    src = positions.source((*full, disc))
        out.append(((src.line, src.column), Diagnostic(summary, src, hint)))
    out.sort(key=lambda t: t[0])
    return [d for _, d in out]


def _message(etype: str, err: Any, expected: list[str]) -> tuple[str, str | None]:
    """(summary without its label, hint) for one pydantic error."""
    got = err.get("input")
    ctx = err.get("ctx") or {}
    if etype in _EXPECTED:
        want = " or ".join(expected) if expected else _EXPECTED[etype]
        summary = f"expected {want}, got {_describe(got)}"
        if etype == "int_from_float":
            return summary, "write a whole number"
        if "a mapping (key: value)" in expected or "a list" in expected:
            return summary, "check the indentation and the YAML shape of this value"
        if isinstance(got, str):
            return summary, "write the value without quotes, or reference a variable of that type"
        return summary, "write a value of that type, or a ${...} reference to one"
    if etype == "literal_error":
        return (
            f"{_describe(got)} is not one of: {_choices(str(ctx.get('expected', '')))}",
            "use one of the values listed",
        )
    if etype == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "type")).strip("'")
        return (
            f"`{disc}: {ctx.get('tag')}` is not one of: {_choices(str(ctx.get('expected_tags', '')))}",
            f"set `{disc}:` to one of the values listed",
        )
    if etype == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "type")).strip("'")
        return f"missing `{disc}:`", f"add `{disc}:` saying which kind of entry this is"
    if etype == "string_pattern_mismatch" and ctx.get("pattern") in PATTERNS:
        what, hint = PATTERNS[ctx["pattern"]]
        return f"{_describe(got)} is not {what}", hint
    msg = str(err["msg"])
    if etype == "value_error":
        msg = re.sub(r"^Value error, ", "", msg)
        return msg, _hint_for_rule(msg)
    if etype == "assertion_error":
        msg = re.sub(r"^Assertion failed, ", "", msg)
    summary = msg[0].lower() + msg[1:] if msg else etype
    if etype == "too_short" and "min_length" in ctx:
        n = ctx["min_length"]
        return (
            f"needs at least {n} entr{'y' if n == 1 else 'ies'}, got {_count(got)}",
            "add the missing entries",
        )
    if etype == "too_long" and "max_length" in ctx:
        n = ctx["max_length"]
        return f"takes at most {n} entr{'y' if n == 1 else 'ies'}, got {_count(got)}", "remove entries"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if etype in bounds and bounds[etype][1] in ctx:
        words, key = bounds[etype]
        return f"must be {words} {ctx[key]}, got {_describe(got)}", "change the value to fit the bound"
    return summary, "see the field's description in schemas/ for what it takes"


def _hint_for_rule(msg: str) -> str:
    """A hint for a model validator's message (kind_rules.py words them `needs X or Y` etc.)."""
    names = re.findall(r"`([^`]+)`", msg)
    if "exactly one of" in msg and names:
        return "keep exactly one of " + " or ".join(f"`{n}:`" for n in names)
    if " and " in msg and names:
        return "add " + " and ".join(f"`{n}:`" for n in names)
    if names:
        return "add " + " or ".join(f"`{n}:`" for n in names)
    return "fix the value as the message says"
