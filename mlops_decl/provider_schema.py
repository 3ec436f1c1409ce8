"""What a provider declares without being configured: its settings, its block on each kind and
each kind's computed attributes, as JSON Schema (DESIGN §5).

A provider class answers `schema() -> ProviderSchema` (a classmethod: nothing is configured or
connected). `validate` reads it to check settings and `<provider>: {...}` blocks offline, the
graph to accept `${endpoint.x.arn}` where the provider computes `arn`, the planner to tell drift
from computed attributes moving on their own, and schemas/ to publish one file per provider.

The schemas are plain dicts in a subset of JSON Schema (type, properties, required,
additionalProperties, items, enum, const, anyOf/oneOf, numeric and length bounds, pattern,
description, default). They are checked with pydantic-core, which `validate` loads anyway:
no pydantic import, and the errors translate to file:line:column as the kinds' do.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

JSONSchema = dict[str, Any]

# Every kind's id: the engine's own computed attribute, whatever the provider.
ENGINE_COMPUTED: Mapping[str, JSONSchema] = {"id": {"type": "string", "description": "the object's id"}}

NO_SETTINGS: JSONSchema = {"type": "object", "properties": {}, "additionalProperties": False}


class KindSchema:
    """One kind on one provider.

    `block`: the schema of the provider's block on a resource of this kind (`sagemaker: {...}`),
    None when the provider takes no block there. `computed`: attributes the provider fills at
    apply (or plan), by name, each with its schema; `${kind.name.attr}` may name them.
    (Plain classes, not dataclasses: `validate` imports this, and a dataclass costs a start
    about a millisecond to build.)
    """

    __slots__ = ("block", "computed")

    def __init__(self, block: JSONSchema | None = None, computed: Mapping[str, JSONSchema] | None = None):
        self.block = block
        self.computed: Mapping[str, JSONSchema] = dict(computed or {})

    @property
    def computed_names(self) -> frozenset[str]:
        return frozenset(self.computed) | frozenset(ENGINE_COMPUTED)

    def __repr__(self) -> str:
        return f"KindSchema(block={self.block!r}, computed={sorted(self.computed)!r})"


class ProviderSchema:
    """`settings`: the schema of the provider's entry under `providers:` (without `type`).
    `kinds`: the kinds it supports, each with its block and computed attributes."""

    __slots__ = ("kinds", "settings")

    def __init__(self, settings: JSONSchema | None = None, kinds: Mapping[str, KindSchema] | None = None):
        self.settings: JSONSchema = settings if settings is not None else dict(NO_SETTINGS)
        self.kinds: Mapping[str, KindSchema] = dict(kinds or {})

    def kind(self, kind: str) -> KindSchema:
        return self.kinds.get(kind) or KindSchema()

    def to_json_schema(self, name: str) -> JSONSchema:
        """One JSON Schema document: the settings and, per kind, the block and the computed
        attributes (for editors and reviewers: schemas/providers/<name>.schema.json)."""
        kinds: JSONSchema = {}
        for kind in sorted(self.kinds):
            ks = self.kinds[kind]
            computed = {**ENGINE_COMPUTED, **ks.computed}
            kinds[kind] = {
                "type": "object",
                "properties": {
                    "block": ks.block if ks.block is not None else {"not": {}},
                    "computed": {
                        "type": "object",
                        "properties": {k: computed[k] for k in sorted(computed)},
                        "additionalProperties": False,
                    },
                },
            }
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"mlops-decl provider `{name}`",
            "type": "object",
            "properties": {
                "settings": self.settings,
                "kinds": {"type": "object", "properties": kinds, "additionalProperties": False},
            },
        }


# What is assumed of a provider that declares no schema: any settings (its configure() judges
# them), no blocks, and no kind declared (the engine then asks its handlers what they compute).
UNDECLARED_SETTINGS: JSONSchema = {"type": "object"}


def schema_of(provider_class: Any) -> ProviderSchema:
    """A provider class's declared schema (see UNDECLARED_SETTINGS for one that has none)."""
    declare = getattr(provider_class, "schema", None)
    if declare is None:
        return ProviderSchema(settings=dict(UNDECLARED_SETTINGS))
    got = declare() if callable(declare) else declare
    if not isinstance(got, ProviderSchema):
        raise TypeError(f"{provider_class!r}.schema() returned {type(got).__name__}, not a ProviderSchema")
    return got


# --- checking values against a schema ---------------------------------------------------


