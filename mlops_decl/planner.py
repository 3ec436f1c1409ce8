"""Build a Plan: refresh live state through the providers, then diff desired against it."""

from __future__ import annotations

import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mlops_decl.config.expressions import UNKNOWN, Ref, contains_unknown
from mlops_decl.config.project import ResourceConfig
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.diff import changed_fields
from mlops_decl.hooks import Hooks
from mlops_decl.losses import list_losses
from mlops_decl.objchange import differs_under, dotted, set_unknown
from mlops_decl.operation import CREATING, TAINTED, Operation
from mlops_decl.plan import Action, Change, Drift, Plan, file_digests, mark_sensitive, scrub, secret_values
from mlops_decl.plan_context import NOOP, PlanContext, PlannedResource, call_plan
from mlops_decl.plan_outputs import plan_outputs
from mlops_decl.provider import NAME_KEY, Category, CheckContext, ConfigError, Planned, ProviderError
from mlops_decl.resolve import resolve_body
from mlops_decl.retry import Limits, call_with_retry, concurrency_of, explicit_timeout, limit_for, policy_of
from mlops_decl.state.model import State
from mlops_decl.workspace import Workspace


@dataclass
class PlanOptions:
    targets: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    mode: str = "normal"  # normal | destroy | refresh-only
    refresh: bool = True
    parallelism: int = 10
    # what a saved plan's refresh read: its changes are derived again without reading (plan_verify.py)
    recorded: dict[str, dict[str, Any] | None] | None = None


CATEGORY_HINTS: dict[Category | None, str] = {
    Category.THROTTLED: "the API kept throttling past its retry schedule: try again later, or with a lower --parallelism",
    Category.AUTH: "check the provider's credentials and what they are allowed to do",
    Category.CONFLICT: "the object is busy or was changed meanwhile: run `mlops-decl plan` again to see where it stands",
}


def provider_diagnostic(address: str, exc: Exception, ws: Workspace | None = None) -> Diagnostic:
    # A provider's message may quote a value built from a sensitive variable (a path, a URI).
    text = scrub(str(exc), secret_values(ws)) if ws is not None else str(exc)
    if isinstance(exc, ConfigError) and ws is not None and address in ws.project.resources:
        rc = ws.project.resources[address]
        return Diagnostic(f"{address}: {text}", rc.source(exc.field), exc.hint, address=address)
    if isinstance(exc, ProviderError):
        hint = getattr(exc, "hint", None) or (CATEGORY_HINTS.get(exc.category) if exc.category else None)
        return Diagnostic(f"{address}: {text}", address=address, hint=hint)
    return Diagnostic(f"{address}: unexpected {type(exc).__name__}: {text}", address=address)


