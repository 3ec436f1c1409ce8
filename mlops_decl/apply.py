"""Carry out a Plan: walk the changes concurrently in dependency order, saving state after
every resource that changes.

Every provider call gets an Operation (progress, deadline, cancel, record_id) and a time limit
(the resource's lifecycle.timeouts, --call-timeout, the handler's default for the call), and
retryable errors are retried on the provider's schedule. A create that records its id is in
state at once as `creating`; if it then fails it becomes `tainted` (replaced by the next
apply), unless a read shows it left nothing behind; if it times out or is abandoned it stays
`creating` (the next apply reads it and finishes it). What create and update return must keep
every value the plan knew. A failure skips what depends on it while independent branches
carry on. On Ctrl-C (`stop`) nothing new starts and running calls finish and are saved; on a
second one (`abandon`) the walk stops waiting and the operations are cancelled; a call that
returns after that is not saved: the lock is about to go.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mlops_decl.apply_records import (
    audit_apply,
    check_audit_log,
    prevents_destroy,
    record_lifecycle,
    record_refresh,
)
from mlops_decl.config.expressions import UNKNOWN, Ref, contains_unknown, render
from mlops_decl.config.project import ResourceConfig
from mlops_decl.config.yaml_source import Positions
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.diff import same
from mlops_decl.hooks import Hooks
from mlops_decl.objchange import broken_promises, dotted, get_path, set_unknown
from mlops_decl.operation import CREATING, TAINTED, Operation
from mlops_decl.plan import (
    Action,
    Change,
    Plan,
    config_sensitive,
    scan,
    scrub,
    secret_values,
)
from mlops_decl.plan_context import NOOP, PlanContext, PlannedResource, call_plan
from mlops_decl.plan_verify import stale
from mlops_decl.planner import provider_diagnostic
from mlops_decl.provider import NAME_KEY, Handler, Planned, ProviderError
from mlops_decl.resolve import resolve_body
from mlops_decl.retry import (
    CallTimeout,
    Limits,
    call_with_retry,
    concurrency_of,
    explicit_timeout,
    limit_for,
    policy_of,
)
from mlops_decl.state.model import ResourceState, State
from mlops_decl.state.store import StateStore
from mlops_decl.ticker import Ticker
from mlops_decl.walk import DAG, walk
from mlops_decl.workspace import Workspace


@dataclass
class ApplyResult:
    done: list[tuple[str, Action]] = field(default_factory=list)
    failed: list[Diagnostic] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)  # still running when a second Ctrl-C came
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.cancelled and not self.interrupted

    def count(self, action: Action) -> int:
        return sum(1 for _, a in self.done if a is action)


T = TypeVar("T")


class InconsistentResult(ProviderError):
    pass


def apply_graph(plan: Plan) -> DAG[str]:
    """Create/update in dependency order; delete dependents before what they depend on."""
    g: DAG[str] = DAG()
    active = {a: c for a, c in plan.changes.items() if c.action is not Action.NOOP}
    g.add_nodes_from(active)
    for address, change in active.items():
        for dep in change.dependencies:
            other = active.get(dep)
            if other is None:
                continue
            if change.action is Action.DELETE and other.action is Action.DELETE:
                g.add_edge(address, dep)
            elif change.action is not Action.DELETE and other.action is not Action.DELETE:
                g.add_edge(dep, address)
            elif change.action is Action.DELETE:
                g.add_edge(address, dep)  # a removed dependent goes before its dependency changes
    return g


class Closed(Exception):
    """The apply gave up waiting for this call (second Ctrl-C); its result is not saved."""


class Applier:
    def __init__(
        self,
        ws: Workspace,
        plan: Plan,
        store: StateStore,
        state: State,
        hooks: Hooks,
        timeout: Any = ...,
        cancel: threading.Event | None = None,
    ):
        self.ws = ws
        self.plan = plan
        self.store = store
        self.hooks = hooks
        self.explicit = timeout  # the command line's limit, or ... when none was given
        self.cancel = cancel or threading.Event()
        self.limits = Limits(lambda name: concurrency_of(ws.providers.get(name)))
        self.ticker = Ticker(hooks.progress)
        self.current: dict[str, ResourceState] = dict(state.resources)
        self.lock = threading.Lock()
        self.result = ApplyResult()
        self.closed = False
        self.secrets = secret_values(ws)
        # address -> paths plan() said are known only after apply: create may fill them freely
        self.unknown: dict[str, list[tuple[str | int, ...]]] = {}

    def call(
        self,
        change: Change,
        what: str,
        fn: Callable[[Operation], T],
        *,
        status: str | None = None,
        on_record: Callable[[str, dict[str, Any]], None] | None = None,
        may_retry: Callable[[ProviderError], bool] | None = None,
    ) -> T:
        """fn(op) under the resource's time limit, its provider's retry policy and
        concurrency limit."""
        handler = self.ws.providers.handler(change.provider, change.kind)
        body = self.plan.bodies.get(change.address) or {}
        limit = limit_for(
            what, (body.get("lifecycle") or {}).get("timeouts"), handler, self.explicit, change.kind
        )
        op = Operation(what, change.address, self.ws.providers.project, cancel=self.cancel, status=status)
        op.deadline = None if limit is None else time.monotonic() + limit
        op.on_progress = lambda message: self.hooks.progress(change.address, message)
        if on_record is not None:
            op.on_record = on_record
        token = self.ticker.start(change.address, what)
        try:
            return call_with_retry(
                self.limits.wrap(change.provider, lambda: fn(op)),
                policy=policy_of(self.ws.providers.get(change.provider)),
                timeout=limit,
                what=what,
                may_retry=may_retry,
            )
        finally:
            self.ticker.done(token)

    # -- values ------------------------------------------------------------------------
    def lookup(self, ref: Ref) -> Any:
        if ref.kind == "var":
            return self.ws.variables.values[ref.name]
        with self.lock:
            rs = self.current.get(ref.address)
        if rs is None:
            return UNKNOWN
        value: Any = rs.id if not ref.attr else rs.attributes
        for part in ref.attr:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def _config(self, address: str) -> ResourceConfig:
        rc = self.ws.project.resources.get(address)
        if rc is not None and rc.body == self.plan.bodies.get(address, rc.body):
            return rc
        kind, name = address.split(".", 1)
        return ResourceConfig(address, kind, name, self.plan.bodies[address], Positions("(saved plan)"), ())

    def _upstream(self, change: Change) -> PlanContext:
        """The plan context as it stands now: each dependency as applied, with its planned action."""
        out = {}
        with self.lock:
            for dep in change.dependencies:
                rs = self.current.get(dep)
                if rs is None:
                    continue
                planned = self.plan.changes.get(dep)
                action = planned.action.value if planned is not None else NOOP
                before = planned.before if planned is not None else rs.attributes
                out[dep] = PlannedResource(dep, rs.kind, rs.id, action, before, dict(rs.attributes))
        return PlanContext(out)

    def _final(self, change: Change) -> dict[str, Any]:
        rc = self._config(change.address)
        desired, _ = resolve_body(rc, self.lookup, self.ws.providers.type_of(change.provider))
        if contains_unknown(desired):
            raise InconsistentResult(f"{change.address}: a value it depends on is still unknown")
        handler = self.ws.providers.handler(change.provider, change.kind)
        with self.lock:
            current = self.current.get(change.address)
        # The state's copy: a saved plan's `before` has its sensitive values masked.
        prior = current.attributes if current is not None and change.before is not None else change.before
        got = Planned.of(
            call_plan(handler, {**desired, NAME_KEY: change.name}, prior, self._upstream(change))
        )
        final = dict(got.attributes)
        if got.unknown:
            with self.lock:
                self.unknown[change.address] = list(got.unknown)
        final.pop("id", None)
        planned = change.after or {}
        computed = self.ws.providers.computed(change.provider, change.kind)
        hidden = set(change.sensitive_paths)
        for key, value in planned.items():
            if value is UNKNOWN or key in computed and key not in final:
                continue
            if key in final and not contains_unknown(value) and not same(final[key], value):
                shown = "" if key in hidden else f" ({value!r} -> {final[key]!r})"
                raise InconsistentResult(
                    f"the planned value of `{key}` changed since the plan was made{shown}; run plan again"
                )
        return final

    # -- state ------------------------------------------------------------------------
    def _sensitive(self, address: str, attrs: dict[str, Any]) -> list[str]:
        """What the state marks sensitive: the attributes the config computes from sensitive
        values, and any whose value holds one."""
        known = {a: set(keys) for a, keys in self.plan.sensitive.items()}
        keys = config_sensitive(self.ws, address, known) | scan(attrs, self.secrets)
        return sorted(k for k in keys if k in attrs)

    def _save(self, change: Change, id: str, attrs: dict[str, Any], status: str | None = None) -> None:
        attrs = {k: v for k, v in attrs.items() if k != NAME_KEY}
        rs = ResourceState(
            address=change.address,
            kind=change.kind,
            provider=change.provider,
            id=id,
            attributes=attrs,
            dependencies=sorted(change.dependencies),
            sensitive_paths=self._sensitive(change.address, attrs),
            status=status,
            prevent_destroy=prevents_destroy(self.plan.bodies.get(change.address)),
        )
        with self.lock:
            if self.closed:
                raise Closed(change.address)
            self.current[change.address] = rs
            # Under the lock, so that once `closed` is set no write can follow.
            self.store.put_resource(rs)

    def _forget(self, address: str) -> None:
        with self.lock:
            if self.closed:
                raise Closed(address)
            self.current.pop(address, None)
            self.store.remove_resource(address)

    def close(self) -> None:
        """No more state writes from calls still running in the background."""
        with self.lock:
            self.closed = True

    # -- one node ---------------------------------------------------------------------
    def run_one(self, address: str) -> None:
        change = self.plan.changes[address]
        handler = self.ws.providers.handler(change.provider, change.kind)
        self.hooks.apply_start(address, change.action)
        t0 = time.perf_counter()
        new_id: str | None = change.prior_id
        try:
            if change.action is Action.DELETE:
                gone = self.current.get(address)
                if gone is not None:  # None: the refresh found it gone, and the state forgot it
                    rs = gone
                    self.call(change, "delete", lambda op: handler.delete(rs.id, rs.attributes, op))
                    self._forget(address)
            elif change.action is Action.UPDATE:
                final = self._final(change)
                prior = self.current[address]
                attrs = self.call(
                    change,
                    "update",
                    lambda op: handler.update(
                        prior.id, prior.attributes, {**final, NAME_KEY: change.name}, op
                    ),
                    status=prior.status,
                )
                self._save_checked(change, prior.id, final, attrs)
            else:  # create or replace
                final = self._final(change)
                old = self.current.get(address) if change.action is Action.REPLACE else None
                if old is not None and not change.create_before_destroy:
                    gone = old
                    self.call(change, "delete", lambda op: handler.delete(gone.id, gone.attributes, op))
                    self._forget(address)
                    old = None
                new_id = self._create(change, handler, final, keep_old=old is not None)
                if old is not None and change.create_before_destroy and old.id != new_id:
                    self.call(change, "delete", lambda op: handler.delete(old.id, old.attributes, op))
        except Closed:
            raise
        except Exception as exc:
            if self.secrets and exc.args and isinstance(exc.args[0], str):
                exc.args = (scrub(exc.args[0], self.secrets), *exc.args[1:])
            self.hooks.apply_failed(address, change.action, str(exc))
            raise
        self.hooks.apply_done(address, change.action, time.perf_counter() - t0, new_id)
        with self.lock:
            self.result.done.append((address, change.action))

    def _create(self, change: Change, handler: Handler, final: dict[str, Any], keep_old: bool) -> str:
        """Create, recording the half-made object as soon as the handler gives its id.
        `keep_old`: a create_before_destroy replacement whose old object is still in state;
        recording would lose it from state, so the new one is saved only once made."""
        recorded: dict[str, Any] = {}

        def on_record(id: str, attrs: dict[str, Any]) -> None:
            recorded.update(id=id, attrs=attrs)
            if keep_old:
                return
            with contextlib.suppress(Closed):  # abandoned: the next plan reads the object
                self._save(change, id, attrs, CREATING)

        def may_retry(exc: ProviderError) -> bool:
            # A failed attempt that made its object must not be followed by a second create,
            # unless the handler's create finds that object again.
            if "id" not in recorded or getattr(handler, "idempotent_create", False):
                return True
            return self._gone(change, handler, recorded["id"], recorded["attrs"])

        try:
            new_id, attrs = self.call(
                change,
                "create",
                lambda op: handler.create({**final, NAME_KEY: change.name}, op),
                on_record=on_record,
                may_retry=may_retry,
            )
        except Closed:
            raise
        except Exception as exc:
            if "id" in recorded and not keep_old:
                self._settle(change, handler, recorded["id"], recorded["attrs"], exc)
            raise
        self._save_checked(change, new_id, final, attrs)
        return new_id

    def _gone(self, change: Change, handler: Handler, id: str, attrs: dict[str, Any]) -> bool:
        """Whether the object a failed create recorded does not exist (a read says so)."""
        try:
            return self.call(change, "read", lambda op: handler.read(id, attrs, op)) is None
        except Exception:  # cannot tell: keep it, the next plan reads it again
            return False

    def _settle(
        self, change: Change, handler: Handler, id: str, attrs: dict[str, Any], exc: Exception
    ) -> None:
        """After a create that recorded its id failed: a timeout leaves it `creating` (it may
        still finish: the next apply reads it); an error taints it, unless nothing was made."""
        if isinstance(exc, CallTimeout):
            return
        with contextlib.suppress(Closed):  # the user stopped waiting: leave it as recorded
            if self._gone(change, handler, id, attrs):
                self._forget(change.address)
            else:
                self._save(change, id, attrs, TAINTED)

    def _save_checked(self, change: Change, id: str, final: dict[str, Any], got: dict[str, Any]) -> None:
        """Save what create/update returned; when it broke a value the plan knew, save the
        object tainted and report the provider's bug, naming the attribute."""
        planned = {k: v for k, v in final.items() if k != NAME_KEY}
        unknown = self.unknown.get(change.address)
        if unknown:
            planned = copy.deepcopy(planned)
            for path in unknown:
                set_unknown(planned, path)
        broken = next(broken_promises(planned, got), None)
        self._save(change, id, got, None if broken is None else TAINTED)
        if broken is None:
            return
        shown = ""
        if broken[0] not in set(change.sensitive_paths):
            shown = f" (planned {get_path(planned, broken)[1]!r}, got {get_path(got, broken)[1]!r})"
        raise InconsistentResult(
            f"provider `{change.provider}` produced an inconsistent result: `{dotted(broken)}` is not "
            f"what was planned{shown}. This is a bug in the provider; the object is marked tainted"
        )


