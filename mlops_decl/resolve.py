"""Resolve a resource's raw body into the attributes its provider receives.

References are rendered through a lookup, then the result is checked against the kind's model
(the second of the two validations in docs/kinds.md, with the kinds' compiled schemas:
kind_check.py). Values still unknown before apply stay UNKNOWN.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from mlops_decl import kind_check
from mlops_decl.config.errors import errors_outside, paths_where, translate
from mlops_decl.config.expressions import UNKNOWN, Ref, render
from mlops_decl.config.project import ResourceConfig
from mlops_decl.config.yaml_source import PathKey
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.kind_rules import META_ARGUMENTS, PROVIDER_BLOCKS

_PLACEHOLDER = "\x00unknown\x00"

ProviderBlocks = frozenset(PROVIDER_BLOCKS)


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


def attributes_of(kind: str, valid: dict[str, Any], provider: str) -> dict[str, Any]:
    """The attributes a provider sees of a validated body: fields without meta-arguments or
    other providers' blocks, as JSON values."""
    data = kind_check.to_json(kind, valid, exclude=META_ARGUMENTS)
    for block in ProviderBlocks:
        if block != provider or data.get(block) is None:
            data.pop(block, None)
    return data


def resolve_body(
    rc: ResourceConfig, lookup: Callable[[Ref], Any], provider: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(attributes with UNKNOWN where not yet known, the validated body when fully known)."""
    rendered = render(rc.body, lookup)
    unknown = paths_where(rendered, lambda v: v is UNKNOWN)
    candidate = _replace_unknown(rendered) if unknown else rendered
    try:
        valid = kind_check.validate(rc.kind, candidate)
    except kind_check.ValidationError as exc:
        errs = errors_outside(exc.errors(include_url=False), candidate, unknown)
        if errs:
            diags = translate(errs, candidate, rc.positions, base=rc.path)
            raise DiagnosticError([_retitle(d, rc.address) for d in diags]) from None
        # only unknown values failed: keep the rendered body with the model's top-level defaults
        defaults = kind_check.field_defaults(rc.kind)
        attrs = {
            name: rendered[name] if name in rendered else defaults.get(name)
            for name in kind_check.field_names(rc.kind)
            if name not in META_ARGUMENTS
        }
        for block in ProviderBlocks:
            if block != provider or attrs.get(block) is None:
                attrs.pop(block, None)
        return attrs, None
    attrs = attributes_of(rc.kind, valid, provider)
    for path in unknown:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(attrs, path, UNKNOWN)
    return attrs, (None if unknown else valid)


def _retitle(d: Diagnostic, address: str) -> Diagnostic:
    return Diagnostic(f"{address}: {d.summary}", d.source, d.hint, d.detail)
