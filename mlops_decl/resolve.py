"""Resolve a resource's raw body into the attributes its provider receives.

References are rendered through a lookup, then the result is checked against the kind's model
(DESIGN §2's second validation). Values still unknown before apply stay UNKNOWN.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from mlops_decl import kinds
from mlops_decl.config.errors import errors_outside, paths_where, translate
from mlops_decl.config.expressions import UNKNOWN, Ref, render
from mlops_decl.config.project import ResourceConfig
from mlops_decl.config.yaml_source import PathKey
from mlops_decl.diagnostics import Diagnostic, DiagnosticError

_PLACEHOLDER = "\x00unknown\x00"

ProviderBlocks = frozenset(kinds.PROVIDER_BLOCKS)


def _set(container: Any, path: PathKey, value: Any) -> None:
    for part in path[:-1]:
        container = container[part]
    container[path[-1]] = value


def _replace_unknown(value: Any) -> Any:
    if value is UNKNOWN:
        return _PLACEHOLDER
    if isinstance(value, dict):
        return {k: _replace_unknown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_unknown(v) for v in value]
    return value


def attributes_of(model: kinds.Resource, provider: str) -> dict[str, Any]:
    """The attributes a provider sees: fields without meta-arguments or other providers' blocks."""
    data = model.model_dump(mode="json", exclude=set(kinds.META_ARGUMENTS))
    for block in ProviderBlocks:
        if block != provider or data.get(block) is None:
            data.pop(block, None)
    return data


def resolve_body(
    rc: ResourceConfig, lookup: Callable[[Ref], Any], provider: str
) -> tuple[dict[str, Any], kinds.Resource | None]:
    """(attributes with UNKNOWN where not yet known, the validated model when fully known)."""
    rendered = render(rc.body, lookup)
    model_cls = kinds.KINDS[rc.kind]
    unknown = paths_where(rendered, lambda v: v is UNKNOWN)
    candidate = _replace_unknown(rendered) if unknown else rendered
    try:
        model = model_cls.model_validate(candidate)
    except ValidationError as exc:
        errs = errors_outside(exc.errors(include_url=False), candidate, unknown)
        if errs:
            diags = translate(errs, candidate, rc.positions, base=rc.path)
            raise DiagnosticError([_retitle(d, rc.address) for d in diags]) from None
        # only unknown values failed: keep the rendered body with the model's top-level defaults
        attrs = {
            name: (info.get_default(call_default_factory=True) if name not in rendered else rendered[name])
            for name, info in model_cls.model_fields.items()
            if name not in kinds.META_ARGUMENTS
        }
        for block in ProviderBlocks:
            if block != provider or attrs.get(block) is None:
                attrs.pop(block, None)
        return _jsonable(attrs), None
    attrs = attributes_of(model, provider)
    for path in unknown:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(attrs, path, UNKNOWN)
    return attrs, (None if unknown else model)


def _retitle(d: Diagnostic, address: str) -> Diagnostic:
    return Diagnostic(f"{address}: {d.summary}", d.source, d.hint, d.detail)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value
