"""`import ADDR REF`: adopt an existing live object into state.

REF is what the user knows of the object: its id, or for providers that implement
`Handler.import_`, a name or an ARN, which the handler turns into the canonical id the state
keeps. The caller holds the state lock.
"""

from __future__ import annotations

from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.operation import Operation
from mlops_decl.planner import provider_diagnostic
from mlops_decl.provider import Attributes, Handler, ProviderError
from mlops_decl.retry import call_with_retry, explicit_timeout, limit_for, policy_of
from mlops_decl.state.model import ResourceState
from mlops_decl.state.store import StateStore
from mlops_decl.workspace import Workspace


def import_resource(ws: Workspace, store: StateStore, address: str, ref: str) -> ResourceState:
    """Find the object REF names and record it at ADDR; DiagnosticError when it cannot."""
    rc = ws.project.resources.get(address)
    if rc is None:
        raise DiagnosticError(
            Diagnostic(
                f"`{address}` is not in the configuration", hint="declare the resource first, then import it"
            )
        )
    state = store.read()
    if address in state.resources:
        raise DiagnosticError(
            Diagnostic(
                f"`{address}` is already managed (id {state.resources[address].id})",
                hint="`state rm` it first to import another object",
            )
        )
    provider = ws.provider_of(address)
    try:
        handler = ws.providers.handler(provider, rc.kind)
        timeouts = (rc.body.get("lifecycle") or {}).get("timeouts")
        found = call_with_retry(
            lambda: _find(handler, ref, Operation("import", address, ws.providers.project)),
            policy=policy_of(ws.providers.get(provider)),
            timeout=limit_for("read", timeouts, handler, explicit_timeout(), rc.kind),
            what="import",
        )
    except ProviderError as exc:
        raise DiagnosticError(provider_diagnostic(address, exc, ws)) from None
    if found is None:
        raise DiagnosticError(
            Diagnostic(
                f"{address}: no {rc.kind} `{ref}` exists on provider `{provider}`",
                hint="check the id (or the name, where the provider accepts one)",
            )
        )
    id, attrs = found
    rs = ResourceState(
        address=address,
        kind=rc.kind,
        provider=provider,
        id=id,
        attributes=attrs,
        dependencies=ws.graph.dependencies(address),
    )
    store.put_resource(rs)
    store.compact()
    return rs


def _find(handler: Handler, ref: str, op: Operation) -> tuple[str, Attributes] | None:
    """(canonical id, attributes): the handler's import_ when it has one, else REF is the id."""
    import_ = getattr(handler, "import_", None)
    if import_ is not None:
        got: tuple[str, Attributes] | None = import_(ref, op)
        return got
    attrs = handler.read(ref, {}, op)
    return None if attrs is None else (ref, attrs)
