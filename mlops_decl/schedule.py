"""Schedules: the cron expressions on training pipelines and monitors, checked at validate, and
which occurrence of each fell due. Provider-neutral: the local provider's `schedule run|tick`
uses it (mlops_decl/schedule_runner.py), and a cloud provider mapping a schedule onto its own
scheduler reads the same expressions.

An expression is five cron fields (minute hour day-of-month month day-of-week) or one of the
aliases below, always in UTC. croniter is imported only when a project has a schedule, so
`validate` and `plan` of one without pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from mlops_decl.config.expressions import UNKNOWN, contains_unknown
from mlops_decl.diagnostics import Diagnostic

if TYPE_CHECKING:
    from mlops_decl.config.expressions import Lookup
    from mlops_decl.config.project import Project, ResourceConfig

KINDS = ("training_pipeline", "monitor")
ALIASES = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")
HINT = (
    'write five fields, minute hour day-of-month month day-of-week, in UTC: e.g. "0 3 * * 1" '
    '(Mondays at 03:00) or "*/15 * * * *"; or one of ' + ", ".join(ALIASES)
)
_PROBE = datetime(2000, 1, 1, tzinfo=timezone.utc)


def problem(expr: Any) -> str | None:
    """Why expr is not a schedule, or None when it is one."""
    if not isinstance(expr, str):
        return f"`schedule` must be a cron expression, not {type(expr).__name__}"
    text = expr.strip()
    if text.startswith("@"):
        return None if text in ALIASES else f"`{text}` is not a schedule alias"
    fields = text.split()
    if len(fields) != 5:
        return (
            f"`{text}` has {len(fields)} field{'s' if len(fields) != 1 else ''}; a cron expression has five"
        )
    if _plainly_valid(fields):
        return None
    from croniter import croniter

    try:
        croniter(text, _PROBE).get_next(datetime)
    except ValueError as exc:  # croniter's errors are ValueErrors: out of range, never matches
        return f"`{text}` is not a valid cron expression ({exc})"
    return None


# (lowest, highest) of minute, hour, day of month, month, day of week
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _plainly_valid(fields: list[str]) -> bool:
    """True for the common shapes croniter certainly accepts: each field `*`, `*/N` or a number
    in range, and a day of month that every month has unless the month is `*`. Importing
    croniter costs `validate` about 15%; everything else (ranges, lists, names) is its to judge."""
    for i, f in enumerate(fields):
        low, high = _RANGES[i]
        if f == "*":
            continue
        step = f[2:] if f.startswith("*/") else None
        number = step if step is not None else f
        if not number.isdigit():
            return False
        n = int(number)
        if step is not None and not 1 <= n <= high:
            return False
        if step is None and not low <= n <= high:
            return False
        if i == 2 and step is None and n > 28 and fields[3] != "*":
            return False  # e.g. 30 February: croniter finds whether it ever happens
    return True


def resolved(expr: Any, lookup: Lookup | None) -> Any:
    """expr with its variables put in; UNKNOWN while it reads a resource's attribute (or no
    lookup was given), which only apply knows."""
    if not (isinstance(expr, str) and "${" in expr):
        return expr
    if lookup is None:
        return UNKNOWN
    from mlops_decl.config.expressions import render

    try:
        return render(expr, lambda ref: lookup(ref) if ref.kind == "var" else UNKNOWN)
    except (ValueError, KeyError):  # a malformed or dangling reference: the reference checks say so
        return UNKNOWN


def check_schedules(resources: Iterable[ResourceConfig], lookup: Lookup | None = None) -> list[Diagnostic]:
    """Every `schedule` whose value is known (a literal, or read from variables through
    `lookup`) is a valid expression; a scheduled monitor has an endpoint whose captured inputs
    it checks (without one a check needs --data, which no schedule gives)."""
    out = []
    for rc in resources:
        if rc.kind not in KINDS or rc.body.get("schedule") is None:
            continue
        written = rc.body["schedule"]
        expr = resolved(written, lookup)
        if contains_unknown(expr):
            continue  # known only at apply; `schedule tick` reports it then
        why = problem(expr)
        if why is not None:
            came = f" (`schedule: {written}`)" if expr is not written else ""
            out.append(Diagnostic(f"{rc.address}: {why}{came}", rc.source(("schedule",)), HINT))
        elif rc.kind == "monitor" and not rc.body.get("endpoint"):
            out.append(
                Diagnostic(
                    f"{rc.address}: a scheduled check reads the inputs the monitor's endpoint "
                    "captured, and this monitor has no endpoint",
                    rc.source(("schedule",)),
                    "add `endpoint: ${endpoint.NAME}`, or remove `schedule` and run "
                    "`mlops-decl monitor check ADDR --data FILE` from your own job",
                )
            )
    return out


def next_run(expr: str, after: datetime) -> datetime:
    """The first occurrence strictly after `after` (UTC)."""
    from croniter import croniter

    got: datetime = croniter(expr.strip(), after.astimezone(timezone.utc)).get_next(datetime)
    return got


def latest_due(expr: str, since: datetime, now: datetime) -> datetime | None:
    """The latest occurrence in (since, now], or None when none fell in it."""
    from croniter import croniter

    # get_prev from just past `now` is the latest occurrence at or before it.
    start = now.astimezone(timezone.utc) + timedelta(microseconds=1)
    got: datetime = croniter(expr.strip(), start).get_prev(datetime)
    return got if got > since else None


def scheduled(project: Project, lookup: Lookup | None = None) -> dict[str, str]:
    """address -> expression of every resource in the config with a valid schedule known
    before apply (a literal, or read from variables through `lookup`)."""
    out = {}
    for address, rc in sorted(project.resources.items()):
        expr = resolved(rc.body.get("schedule"), lookup)
        if rc.kind in KINDS and isinstance(expr, str) and problem(expr) is None:
            out[address] = expr.strip()
    return out
