"""Running what fell due: `schedule tick` (once, for the user's cron or CI) and `schedule run`
(a foreground loop of ticks). Due jobs run through the same Runtime paths as `run` and
`monitor check`, so each run and drift check is audited as those are.

Which occurrence a tick runs (docs/commands.md, Schedules):
- Each job is claimed before it runs by a `schedule` audit entry naming the occurrence and the
  time the tick covered (`through`), written under the backend's named lock "schedule". The
  audit log lives with the state backend, so ticks on several machines sharing it see each
  other's claims: two ticks never run the same occurrence, and a claimed job is not run again
  even if it failed or was abandoned (at most once per occurrence).
- A tick runs a job when an occurrence fell in (its last claim's `through`, now]; however
  many occurrences a stopped cron missed, the job runs once, for the latest.
- With no claim yet, the window starts at the last apply that created or changed the resource
  (its audit entry): nothing runs that was only due before the schedule existed. Without such
  an entry (an imported resource) the first tick records a starting point and runs nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.schedule import KINDS, latest_due, next_run, problem
from mlops_decl.state import LockHeld, holding

LOCK = "schedule"
LOCK_WAIT = 60.0  # seconds: another tick holds the lock only while it claims one job
EVENT = "schedule"


@dataclass
class Outcome:
    address: str
    due: datetime
    ok: bool
    summary: str  # what the run or check did, or why it failed


def schedules(rt: Any) -> dict[str, str]:
    """address -> expression of every applied training pipeline and monitor with a schedule."""
    out = {}
    for address, rs in sorted(rt.state.resources.items()):
        expr = rs.attributes.get("schedule")
        if rs.kind in KINDS and isinstance(expr, str) and expr.strip():
            out[address] = expr.strip()
    return out


def tick(
    rt: Any,
    now: datetime | None = None,
    stop: threading.Event | None = None,
    on_start: Callable[[str, datetime], None] = lambda address, due: None,
) -> list[Outcome]:
    """Run each job due at `now` (default: the current time), one after another; `stop` set
    means: claim nothing more (the job running goes on to its end)."""
    now = now or datetime.now(timezone.utc)
    outcomes = []
    for address, expr in schedules(rt).items():
        if stop is not None and stop.is_set():
            break
        why = problem(expr)
        if why is not None:
            raise DiagnosticError(Diagnostic(f"{address}: {why}", hint="fix its `schedule` and apply"))
        due = _claim(rt, address, expr, now)
        if due is None:
            continue
        on_start(address, due)
        outcomes.append(_run(rt, address, due))
    return outcomes


def upcoming(rt: Any, now: datetime) -> list[tuple[str, str, datetime]]:
    """(address, expression, next run) of every applied schedule, soonest first."""
    found = [(a, e, next_run(e, now)) for a, e in schedules(rt).items() if problem(e) is None]
    return sorted(found, key=lambda t: (t[2], t[0]))


def _claim(rt: Any, address: str, expr: str, now: datetime) -> datetime | None:
    """Under the schedule lock: the occurrence this tick runs, recorded as claimed; None if
    nothing is due (or it is another tick's)."""
    try:
        with holding(rt.backend.lock(LOCK), "schedule tick", LOCK_WAIT):
            since = _window_start(rt.audit.entries(), address)
            if since is None:
                rt.audit.append(EVENT, {"address": address, "schedule": expr, "through": _iso(now)})
                return None
            due = latest_due(expr, since, now)
            if due is not None:
                rt.audit.append(
                    EVENT, {"address": address, "schedule": expr, "due": _iso(due), "through": _iso(now)}
                )
            return due
    except LockHeld as exc:
        raise DiagnosticError(
            Diagnostic(
                f"another `schedule tick` has held the schedule lock for over {LOCK_WAIT:g}s: {exc}",
                hint="if that process is gone, clear the lock as the message says",
            )
        ) from None


def _window_start(entries: Iterable[dict[str, Any]], address: str) -> datetime | None:
    """Where the due window of `address` starts: its last claim, else its last apply."""
    claimed = applied = None
    for e in entries:
        data = e.get("data") or {}
        if e.get("event") == EVENT and data.get("address") == address and data.get("through"):
            claimed = datetime.fromisoformat(data["through"])
        elif e.get("event") == "apply" and any(
            c.get("address") == address and c.get("action") in ("create", "update", "replace")
            for c in data.get("changes") or []
        ):
            applied = datetime.fromisoformat(e["time"])
    return claimed or applied


def _run(rt: Any, address: str, due: datetime) -> Outcome:
    try:
        if address.startswith("training_pipeline."):
            status = rt.run(address)
            version = f", registered version {status.version}" if status.version is not None else ""
            return Outcome(
                address, due, status.status == "succeeded", f"run {status.run_id} {status.status}{version}"
            )
        report = rt.check(address, None)
        verdict = "dataset drift" if report.get("dataset_drift") else "no dataset drift"
        fired = report.get("on_drift") or {}
        then = "; retrained" if fired.get("retrained") else ""
        return Outcome(
            address, due, True, f"{verdict} ({report.get('drifted_share', 0):.0%} of features){then}"
        )
    except DiagnosticError as exc:
        d = exc.diagnostics[0]
        rt.audit.append(EVENT, {"address": address, "due": _iso(due), "failed": d.summary})
        return Outcome(address, due, False, d.summary + (f" ({d.hint})" if d.hint else ""))


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="seconds")