def refresh(
    ws: Workspace, state: State, addresses: list[str], parallelism: int, hooks: Hooks
) -> dict[str, dict[str, Any] | None]:
    """Read every listed object from its provider, in parallel."""

    limits = Limits(lambda name: concurrency_of(ws.providers.get(name)))
    explicit = explicit_timeout()

    def read(address: str) -> tuple[str, dict[str, Any] | None]:
        rs = state.resources[address]
        hooks.refresh_start(address, rs.id)
        handler = ws.providers.handler(rs.provider, rs.kind)
        rc = ws.project.resources.get(address)
        timeouts = ((rc.body.get("lifecycle") or {}).get("timeouts") if rc is not None else None) or {}
        limit = limit_for("read", timeouts, handler, explicit, rs.kind)
        op = Operation("read", address, ws.providers.project, status=rs.status)
        if limit is not None:
            op.deadline = time.monotonic() + limit
        op.on_progress = lambda message: hooks.progress(address, message)
        got = call_with_retry(
            limits.wrap(rs.provider, lambda: handler.read(rs.id, rs.attributes, op)),
            policy=policy_of(ws.providers.get(rs.provider)),
            timeout=limit,
        )
        hooks.refresh_done(address, got is None)
        return address, got

    out: dict[str, dict[str, Any] | None] = {}
    errors: list[Diagnostic] = []
    # A handler that can answer many reads in one call (the local catalog: one query) does;
    # the rest, and any batch that fails, go one by one through the pool.
    groups: dict[tuple[str, str], list[str]] = {}
    for a in addresses:
        rs = state.resources[a]
        groups.setdefault((rs.provider, rs.kind), []).append(a)
    one_by_one: list[str] = []
    for (prov, kind), group in groups.items():
        handler = ws.providers.handler(prov, kind)
        many = getattr(handler, "read_many", None)
        got = None
        # Half-made objects are read one by one: their read may wait for them to settle.
        group_ok = not any(state.resources[a].status for a in group)
        if many is not None and len(group) > 1 and group_ok:
            ids = [state.resources[a].id for a in group]
            try:
                got = call_with_retry(functools.partial(many, ids))
            except Exception:  # reported per resource by the single reads below
                got = None
        if got is None:
            one_by_one.extend(group)
            continue
        for a in group:
            rs = state.resources[a]
            hooks.refresh_start(a, rs.id)
            out[a] = got.get(rs.id)
            hooks.refresh_done(a, out[a] is None)
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="refresh") as pool:
        futures = {pool.submit(read, a): a for a in one_by_one}
        for fut, address in futures.items():
            try:
                _, got = fut.result()
                out[address] = got
            except Exception as exc:  # collected: every failing resource is reported
                errors.append(provider_diagnostic(address, exc, ws))
    if errors:
        raise DiagnosticError(errors)
    return out


def state_providers(state: State) -> dict[str, list[str]]:
    """Provider instance -> the addresses the state records on it."""
    out: dict[str, list[str]] = {}
    for address in sorted(state.resources):
        out.setdefault(state.resources[address].provider, []).append(address)
    return out


def _check_addresses(ws: Workspace, state: State, addresses: list[str], flag: str) -> None:
    bad = [a for a in addresses if a not in ws.project.resources and a not in state.resources]
    if bad:
        raise DiagnosticError(
            [
                Diagnostic(
                    f"{flag} {a}: no such resource in the configuration or the state",
                    hint="addresses look like kind.name; `mlops-decl state list` shows what exists",
                )
                for a in bad
            ]
        )


