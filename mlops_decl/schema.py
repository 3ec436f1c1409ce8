"""Raw-YAML models derived from the kinds, and the JSON Schema generated from them.

In raw YAML any field may hold a `${...}` string in place of its type. Rather than write the
models twice, each field's annotation is rewritten so that a string containing `${` is let
through (pydantic reports errors against the real type only, so messages stay clear), and the
JSON Schema shows `anyOf: [<type>, <reference pattern>]` beside each type.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo
from pydantic_core import core_schema

from mlops_decl import kinds

REF_PATTERN = r"\$\{[^}]+\}"
REF_SCHEMA = {"type": "string", "pattern": REF_PATTERN, "description": "a ${...} reference"}


def _let_refs_through(value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, str) and "${" in value:
        return value
    return handler(value)


class _AllowRef:
    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_wrap_validator_function(_let_refs_through, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        inner = handler(schema)
        if inner.get("type") == "string" and "enum" not in inner and "const" not in inner:
            return inner  # a plain string already admits references
        return {"anyOf": [inner, REF_SCHEMA]}


def _rawify(tp: Any) -> Any:
    """The raw form of an annotation: the same shape, every level also taking a reference."""
    origin = get_origin(tp)
    if origin is Annotated:
        args = get_args(tp)
        keep = [m for m in args[1:] if isinstance(m, FieldInfo) and m.discriminator]
        # constraints (annotated_types' MinLen, Gt, ...) bind the value, not the reference
        limits = [m for m in args[1:] if not isinstance(m, (FieldInfo, _AllowRef))]
        inner = _rawify(args[0])
        if limits and not keep:
            return Annotated[(_strip_allow(inner), *limits, _AllowRef())]
        if not keep:
            return inner
        # the discriminator must sit on the bare union, with the reference escape outside it
        tagged = tuple(_strip_allow(_rawify(a)) for a in get_args(args[0]))
        return Annotated[(Union[tagged], *keep, _AllowRef())]  # noqa: UP007
    if tp is Any:
        return Any
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return Annotated[raw_model(tp), _AllowRef()]
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        raw_members = tuple(_strip_allow(_rawify(a)) for a in members)
        union = Union[raw_members] if len(raw_members) > 1 else raw_members[0]  # noqa: UP007
        if type(None) in get_args(tp):
            union = Union[union, None]  # noqa: UP007
        return Annotated[union, _AllowRef()]
    if origin is list:
        (item,) = get_args(tp)
        return Annotated[list[_rawify(item)], _AllowRef()]  # type: ignore[misc]
    if origin is dict:
        key, val = get_args(tp)
        return Annotated[dict[key, _rawify(val)], _AllowRef()]  # type: ignore[valid-type,misc]
    return Annotated[tp, _AllowRef()]


def _strip_allow(tp: Any) -> Any:
    if get_origin(tp) is Annotated:
        args = get_args(tp)
        rest = [m for m in args[1:] if not isinstance(m, _AllowRef)]
        return Annotated[(args[0], *rest)] if rest else args[0]
    return tp


@functools.cache
def raw_model(model: type[BaseModel]) -> type[BaseModel]:
    """The raw-YAML twin of a model: same fields, references allowed, no cross-field checks."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        ann = info.annotation
        if name == "type" and get_origin(ann) is Literal:
            raw_ann: Any = ann  # a discriminator must stay literal
        else:
            limits = [m for m in info.metadata if not isinstance(m, FieldInfo)]
            raw_ann = _rawify(_reattach(Annotated[(ann, *limits)] if limits else ann, info))
        default: Any = ... if info.is_required() else info.default
        field = Field(default, description=info.description)
        if info.default_factory is not None:
            field = Field(default_factory=info.default_factory, description=info.description)
        fields[name] = (raw_ann, field)
    return create_model(
        model.__name__,
        __config__=ConfigDict(extra="forbid", title=model.__name__),
        __doc__=model.__doc__,
        **fields,
    )


def _reattach(ann: Any, info: FieldInfo) -> Any:
    """pydantic moves a field's Annotated metadata onto FieldInfo; put the discriminator back."""
    if info.discriminator and get_origin(ann) is not Annotated:
        return Annotated[ann, Field(discriminator=info.discriminator)]
    for meta in info.metadata:
        if isinstance(meta, FieldInfo) and meta.discriminator:
            return Annotated[ann, meta]
    # list[Gate]: the discriminated union sits inside the list
    return ann


def _optional_dict_of(value_type: Any) -> Any:
    """`dict[str, value_type] | None` for a type built at run time."""
    mapping: Any = dict
    return mapping[str, value_type] | None


def _resources_model() -> type[BaseModel]:
    fields: dict[str, Any] = {
        kind: (_optional_dict_of(raw_model(model)), Field(None, description=f"{kind} resources by name"))
        for kind, model in kinds.KINDS.items()
    }
    return create_model("Resources", __config__=ConfigDict(extra="forbid"), **fields)


class _OutputLong(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any
    description: str | None = None
    sensitive: bool = False


@functools.cache
def file_models() -> tuple[type[BaseModel], type[BaseModel]]:
    """(mlops.yaml model, other resource files model), both raw: what the JSON Schema
    describes. The CLI checks files with mlops_decl.config.raw_check instead."""
    resources = _resources_model()
    common: dict[str, Any] = {
        "variables": (_optional_dict_of(raw_model(kinds.Variable)), None),
        "resources": (resources | None, None),
        "outputs": (dict[str, _OutputLong | Any] | None, None),
    }
    settings: dict[str, Any] = {}
    for name, info in kinds.ProjectSettings.model_fields.items():
        ann = _rawify(info.annotation)
        default = ... if info.is_required() else info.default
        if info.default_factory is not None:
            settings[name] = (ann, Field(default_factory=info.default_factory))
        else:
            settings[name] = (ann, Field(default, description=info.description))
    project = create_model(
        "ProjectFile",
        __config__=ConfigDict(extra="forbid", title="mlops-decl project file (mlops.yaml)"),
        **settings,
        **common,
    )
    resource_file = create_model(
        "ResourceFile",
        __config__=ConfigDict(extra="forbid", title="mlops-decl resource file"),
        **common,
    )
    return project, resource_file


SCHEMA_FILES = {"project.schema.json": 0, "resources.schema.json": 1}
PROVIDER_DIR = "providers"  # providers/<type>.schema.json: each shipped provider's declared schema


def generate() -> dict[str, str]:
    """The schema files' contents by path relative to schemas/."""
    models = file_models()
    out: dict[str, str] = {}
    for filename, idx in SCHEMA_FILES.items():
        schema = models[idx].model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[filename] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    for name, doc in provider_schemas().items():
        out[f"{PROVIDER_DIR}/{name}.schema.json"] = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    return out


def provider_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each provider this distribution ships (its settings, its block and
    computed attributes per kind), from what the provider declares without being configured.
    Third-party providers publish their own."""
    from mlops_decl.provider import BUILTIN_PROVIDERS
    from mlops_decl.provider_schema import schema_of

    return {name: schema_of(ref.load()).to_json_schema(name) for name, ref in sorted(BUILTIN_PROVIDERS.items())}


def write(directory: Path) -> list[Path]:
    written = []
    for name, text in generate().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":  # python -m mlops_decl.schema schemas/
    import sys

    for p in write(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(p)

_ = typing  # keep for get_type_hints users
