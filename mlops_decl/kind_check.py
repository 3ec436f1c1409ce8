"""Validate documents against the kinds with pydantic-core alone.

The schemas are compiled from kinds.py (kinds_compiled.py), so this gives the models' errors,
defaults and JSON dumps without importing pydantic or building ~25 model classes on every start.
Names are the kinds' (`dataset`, ...) and `variable`, `project_settings`, `resource_file`,
`project_file`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from mlops_decl import kind_rules
from mlops_decl.core_validator import SchemaSerializer, SchemaValidator, ValidationError
from mlops_decl.kinds_compiled import SCHEMAS

__all__ = ["ValidationError", "errors", "field_defaults", "field_names", "fields_at", "to_json", "validate"]

_RULE = "$rule:"
_FRESH = "$fresh"


def _rule(name: str) -> Any:
    rule = kind_rules.RULES[name]

    def check(value: Any) -> Any:
        rule(value)
        return value

    return check


def _fresh(value: Any) -> Any:
    """A new copy of a default made of dicts, lists and scalars (deepcopy's memo is not needed)."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


def _factory(value: Any) -> Any:
    if value == [] or value == {}:
        return type(value)  # list / dict: called in C
    return lambda: _fresh(value)


def _hydrate(node: Any, key: str | None = None) -> Any:
    """The compiled schema with its named rules and fresh-copy factories made callables (only
    at the keys compile_kinds writes them under: defaults and literals stay data)."""
    if key == "default":
        return node
    if key == "default_factory":
        return _factory(node[_FRESH])
    if key == "function" and isinstance(node, str):
        return _rule(node.removeprefix(_RULE))
    if isinstance(node, dict):
        return {k: _hydrate(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_hydrate(v) for v in node]
    return node


@functools.cache
def schema(name: str) -> dict[str, Any]:
    return _hydrate(SCHEMAS[name])


@functools.cache
def _validator(name: str) -> SchemaValidator:
    return SchemaValidator(schema(name))


@functools.cache
def _serializer(name: str) -> SchemaSerializer:
    return SchemaSerializer(schema(name))


def validate(name: str, data: Any) -> dict[str, Any]:
    """The document with defaults filled in; raises ValidationError."""
    return _validator(name).validate_python(data)


def errors(name: str, data: Any) -> list[Any]:
    """pydantic's error dicts for `data`, empty when it is valid."""
    try:
        _validator(name).validate_python(data)
    except ValidationError as exc:
        return list(exc.errors(include_url=False))
    return []


def to_json(name: str, value: dict[str, Any], exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A validated document as JSON-ready values (what model_dump(mode="json") gives).

    A document of plain JSON values (what YAML almost always gives) is copied in Python: the
    serializer's first call imports pydantic-core's whole Python layer, which `validate` and
    `plan` otherwise never need. Anything else (a YAML date, a tuple, inf) takes the serializer."""
    skip = set(exclude)
    copied = {k: _json_copy(v) for k, v in value.items() if k not in skip}
    if _NOT_PLAIN in copied.values():
        return _serializer(name).to_python(value, mode="json", exclude=skip or None)
    return copied


_NOT_PLAIN: Any = object()
_SCALARS = (str, int, bool, type(None))


def _json_copy(value: Any) -> Any:
    """A fresh copy of dicts (str keys), lists and JSON scalars, or _NOT_PLAIN at the top when
    anything in it needs the serializer."""
    kind = type(value)
    if kind in _SCALARS or (kind is float and value - value == 0):  # finite: inf/nan become null
        return value
    if kind is list:
        items = [_json_copy(v) for v in value]
        return _NOT_PLAIN if _NOT_PLAIN in items else items
    if kind is dict and all(type(k) is str for k in value):
        mapped = {k: _json_copy(v) for k, v in value.items()}
        return _NOT_PLAIN if _NOT_PLAIN in mapped.values() else mapped
    return _NOT_PLAIN


def _typed_dict(name: str) -> dict[str, Any]:
    node = _unwrap(schema(name), None)
    assert node is not None and node["type"] == "typed-dict", name
    return node


def field_names(name: str) -> tuple[str, ...]:
    return tuple(_typed_dict(name)["fields"])


def field_defaults(name: str) -> dict[str, Any]:
    """Each optional field's default, fresh copies."""
    out = {}
    for field, spec in _typed_dict(name)["fields"].items():
        default = spec["schema"]
        if default["type"] == "default":
            out[field] = default["default_factory"]() if "default_factory" in default else default["default"]
    return out


_WRAPPERS = ("default", "nullable", "function-after", "function-before", "function-wrap")


def _unwrap(node: dict[str, Any], value: Any) -> dict[str, Any] | None:
    """The schema under defaults, nullables, validators and unions; of a tagged union, the
    member `value`'s tag names (else the first)."""
    while node["type"] in (*_WRAPPERS, "tagged-union", "union"):
        if node["type"] == "tagged-union":
            choices = node["choices"]
            tag = value.get(node["discriminator"]) if isinstance(value, dict) else None
            node = choices.get(tag) or next(iter(choices.values()))
        elif node["type"] == "union":
            members = [c[0] if isinstance(c, tuple | list) else c for c in node["choices"]]
            dicts = [m for m in members if _unwrap(m, value) is not None]
            if not dicts:
                return None
            node = dicts[0]
        else:
            node = node["schema"]
    return node if node["type"] in ("typed-dict", "list", "dict") else None


def fields_at(name: str, path: Iterable[str | int], value: Any = None) -> list[str]:
    """Field names allowed in the mapping at `path` inside a `name` document (for hints)."""
    node = _unwrap(schema(name), value)
    for part in path:
        if node is None:
            return []
        if node["type"] == "typed-dict":
            field = node["fields"].get(part)
            node = _unwrap(field["schema"], value) if field else None
        elif node["type"] == "list" and isinstance(part, int):
            node = _unwrap(node["items_schema"], value)
        elif node["type"] == "dict":
            node = _unwrap(node["values_schema"], value)
        else:
            return []
    return list(node["fields"]) if node is not None and node["type"] == "typed-dict" else []
