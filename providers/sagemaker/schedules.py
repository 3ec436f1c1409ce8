"""Native schedules on AWS: a cron expression of the config (five fields or an alias, UTC;
mlops_decl/schedule.py checks its syntax at validate) in EventBridge's six-field form, and
a training pipeline's schedule as an EventBridge Scheduler schedule whose target starts the
pipeline (SageMaker's StartPipelineExecution target).

EventBridge's `cron(minutes hours day-of-month month day-of-week year)` differs from cron:
one of the two day fields must be `?` (it cannot run on "the 1st or a Monday", which cron
can), days of the week count 1-7 from Sunday (cron: 0-6, 7 is Sunday too; names are the same
in both, so they are written as names), the day of the week takes no `/` step, and a `*/n`
step starts from the field's first value. What EventBridge cannot say is a ConfigError at
plan, before anything is applied.
"""

from __future__ import annotations

import re
from typing import Any

from mlops_decl.provider import ConfigError

from .client import Clients, absent_ok, call, found

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
HINT = 'e.g. "0 3 * * 1" (Mondays at 03:00 UTC) or "0 0 1 * *" (the 1st of each month)'
TIMEZONE = "UTC"  # the config's schedules are UTC


def _problem(expr: str, why: str, field: tuple[str | int, ...]) -> ConfigError:
    return ConfigError(f"schedule `{expr}` cannot run on EventBridge: {why}", field=field, hint=HINT)


def _step_from_first(value: str, first: int) -> str:
    """`*/n` -> `first/n`: EventBridge wants a start value before a step."""
    return f"{first}/{value[2:]}" if value.startswith("*/") else value


def _day(token: str, expr: str, field: tuple[str | int, ...]) -> str:
    if token.upper() in DAYS:
        return token.upper()
    if not token.isdigit() or int(token) > 7:
        raise _problem(expr, f"`{token}` is not a day of the week", field)
    return DAYS[int(token) % 7]


def _weekdays(value: str, expr: str, field: tuple[str | int, ...]) -> str:
    """Cron's days of the week as EventBridge's names (SUN-SAT)."""
    if "/" in value:
        raise _problem(expr, "a day-of-week step (`/`) is not allowed; list the days", field)
    out = []
    for part in value.split(","):
        low, _, high = part.partition("-")
        if not high:
            out.append(_day(low, expr, field))
            continue
        first, last = _day(low, expr, field), _day(high, expr, field)
        if high == "7":  # cron's 7 is Sunday, the end of a range reaching it
            out.append(f"{first}-SAT,SUN" if first != "SUN" else "SUN-SAT")
        elif DAYS.index(first) > DAYS.index(last):
            raise _problem(expr, f"the range `{part}` runs backwards", field)
        else:
            out.append(f"{first}-{last}")
    return ",".join(out)


def eventbridge_cron(expr: str, field: tuple[str | int, ...] = ("schedule",)) -> str:
    """`0 3 * * 1` -> `cron(0 3 ? * MON *)`; a ConfigError at `field` when EventBridge has no
    way to say it."""
    text = MACROS.get(expr.strip(), expr.strip())
    parts = text.split()
    if len(parts) != 5:
        raise _problem(expr, "write five cron fields or an alias such as @daily", field)
    minute, hour, dom, month, dow = parts
    if any(re.search(r"[^0-9A-Za-z*,/\-]", p) for p in parts):
        raise _problem(expr, "use numbers, names, `*`, `,`, `-` and `/` only", field)
    minute, hour = _step_from_first(minute, 0), _step_from_first(hour, 0)
    dom, month = _step_from_first(dom, 1), _step_from_first(month, 1)
    if dom != "*" and dow != "*":
        raise _problem(
            expr,
            "it names both a day of the month and a day of the week; EventBridge takes one of them "
            "(the other is `?`)",
            field,
        )
    if dow == "*":
        dom, dow = ("?", "*") if dom == "*" else (dom, "?")
    else:
        dom, dow = "?", _weekdays(dow, expr, field)
    return f"cron({minute} {hour} {dom} {month.upper()} {dow} *)"


def every_few_hours(expr: str, field: tuple[str | int, ...] = ("schedule",)) -> str:
    """The EventBridge form of a monitor's schedule, which SageMaker runs only hourly, daily or
    every few hours (`cron(0 H ? * * *)`, `cron(0 H/N ? * * *)`, `cron(0 * ? * * *)`)."""
    converted = eventbridge_cron(expr, field)
    minute, hour, dom, month, dow, _ = converted[5:-1].split()
    if minute != "0" or (dom, month, dow) != ("?", "*", "*") or not re.fullmatch(r"\*|\d+(/\d+)?", hour):
        raise ConfigError(
            f"SageMaker runs a monitoring schedule hourly, daily or every few hours, not `{expr}`",
            field=field,
            hint='e.g. "@hourly", "@daily", "0 6 * * *" or "0 */4 * * *"',
        )
    return converted


def problems(
    desired: dict[str, Any], convert: Any = eventbridge_cron, default: str | None = None
) -> list[ConfigError]:
    """A resource's `schedule` that AWS cannot run, for a handler's plan-time validate (which
    runs even while references are unknown, unlike plan)."""
    schedule = desired.get("schedule") or default
    if not isinstance(schedule, str):  # unset, or not known before apply
        return []
    try:
        convert(schedule)
    except ConfigError as exc:
        return [exc]
    return []


# -- a training pipeline's schedule on EventBridge Scheduler ----------------------------------
def read_schedule(clients: Clients, name: str) -> str | None:
    """The live schedule's expression, or None when there is none."""
    got = found(clients.client("scheduler").get_schedule, f"read schedule {name}", Name=name)
    return None if got is None else str(got.get("ScheduleExpression"))


def put_schedule(
    clients: Clients, name: str, expression: str, pipeline_arn: str, role: str, identity: str
) -> None:
    """Make the schedule start `pipeline_arn` on `expression` (EventBridge form): created, or
    updated when it exists (an earlier apply whose answer was lost made it)."""
    scheduler = clients.client("scheduler")
    spec: dict[str, Any] = {
        "Name": name,
        "ScheduleExpression": expression,
        "ScheduleExpressionTimezone": TIMEZONE,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Description": f"mlops-decl: {identity}"[:512],
        "State": "ENABLED",
        "Target": {
            "Arn": pipeline_arn,
            "RoleArn": role,
            "SageMakerPipelineParameters": {"PipelineParameterList": []},
        },
    }
    if found(scheduler.get_schedule, f"read schedule {name}", Name=name) is None:
        call(scheduler.create_schedule, f"create schedule {name}", **spec)
    else:
        call(scheduler.update_schedule, f"update schedule {name}", **spec)


def drop_schedule(clients: Clients, name: str) -> None:
    absent_ok(clients.client("scheduler").delete_schedule, f"delete schedule {name}", Name=name)