def apply_plan(
    ws: Workspace,
    plan: Plan,
    store: StateStore,
    hooks: Hooks | None = None,
    parallelism: int = 10,
    stop: threading.Event | None = None,
    abandon: threading.Event | None = None,
    timeout: Any = ...,
) -> ApplyResult:
    """Apply plan; `timeout` is the limit per provider call, over the handlers' defaults
    (default: --call-timeout or MLOPS_CALL_TIMEOUT when set)."""
    hooks = hooks or Hooks()
    state = store.read()
    problem = stale(plan, state)
    if problem is not None:
        raise DiagnosticError(problem)
    check_audit_log(ws)
    record_refresh(plan, store, state)
    record_lifecycle(plan, store, store.read())
    state = store.read()
    applier = Applier(
        ws, plan, store, state, hooks, explicit_timeout() if timeout is ... else timeout, abandon
    )
    if plan.mode != "refresh-only":
        g = apply_graph(plan)
        walked = walk(
            g,
            applier.run_one,
            parallelism,
            stop,
            on_skip=lambda n, cause: hooks.apply_skipped(n, cause),
            abandon=abandon,
        )
        applier.close()
        applier.ticker.stop()
        applier.result.failed = [
            _failure(a, e, ws) for a, e in walked.failed.items() if a not in walked.abandoned
        ]
        applier.result.skipped = {a: c for a, c in walked.skipped.items()}
        applier.result.cancelled = list(walked.cancelled)
        applier.result.abandoned = list(walked.abandoned)
    applier.result.interrupted = bool(stop and stop.is_set() or abandon and abandon.is_set())
    outputs = _outputs(ws, applier, plan)
    if _json(outputs) != _json(store.read().outputs):  # a write (and a serial) only for a change
        store.set_outputs(outputs)
    audit_apply(ws, plan, applier.result, store)
    store.compact()
    return applier.result


def _failure(address: str, exc: BaseException, ws: Workspace) -> Diagnostic:
    if not isinstance(exc, Exception):
        exc = Exception(str(exc) or type(exc).__name__)
    return provider_diagnostic(address, exc, ws)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=repr)


def _outputs(ws: Workspace, applier: Applier, plan: Plan) -> dict[str, dict[str, Any]]:
    if plan.mode == "destroy":
        return {}
    out = {}
    for name, oc in ws.project.outputs.items():
        value = render(oc.value, applier.lookup)
        out[name] = {
            "value": None if contains_unknown(value) else value,
            "sensitive": bool(plan.outputs.get(name, {}).get("sensitive", oc.sensitive)),
        }
    return out