def make_plan(ws: Workspace, state: State, opts: PlanOptions, hooks: Hooks | None = None) -> Plan:
    hooks = hooks or Hooks()
    _check_addresses(ws, state, opts.targets, "--target")
    _check_addresses(ws, state, opts.replace, "--replace")
    # every provider in the config or the state, configured once and checked before any read
    ws.providers.check(ws.provider_users(), state_providers(state))
    config = ws.project.resources
    if opts.targets:
        in_config = [t for t in opts.targets if t in config]
        scope = ws.graph.with_dependencies(in_config) if opts.mode != "destroy" else set()
        if opts.mode == "destroy":
            scope = ws.graph.with_dependents(in_config) | {t for t in opts.targets if t in state.resources}
            scope |= {a for a, rs in state.resources.items() if set(rs.dependencies) & scope}
        scope |= {t for t in opts.targets if t in state.resources}
    else:
        scope = set(config) | set(state.resources)

    to_read = [a for a in state.resources if a in scope]
    refreshed: dict[str, dict[str, Any] | None]
    if opts.recorded is not None:
        refreshed = {a: opts.recorded.get(a, state.resources[a].attributes) for a in to_read}
    elif opts.refresh:
        refreshed = refresh(ws, state, to_read, opts.parallelism, hooks)
    else:
        refreshed = {a: state.resources[a].attributes for a in to_read}
    drift = _drift(ws, state, refreshed) if opts.refresh and opts.recorded is None else []
    clear, hashed = ws.plan_variables()
    plan = Plan(
        changes={},
        outputs={},
        lineage=state.lineage,
        serial=state.serial,
        config_hash=ws.project.config_hash,
        mode=opts.mode,
        drift=drift,
        refreshed=refreshed,
        bodies={a: rc.body for a, rc in config.items()},
        variables=clear,
        sensitive_variables=hashed,
        targets=list(opts.targets),
        replace=list(opts.replace),
        config_files=file_digests(ws.project.files),
    )
    planned: dict[str, tuple[Any, dict[str, Any]]] = {}  # address -> (id, attributes)
    for address, rs in state.resources.items():
        live = refreshed.get(address, rs.attributes) if address in refreshed else rs.attributes
        if live is not None:
            planned[address] = (rs.id, live)

    def lookup(ref: Ref) -> Any:
        if ref.kind == "var":
            return ws.variables.values[ref.name]
        entry = planned.get(ref.address)
        if entry is None:
            return UNKNOWN
        value: Any = entry[0] if not ref.attr else entry[1]
        for part in ref.attr:
            if value is UNKNOWN:
                return UNKNOWN
            if not isinstance(value, dict) or part not in value:
                return UNKNOWN if entry[0] is UNKNOWN else None
            value = value[part]
        return value

    checks = _PlanChecks(planned, {(rs.kind, rs.id): a for a, rs in state.resources.items() if a in planned})

    if opts.mode == "destroy":
        _plan_destroy(ws, state, plan, scope)
    elif opts.mode == "refresh-only":
        pass
    else:
        errors: list[Diagnostic] = []
        for address in ws.graph.order():
            if address not in scope:
                continue
            try:
                _plan_one(ws, state, plan, address, refreshed, lookup, planned, opts, checks)
                checks.planned_as(ws.project.resources[address].kind, address)
            except DiagnosticError as exc:
                errors.extend(exc.diagnostics)
                planned[address] = (UNKNOWN, {})
            except (ProviderError, OSError) as exc:
                errors.append(provider_diagnostic(address, exc, ws))
                planned[address] = (UNKNOWN, {})
        for address in sorted(state.resources):
            if address not in config and address in scope:
                rs = state.resources[address]
                if rs.prevent_destroy:
                    errors.append(_removed_but_protected(address))
                    continue
                plan.changes[address] = Change(
                    address,
                    rs.kind,
                    address.split(".", 1)[1],
                    rs.provider,
                    Action.DELETE,
                    refreshed.get(address, rs.attributes),
                    None,
                    prior_id=rs.id,
                    dependencies=list(rs.dependencies),
                    reason="it is no longer in the configuration",
                )
        if errors:
            raise DiagnosticError(errors)
    plan.outputs = plan_outputs(ws, state, lookup, opts.mode)
    mark_sensitive(plan, ws, state)
    if opts.recorded is None:  # losses ask the provider; a re-derived plan reads nothing
        list_losses(ws, state, plan)
    return plan


class _PlanChecks(CheckContext):
    """The plan as the providers' plan-time checks see it: another resource by kind and id,
    from what is planned so far (dependencies are planned first; a resource whose plan
    failed has no id, and what references it is unknown, so its dependents' checks skip it)."""

    def __init__(self, planned: dict[str, tuple[Any, dict[str, Any]]], by_id: dict[tuple[str, str], str]):
        self.planned = planned
        self.by_id = by_id  # (kind, id) -> address

    def planned_as(self, kind: str, address: str) -> None:
        got = self.planned.get(address)
        if got is not None and isinstance(got[0], str):
            self.by_id[(kind, got[0])] = address

    def resource(self, kind: str, id: str) -> dict[str, Any] | None:
        address = self.by_id.get((kind, id))
        return self.planned[address][1] if address in self.planned else None


