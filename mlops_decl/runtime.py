"""Runtime commands: run, approve, promote, predict, serve, monitor check, features get.

The engine finds the managed object in the state, calls its provider's action, records the
outcome in the audit log, and, for drift, fires the monitor's on_drift (retrain, promote)
with a cooldown. Providers do the work; nothing here knows a cloud.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.actions.invoke import invoke
from mlops_decl.actions.results import RunStatus
from mlops_decl.audit import AuditLog, who
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.provider import ProviderError, RuntimeContext
from mlops_decl.recovery import recover_promotions, recover_runs
from mlops_decl.runs import finish_run, follow, start_run
from mlops_decl.state import LockHeld, StateBackend, holding, open_state_backend
from mlops_decl.state.model import State
from mlops_decl.workspace import Workspace

if TYPE_CHECKING:  # dataclasses cost milliseconds to define: plan need not pay for them
    from mlops_decl.ml.evidence import ModelActions

# How long on_drift waits for another runner deciding the same monitor's retrain (seconds
# only: the lock covers the cooldown check and its audit entry, not the run).
ON_DRIFT_LOCK_WAIT = 60.0


@dataclass
class Runtime:
    ws: Workspace
    state: State
    emit: Callable[[str], None]
    _backend: StateBackend | None = None
    _unanchored: bool = False  # said once that an entry's anchor waits for another command
    # -lock-timeout: how long a named lock (a promotion's, on_drift's) is waited for; None: the
    # built-in waits (WAIT_SECONDS, ON_DRIFT_LOCK_WAIT)
    lock_wait: float | None = None

    @property
    def backend(self) -> StateBackend:
        """The project's state backend: audit log and named locks (e.g. a promotion's)."""
        if self._backend is None:
            self._backend = open_state_backend(self.ws.root, self.ws.project.settings.backend)
        return self._backend

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.backend.audit, anchored=self._anchor)

    def _anchor(self, anchor: dict[str, Any]) -> None:
        """Record the log's new end in the state, so `audit verify` sees it cut off or rewritten."""
        from mlops_decl.audit import record_anchor

        why = record_anchor(self.backend, anchor)
        if why is not None and not self._unanchored:
            self._unanchored = True
            self.emit(f"audit: the log's new entries are anchored in the state by the next write ({why})")

    def context(self, started: Callable[[str, str | None], None] | None = None) -> RuntimeContext:
        return RuntimeContext(
            project_dir=self.ws.root,
            config_hash=self.ws.project.config_hash,
            git_commit=git_commit(self.ws.root),
            who=who(),
            resources={a: (rs.kind, rs.id, rs.attributes) for a, rs in self.state.resources.items()},
            emit=self.emit,
            started=started or (lambda run_id, job_id: None),
        )

    def managed(self, address: str, kind: str | None = None) -> Any:
        if "." not in address:
            raise DiagnosticError(
                Diagnostic(f"`{address}` is not an address", hint="write kind.name, e.g. model.churn")
            )
        if kind and not address.startswith(kind + "."):
            raise DiagnosticError(
                Diagnostic(
                    f"`{address}` is not a {kind}", hint=f"this command takes a {kind} address: {kind}.NAME"
                )
            )
        rs = self.state.resources.get(address)
        if rs is None:
            known = address in self.ws.project.resources
            raise DiagnosticError(
                Diagnostic(
                    f"{address} is not applied yet"
                    if known
                    else f"no resource `{address}` in the configuration",
                    hint="run `mlops-decl apply` first"
                    if known
                    else "`mlops-decl state list` shows what exists",
                )
            )
        return rs

    def call(
        self,
        address: str,
        action: str,
        kind: str | None = None,
        started: Callable[[str, str | None], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The typed result of a runtime action on a managed object (mlops_decl/actions/),
        through the engine's retries, time limit and error mapping."""
        rs = self.managed(address, kind)
        try:
            provider = self.ws.providers.get(rs.provider)
        except ProviderError as exc:
            raise DiagnosticError(Diagnostic(f"{address}: {exc}", address=address)) from None
        ctx = self.context(started)
        return invoke(provider, rs.provider, address, rs.kind, action, rs.id, rs.attributes, ctx, **kwargs)

    def can(self, address: str, action: str) -> bool:
        """Whether the provider of managed object `address` lists `action` for its kind."""
        from mlops_decl.actions.catalog import capabilities

        rs = self.managed(address)
        return self.ws.providers.exists(rs.provider) and (rs.kind, action) in capabilities(
            self.ws.providers.provider_class(rs.provider)
        )

    # -- commands -------------------------------------------------------------------
    def _recorded(
        self, event: str, data: dict[str, Any], change: Callable[[], dict[str, Any]]
    ) -> tuple[dict[str, Any], int]:
        """Run `change` between an `intent` entry and its outcome, which names the intent.

        Write-ahead, as the state journal is: a process killed after the registry changed but
        before the outcome was written leaves an intent no outcome names (`audit verify`
        lists them), not a version or alias move the log never mentions. A failure is an
        outcome too."""
        here = {"pid": os.getpid(), "host": socket.gethostname()}  # to tell killed from running
        intent = int(self.audit.append("intent", {"event": event, **data, **here})["seq"])
        try:
            result = change()
        except DiagnosticError as exc:
            self.audit.append(event, {**data, "failed": exc.diagnostics[0].summary, "intent": intent})
            raise
        return result, intent

    def run(self, address: str, wait: bool = True) -> RunStatus:
        """Start a run of pipeline `address`; with `wait`, follow it to the end and record its
        outcome; without, return its status as started (`run status RUN_ID` follows it)."""
        self.managed(address, "training_pipeline")
        recover_runs(self, address)
        intent, handle = start_run(self, address, wait)
        if not wait and not handle.final:
            return RunStatus(run_id=handle.run_id, status=handle.status, job_id=handle.job_id)
        status = follow(self, address, handle.run_id)
        finish_run(self, address, intent, status)
        return status

    def run_status(self, run_id: str) -> RunStatus:
        """Where run `run_id` stands; a final status closes its audit intent if still open."""
        from mlops_decl.runs import find_run

        found = find_run(self, run_id)
        status: RunStatus = self.call(found.pipeline, "run_status", "training_pipeline", run_id=run_id)
        if status.final and found.open:
            finish_run(self, found.pipeline, found.intent, status, check=False)
        return status

    def address_of(self, kind: str, id: str | None) -> str | None:
        """The address of the `kind` resource whose provider id is `id` (a run names its model
        by the provider's id: on a cloud it is not the resource's name)."""
        found = (a for a, rs in sorted(self.state.resources.items()) if rs.kind == kind and rs.id == id)
        return next(found, None) if id is not None else None

    def model_actions(self, address: str) -> ModelActions:
        """The evidence actions of model `address`, for the engine's gates and lineage."""
        from mlops_decl.ml.evidence import ModelActions

        self.managed(address, "model")
        return ModelActions(lambda action, **kw: self.call(address, action, "model", **kw))

    def approve(self, address: str, version: int, by: str) -> dict[str, Any]:
        data = {"model": address, "version": version, "by": by}
        result, intent = self._recorded(
            "approval", data, lambda: asdict(self.model_actions(address).add_approval(version, by))
        )
        self.audit.append("approval", {**data, "intent": intent})
        return result

    def policy_for(self, model_address: str) -> tuple[str, dict[str, Any]] | None:
        model = self.managed(model_address, "model")
        for address, rs in sorted(self.state.resources.items()):
            if rs.kind == "registry_policy" and rs.attributes.get("model") == model.id:
                return address, rs.attributes
        return None

    def promote(self, address: str, version: int, reason: str = "manual") -> dict[str, Any]:
        """Gates, then the alias, under the model's promotion lock (mlops_decl/ml/promotion.py)."""
        from mlops_decl.ml import promotion
        from mlops_decl.ml.lock import WAIT_SECONDS, promotion_lock

        wait = WAIT_SECONDS if self.lock_wait is None else self.lock_wait

        found = self.policy_for(address)
        policy = found[1] if found else None
        actions = self.model_actions(address)
        recover_promotions(self, address, str((policy or {}).get("promote_to") or "champion"))
        result, intent = self._recorded(
            "promotion",
            {"model": address, "version": version, "reason": reason},
            lambda: promotion.promote(
                actions, policy, version, lambda: promotion_lock(self.backend, address, wait)
            ),
        )
        self.audit.append(
            "promotion",
            {
                "intent": intent,
                "model": address,
                "version": version,
                "policy": found[0] if found else None,
                "promoted": bool(result.get("promoted")),
                "previous": result.get("previous"),
                "alias": result.get("alias"),
                "gates": [
                    {k: g.get(k) for k in ("gate", "passed", "evidence")} for g in result.get("gates", [])
                ],
                "reason": reason,
            },
        )
        return result

    def gate_status(self, policy_address: str) -> dict[str, Any] | None:
        """Which gates the newest unpromoted version passes (for plan); None if nothing to show."""
        from mlops_decl.ml import promotion

        rs = self.state.resources.get(policy_address)
        if rs is None:
            return None
        model_address = next(
            (
                a
                for a, m in self.state.resources.items()
                if m.kind == "model" and m.id == rs.attributes.get("model")
            ),
            None,
        )
        if model_address is None:
            return None
        try:
            return promotion.evaluate(self.model_actions(model_address), rs.attributes, None)
        except DiagnosticError:
            return None

    def check(self, address: str, data: str | None) -> dict[str, Any]:
        """Drift of the monitor's current data (mlops_decl/ml/monitor.py), then its on_drift."""
        from mlops_decl.ml import monitor
        from mlops_decl.ml.evidence import MonitorActions

        rs = self.managed(address, "monitor")
        actions = MonitorActions(lambda action, **kw: self.call(address, action, "monitor", **kw))
        try:
            report = monitor.check(actions, address, rs.attributes, self.ws.root, data, self.emit)
        except ProviderError as exc:  # the profile or the data cannot be used: say what to do
            raise DiagnosticError(
                Diagnostic(f"{address}: {exc}", address=address, hint=getattr(exc, "hint", None))
            ) from None
        self.audit.append(
            "drift",
            {
                "monitor": address,
                "dataset_drift": report.get("dataset_drift"),
                "drifted_share": report.get("drifted_share"),
                "drifted": sorted(n for n, f in report.get("features", {}).items() if f.get("drifted")),
                "data": data or "captured inputs",
                "report": report.get("report_json"),
            },
        )
        report["on_drift"] = self._on_drift(address, rs.attributes, report)
        return report

    def _on_drift(self, address: str, attrs: dict[str, Any], report: dict[str, Any]) -> dict[str, Any] | None:
        on_drift = attrs.get("on_drift") or {}
        if not report.get("dataset_drift") or not on_drift.get("retrain"):
            return None
        found = RuntimeContext.find(self.context(), "training_pipeline", on_drift["retrain"])
        if found is None:
            raise DiagnosticError(
                Diagnostic(
                    f"{address}: on_drift.retrain names a pipeline that is not applied",
                    hint="run `mlops-decl apply`",
                )
            )
        pipeline = found[0]
        cooldown = parse_duration(on_drift.get("cooldown") or "1h")
        # Runners sharing the backend decide one at a time: the first records its retrain,
        # the others then see it and cool down.
        patience = ON_DRIFT_LOCK_WAIT if self.lock_wait is None else self.lock_wait
        try:
            with holding(self.backend.lock(f"on_drift/{address}"), "on_drift", patience):
                wait = self._cooling(address, cooldown)
                skipped = "cooldown" if wait is not None else None
                self.audit.append("retrain", {"monitor": address, "pipeline": pipeline, "skipped": skipped})
        except LockHeld as exc:
            raise DiagnosticError(
                Diagnostic(f"{address}: on_drift is being decided by another process: {exc}")
            ) from None
        if wait is not None:
            self.emit(f"drift: retraining skipped, {address} is cooling down for {_human(wait)} more")
            return {"retrained": False, "reason": f"cooldown ({_human(wait)} left)"}
        self.emit(f"drift: {address} fires on_drift -> mlops-decl run {pipeline}")
        run = self.run(pipeline)
        out: dict[str, Any] = {"retrained": True, "run": brief(run)}
        if on_drift.get("promote", True) and run.version is not None:
            model_address = self.address_of("model", run.model)
            if model_address:
                self.emit(f"drift: promoting {model_address} version {run.version}")
                promo = self.promote(model_address, int(run.version), reason=f"on_drift of {address}")
                out["promotion"] = {"promoted": promo.get("promoted"), "version": run.version}
        return out

    def _cooling(self, monitor: str, cooldown: timedelta) -> timedelta | None:
        """How long monitor's cooldown still runs (None: it may retrain now)."""
        last = self._last_retrain(monitor)
        now = datetime.now(timezone.utc)
        return cooldown - (now - last) if last is not None and now - last < cooldown else None

    def _last_retrain(self, monitor: str) -> datetime | None:
        last = None
        for entry in self.audit.entries():
            data = entry.get("data") or {}
            if entry.get("event") == "retrain" and data.get("monitor") == monitor and not data.get("skipped"):
                last = datetime.fromisoformat(entry["time"])
        return last


def brief(status: RunStatus) -> dict[str, Any]:
    """What the audit log keeps of a run."""
    keys = (
        "run_id",
        "job_id",
        "model",
        "version",
        "metrics",
        "dataset_versions",
        "config_hash",
        "git_commit",
    )
    return {k: getattr(status, k) for k in keys}


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_duration(text: str | int | float) -> timedelta:
    if isinstance(text, (int, float)):
        return timedelta(seconds=float(text))
    m = _DURATION.match(str(text))
    if not m:
        raise DiagnosticError(Diagnostic(f"`{text}` is not a duration", hint="write e.g. 90s, 30m, 1h or 2d"))
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return timedelta(seconds=float(m.group(1)) * unit)


def _human(delta: timedelta) -> str:
    s = int(delta.total_seconds())
    return f"{s // 3600}h{(s % 3600) // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