def errors(schema: JSONSchema, value: Any) -> list[dict[str, Any]]:
    """pydantic-core's error dicts for `value` (loc, type, msg, input, ctx); empty when valid."""
    import json  # the cache key; json is not otherwise loaded by `validate`

    from mlops_decl.core_validator import ValidationError

    try:
        _validator(json.dumps(schema, sort_keys=True)).validate_python(value)
    except ValidationError as exc:
        return [dict(e) for e in exc.errors(include_url=False)]
    return []


@functools.cache
def _validator(text: str) -> Any:
    import json

    from mlops_decl.core_validator import SchemaValidator

    return SchemaValidator(to_core(json.loads(text)))


_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "none"}


def to_core(s: JSONSchema) -> dict[str, Any]:
    """The pydantic-core schema checking what the JSON Schema `s` describes (strict types: a
    quoted number is not a number)."""
    if "const" in s:
        return {"type": "literal", "expected": [s["const"]]}
    if "enum" in s:
        return {"type": "literal", "expected": list(s["enum"])}
    for key in ("anyOf", "oneOf"):
        if key in s:
            return _union([to_core(m) for m in s[key]])
    if "not" in s and s["not"] == {}:  # nothing is allowed
        return {"type": "literal", "expected": []}
    t = s.get("type")
    if isinstance(t, list):
        return _union([to_core({**s, "type": one}) for one in t])
    if t is None:
        return {"type": "any"}
    if t == "object":
        return _object(s)
    if t == "array":
        out: dict[str, Any] = {"type": "list", "items_schema": to_core(s.get("items", {})), "strict": True}
        _copy(s, out, {"minItems": "min_length", "maxItems": "max_length"})
        return out
    if t not in _SCALARS:
        raise ValueError(f"unsupported JSON Schema type {t!r}")
    out = {"type": _SCALARS[t]}
    if t != "null":
        out["strict"] = True
    if t in ("integer", "number"):
        _copy(s, out, {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt"})
    if t == "string":
        _copy(s, out, {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"})
    return out


def _union(members: list[dict[str, Any]]) -> dict[str, Any]:
    return members[0] if len(members) == 1 else {"type": "union", "choices": members}


def _copy(s: JSONSchema, out: dict[str, Any], names: dict[str, str]) -> None:
    for js, core in names.items():
        if js in s:
            out[core] = s[js]


def _object(s: JSONSchema) -> dict[str, Any]:
    props: dict[str, JSONSchema] = s.get("properties") or {}
    extra = s.get("additionalProperties", True)
    if not props and isinstance(extra, dict):
        return {
            "type": "dict",
            "keys_schema": {"type": "str"},
            "values_schema": to_core(extra),
            "strict": True,
        }
    required = set(s.get("required") or ())
    fields = {
        name: {"type": "typed-dict-field", "schema": to_core(sub), "required": name in required}
        for name, sub in props.items()
    }
    out: dict[str, Any] = {"type": "typed-dict", "fields": fields, "strict": True}
    if extra is False:
        out["extra_behavior"] = "forbid"
    elif isinstance(extra, dict):
        out["extra_behavior"] = "allow"
        out["extras_schema"] = to_core(extra)
    else:
        out["extra_behavior"] = "allow"
    return out


def field_names(schema: JSONSchema | None, path: tuple[str | int, ...] = ()) -> list[str]:
    """The property names of the object at `path` inside `schema` (for did-you-mean hints)."""
    node: Any = schema or {}
    for part in path:
        if isinstance(part, int):
            node = node.get("items") or {}
        else:
            node = (node.get("properties") or {}).get(part) or {}
    return sorted((node.get("properties") or {}) if isinstance(node, dict) else {})


def check_settings(schema: JSONSchema, settings: Any, provider: str) -> None:
    """Raise ConfigError (with the field path) for the first way `settings` misses `schema`: what
    a provider's configure() calls so that it fails clearly when used without the engine."""
    from mlops_decl.provider import ConfigError

    found = errors(schema, settings)
    if not found:
        return
    from mlops_decl.config.errors import data_path

    err = found[0]
    path = data_path(settings, tuple(err["loc"]))
    where = ".".join(str(p) for p in path)
    if err["type"] == "extra_forbidden":
        props = schema.get("properties") or {}
        accepted = ", ".join(f"{k} ({v.get('description', v.get('type', ''))})" for k, v in props.items())
        raise ConfigError(
            f"unknown setting `{where}` for the {provider} provider",
            field=path,
            hint=f"settings: {accepted}" if accepted else f"the {provider} provider takes no settings",
        )
    message = str(err["msg"])
    raise ConfigError(
        f"setting `{where}` of the {provider} provider: {message[0].lower()}{message[1:]}, got {err.get('input')!r}"
        if where
        else f"the {provider} provider's settings: {message}",
        field=path,
        hint="see schemas/providers/ for what each setting takes",
    )