def _drift(ws: Workspace, state: State, refreshed: dict[str, dict[str, Any] | None]) -> list[Drift]:
    """Objects deleted or reconfigured outside mlops-decl. Computed attributes moving on their
    own (an endpoint's status once its alias has a version) are not news."""
    out = []
    for address, live in refreshed.items():
        rs = state.resources[address]
        before = rs.attributes
        if live is None:
            out.append(Drift(address, True, before, None))
            continue
        keys = (set(live) | set(before)) - ws.providers.computed(rs.provider, rs.kind)
        if changed_fields(live, before, keys=keys):
            out.append(Drift(address, False, before, live))
    return out


def _plan_one(
    ws: Workspace,
    state: State,
    plan: Plan,
    address: str,
    refreshed: dict[str, dict[str, Any] | None],
    lookup: Any,
    planned: dict[str, tuple[Any, dict[str, Any]]],
    opts: PlanOptions,
    checks: _PlanChecks,
) -> None:
    rc = ws.project.resources[address]
    provider = ws.provider_of(address)
    handler = ws.providers.handler(provider, rc.kind)
    rs = state.resources.get(address)
    if rs is not None and rs.provider != provider:
        raise DiagnosticError(_moved_provider(rc, rs.provider, provider))
    prior = refreshed.get(address) if rs is not None else None
    lifecycle = rc.body.get("lifecycle") or {}
    desired, _model = resolve_body(rc, lookup, ws.block_of(address))
    problems = handler.validate(desired, checks)  # what only the provider sees, before any change
    if problems:
        raise DiagnosticError([provider_diagnostic(address, p, ws) for p in problems])
    requires: list[tuple[str | int, ...]] = []
    deps = ws.graph.dependencies(address)
    if not contains_unknown(desired):
        context = upstream(deps, plan.changes, planned, state)
        got = call_plan(handler, {**desired, NAME_KEY: rc.name}, prior, context)
        if isinstance(got, Planned):
            desired = dict(got.attributes)
            for path in got.unknown:
                set_unknown(desired, path)
            requires = list(got.requires_replace)
        else:
            desired = dict(got)
    desired.pop(NAME_KEY, None)
    new_id = desired.pop("id", UNKNOWN)
    ignore = set(lifecycle.get("ignore_changes") or [])
    cbd = bool(lifecycle.get("create_before_destroy"))
    base = Change(
        address,
        rc.kind,
        rc.name,
        provider,
        Action.NOOP,
        prior,
        None,
        dependencies=deps,
        create_before_destroy=cbd,
        prior_id=rs.id if rs else None,
    )
    computed = ws.providers.computed(provider, rc.kind)  # as the provider's schema declares
    computed_unknown = {k: UNKNOWN for k in computed if k not in desired and k != "id"}
    computed_unknown["id"] = new_id
    if prior is None:
        base.action = Action.CREATE
        base.after = {**desired, **computed_unknown}
        if rs is not None:
            base.reason = (
                "its interrupted create left no object behind"
                if rs.status
                else "it no longer exists outside mlops-decl"
            )
        planned[address] = (new_id, base.after)
    else:
        keys = (set(desired) - ignore) - {k for k in computed if k not in desired}
        changed = changed_fields(desired, prior, keys=keys)
        forced = sorted(set(changed) & handler.force_new)
        forced += sorted(
            {dotted(p) for p in requires if p and p[0] not in ignore and differs_under(desired, prior, p)}
            - set(forced)
        )
        if address in opts.replace:
            base.action, base.reason = Action.REPLACE, "you asked for it with --replace"
        elif rs is not None and rs.status == TAINTED:
            # The create failed after the object was made: what it holds is not trusted.
            base.action, base.reason = Action.REPLACE, "tainted"
        elif forced:
            base.action = Action.REPLACE
            base.replace_paths = forced
        elif changed:
            base.action = Action.UPDATE
        elif rs is not None and rs.status == CREATING:
            # A create interrupted after the object was made: the update finishes it.
            base.action, base.reason = Action.UPDATE, "its create was interrupted; this finishes it"
        base.changed = changed
        if base.action is Action.REPLACE:
            base.after = {**desired, **computed_unknown}
            planned[address] = (new_id, base.after)
            if lifecycle.get("prevent_destroy"):
                raise DiagnosticError(
                    Diagnostic(
                        f"{address} would be replaced but has lifecycle.prevent_destroy set",
                        rc.source(("lifecycle", "prevent_destroy")),
                        hint="remove prevent_destroy, or undo the change that forces replacement: "
                        + ", ".join(forced or ["--replace"]),
                    )
                )
        else:
            after = {**prior, **{k: v for k, v in desired.items() if k not in ignore}}
            base.after = after
            planned[address] = (rs.id if rs else new_id, after)
    plan.changes[address] = base


