"""`validate`'s checks against the providers' declared schemas, offline: each instance's
settings, and the provider block on each resource. Nothing is configured or called."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlops_decl import provider_schema
from mlops_decl.config.errors import errors_outside, paths_where, translate
from mlops_decl.config.expressions import UNKNOWN, Ref, render
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.kind_rules import PROVIDER_BLOCKS
from mlops_decl.provider_set import FAULTS_KEY, TYPE_KEY

if TYPE_CHECKING:
    from mlops_decl.workspace import Workspace

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def check_instance(ws: Workspace, name: str) -> list[Diagnostic]:
    """An entry under `providers:`: a valid name, an installed type, settings that fit."""
    pos = ws.project.settings_positions
    body = ws.project.settings.providers.get(name)
    if not _NAME.match(name):
        return [
            Diagnostic(
                f"`{name}` is not a valid provider instance name",
                pos.source(("providers", name), key=True),
                hint="use letters, digits, `_` and `-`, starting with a letter or `_`",
            )
        ]
    if isinstance(body, dict) and TYPE_KEY in body and not isinstance(body[TYPE_KEY], str):
        return [
            Diagnostic(
                f"provider `{name}`: `type` must be a provider name, e.g. type: local",
                pos.source(("providers", name, TYPE_KEY)),
                hint=f"installed providers: {', '.join(ws.providers.names)}",
            )
        ]
    if not ws.providers.exists(name):
        return [ws.providers.missing_error(name, ws.providers.source(name), "")]
    schema = ws.providers.schema(name).settings
    try:
        settings = ws.providers.rendered_settings(name)
    except DiagnosticError as exc:
        return exc.diagnostics
    settings.pop(FAULTS_KEY, None)  # the engine's own setting, not the provider's
    errs = provider_schema.errors(schema, settings)
    if not errs:
        return []
    return translate(
        [{**e, "loc": ("providers", name, *e["loc"])} for e in errs],
        {"providers": {name: settings}},
        pos,
        allowed_fields=lambda path, _value: provider_schema.field_names(schema, tuple(path[2:])),
    )


def check_block(ws: Workspace, address: str, lookup: Callable[[Ref], Any]) -> list[Diagnostic]:
    """The resource's block for its provider (`local: {...}` on a local resource) against the
    block schema the provider declares for that kind; values unknown before apply are skipped."""
    rc = ws.project.resources[address]
    block = ws.block_of(address)
    if block not in PROVIDER_BLOCKS or rc.body.get(block) is None:
        return []
    kinds = ws.providers.schema(ws.provider_of(address)).kinds
    schema = kinds[rc.kind].block if rc.kind in kinds else None
    if schema is None:
        takes = sorted(k for k, ks in kinds.items() if ks.block is not None)
        return [
            Diagnostic(
                f"{address}: the {block} provider takes no `{block}` block on a {rc.kind}",
                rc.source((block,), key=True),
                hint="remove it"
                + (
                    f"; it takes one on: {', '.join(takes)}"
                    if takes
                    else f"; the {block} provider takes no blocks"
                ),
            )
        ]
    value = render(rc.body[block], lookup)
    unknown = paths_where(value, lambda v: v is UNKNOWN)
    errs = errors_outside(provider_schema.errors(schema, value), value, unknown)
    if not errs:
        return []
    diags = translate(
        [{**e, "loc": (block, *e["loc"])} for e in errs],
        {block: value},
        rc.positions,
        base=rc.path,
        allowed_fields=lambda path, _value: provider_schema.field_names(
            schema, tuple(path[len(rc.path) + 1 :])
        ),
    )
    return [Diagnostic(f"{address}: {d.summary}", d.source, d.hint, d.detail) for d in diags]
