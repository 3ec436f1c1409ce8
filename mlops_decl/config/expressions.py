"""`${...}` references: finding them and rendering values through them.

`${kind.name}` is a resource's id, `${kind.name.attr}` one of its attributes and `${var.x}` a
variable. A string that is exactly one reference keeps the referenced value's type; inside a
longer string the value is formatted in. `$${` writes a literal `${`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_REF = re.compile(r"(?<!\$)\$\{\s*([^}]*?)\s*\}")
_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _Unknown:
    """A value known only after apply."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Ref:
    """A parsed reference. For variables kind == "var"."""

    kind: str
    name: str
    attr: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.name}"

    def __str__(self) -> str:
        return ".".join((self.kind, self.name, *self.attr))


class RefSyntaxError(ValueError):
    pass


def parse_ref(text: str) -> Ref:
    parts = text.split(".")
    if len(parts) < 2 or not all(_PART.match(p) for p in parts):
        raise RefSyntaxError(f"`${{{text}}}` is not a reference")
    return Ref(parts[0], parts[1], tuple(parts[2:]))


def whole_ref(value: Any) -> Ref | None:
    """The reference a string is exactly (`"${dataset.d}"`), else None."""
    if not isinstance(value, str) or "${" not in value:
        return None
    whole = _REF.fullmatch(value)
    if whole is None:
        return None
    try:
        return parse_ref(whole.group(1))
    except RefSyntaxError:
        return None


# `${` with no `}` after it (`$${` is a literal, not an opening)
_UNCLOSED = re.compile(r"(?<!\$)\$\{(?![^}]*\})")


def unclosed(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """(string, path) of every string inside a nested value that opens a `${` it never closes."""
    if isinstance(value, str):
        if "${" in value and _UNCLOSED.search(value):
            yield value, path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from unclosed(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from unclosed(v, (*path, i))


def has_refs(value: str) -> bool:
    return "${" in value and _REF.search(value) is not None


def iter_refs(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """Yield (reference text, path) for every `${...}` inside a nested value."""
    if isinstance(value, str):
        if "${" in value:
            for m in _REF.finditer(value):
                yield m.group(1), path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from iter_refs(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_refs(v, (*path, i))


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def _format(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, sort_keys=True)


Lookup = Callable[[Ref], Any]


def render(value: Any, lookup: Lookup) -> Any:
    """Replace references in a nested value. `lookup` returns the value or UNKNOWN."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        whole = _REF.fullmatch(value)
        if whole:
            return lookup(parse_ref(whole.group(1)))
        pieces: list[str] = []
        last = 0
        for m in _REF.finditer(value):
            got = lookup(parse_ref(m.group(1)))
            if got is UNKNOWN or contains_unknown(got):
                return UNKNOWN
            pieces.append(value[last : m.start()])
            pieces.append(_format(got))
            last = m.end()
        pieces.append(value[last:])
        return "".join(pieces).replace("$${", "${")
    if isinstance(value, dict):
        return {k: render(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, lookup) for v in value]
    return value


def unknown_mask(value: Any) -> Any:
    """Terraform's after_unknown: True where a value is unknown, mirrored structure elsewhere."""
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        inner = {k: unknown_mask(v) for k, v in value.items()}
        return {k: v for k, v in inner.items() if v not in (False, {}, [])} or False
    if isinstance(value, list):
        items = [unknown_mask(v) for v in value]
        return items if any(items) else False
    return False


def strip_unknown(value: Any, replacement: Any = None) -> Any:
    """A JSON-able copy with unknowns replaced."""
    if value is UNKNOWN:
        return replacement
    if isinstance(value, dict):
        return {k: strip_unknown(v, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_unknown(v, replacement) for v in value]
    return value