def upstream(
    deps: list[str],
    changes: dict[str, Change],
    planned: dict[str, tuple[Any, dict[str, Any]]],
    state: State,
) -> PlanContext:
    """The plan context of a resource depending on `deps`: each one's planned change (a
    dependency outside the plan's scope stays as the state has it)."""
    out = {}
    for dep in deps:
        got = planned.get(dep)
        if got is None:
            continue
        change = changes.get(dep)
        rs = state.resources.get(dep)
        kind = change.kind if change is not None else (rs.kind if rs is not None else dep.split(".", 1)[0])
        action = change.action.value if change is not None else NOOP
        before = change.before if change is not None else got[1]
        out[dep] = PlannedResource(dep, kind, got[0], action, before, got[1])
    return PlanContext(out)


def _moved_provider(rc: ResourceConfig, recorded: str, configured: str) -> Diagnostic:
    """An object cannot move between provider instances in place: each has its own account,
    region or data dir, and deleting it on one while creating on the other is a choice."""
    return Diagnostic(
        f"{rc.address} is on provider `{recorded}` in the state but configured on `{configured}`",
        rc.source(("provider",)) if "provider" in rc.body else rc.source(key=True),
        hint=f"to move it, destroy it first (`mlops-decl destroy -target {rc.address}` with the old "
        f"provider), or `mlops-decl state rm {rc.address}` and import it on `{configured}`",
    )


def _removed_but_protected(address: str) -> Diagnostic:
    """Terraform forgets prevent_destroy with the block that said it; the state keeps it here."""
    return Diagnostic(
        f"{address} would be destroyed, but it was applied with lifecycle.prevent_destroy and its "
        "block is no longer in the configuration",
        address=address,
        hint="to destroy it, put the block back with `lifecycle: {prevent_destroy: false}` and "
        f"apply, then remove the block; to stop managing it but keep it, `mlops-decl state rm {address}`",
    )


def _plan_destroy(ws: Workspace, state: State, plan: Plan, scope: set[str]) -> None:
    errors = []
    for address in sorted(state.resources):
        if address not in scope:
            continue
        rs = state.resources[address]
        rc = ws.project.resources.get(address)
        if rc is None and rs.prevent_destroy:
            errors.append(_removed_but_protected(address))
            continue
        if rc is not None and (rc.body.get("lifecycle") or {}).get("prevent_destroy"):
            errors.append(
                Diagnostic(
                    f"{address} has lifecycle.prevent_destroy set and cannot be destroyed",
                    rc.source(("lifecycle", "prevent_destroy")),
                    hint="remove prevent_destroy first, or leave it out with --target",
                )
            )
            continue
        before = plan.refreshed.get(address, rs.attributes)
        if before is None and address in plan.refreshed and not rs.status:
            continue  # already gone (a half-made one still gets its delete: its parts may not be)
        plan.changes[address] = Change(
            address,
            rs.kind,
            address.split(".", 1)[1],
            rs.provider,
            Action.DELETE,
            before,
            None,
            prior_id=rs.id,
            dependencies=list(rs.dependencies),
        )
    if errors:
        raise DiagnosticError(errors)
