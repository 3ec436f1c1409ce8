"""Validate-time checks of runtime actions: what a config asks providers to do at runtime,
against the actions each provider lists. No provider is configured or called."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mlops_decl.config.expressions import RefSyntaxError, iter_refs, parse_ref
from mlops_decl.diagnostics import Diagnostic

if TYPE_CHECKING:
    from mlops_decl.actions.capabilities import Capability
    from mlops_decl.workspace import Workspace


def check_actions(ws: Workspace) -> list[Diagnostic]:
    """A monitor's on_drift.retrain must name a pipeline whose provider can `run`."""
    listed: Callable[[str], frozenset[Capability] | None] | None = None
    errors: list[Diagnostic] = []
    for address, rc in ws.project.resources.items():
        on_drift = rc.body.get("on_drift") if rc.kind == "monitor" else None
        retrain = on_drift.get("retrain") if isinstance(on_drift, dict) else None
        for text, _ in iter_refs(retrain):
            try:
                ref = parse_ref(text)
            except RefSyntaxError:
                continue  # the reference check reports it
            if ref.kind != "training_pipeline" or ref.address not in ws.project.resources:
                continue
            provider = ws.provider_of(ref.address)
            listed = listed or provider_capabilities(ws)
            can = listed(provider)
            if can is None or ("training_pipeline", "run") in can:
                continue
            errors.append(
                Diagnostic(
                    f"{address}: on_drift.retrain names {ref.address}, whose provider `{provider}` "
                    "cannot `run` a training_pipeline",
                    rc.source(("on_drift", "retrain")),
                    hint=f"put {ref.address} on a provider that runs pipelines "
                    "(docs/runtime-actions.md), or drop on_drift.retrain",
                )
            )
    return errors


def provider_capabilities(ws: Workspace) -> Callable[[str], frozenset[Capability] | None]:
    """Capability lists read from the provider classes, each loaded once, never configured;
    None for a provider that is not installed (reported elsewhere)."""
    from mlops_decl.actions.capabilities import capabilities  # only for a project that retrains

    seen: dict[str, frozenset[Capability] | None] = {}

    def listed(name: str) -> frozenset[Capability] | None:
        if name not in seen:
            seen[name] = (
                capabilities(ws.providers.provider_class(name)) if ws.providers.exists(name) else None
            )
        return seen[name]

    return listed
