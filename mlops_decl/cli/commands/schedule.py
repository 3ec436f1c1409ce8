"""`mlops-decl schedule tick` (once, for cron or CI) and `mlops-decl schedule run` (a loop)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from mlops_decl.cli.common import runtime, var_options
from mlops_decl.cli.output import handle_errors

POLL = 60.0  # seconds: the loop rereads the config and state at least this often


@click.group()
def schedule() -> None:
    """Run the training pipelines and monitor checks whose `schedule` fell due (UTC)."""


@schedule.command("tick", short_help="Run once what fell due since the last tick, then exit.")
@var_options
@handle_errors
def tick(var_files: tuple[str, ...], cli_vars: tuple[str, ...]) -> None:
    """Run once what fell due since the last tick, then exit: for your cron or CI.

    Exit 1 if a job failed. Two ticks never run the same occurrence."""
    from mlops_decl.schedule_runner import tick as run_tick
    from mlops_decl.schedule_runner import upcoming

    with _interrupts() as (stop, running):
        rt = runtime(var_files, cli_vars)
        outcomes = run_tick(rt, stop=stop, on_start=lambda a, due: _started(running, a, due))
        running.clear()
    for o in outcomes:
        _show(o)
    if not outcomes:
        click.echo("Nothing was due.")
    _next(upcoming(rt, datetime.now(timezone.utc)))
    if any(not o.ok for o in outcomes):
        sys.exit(1)


@schedule.command("run")
@var_options
@handle_errors
def run(var_files: tuple[str, ...], cli_vars: tuple[str, ...]) -> None:
    """Run due jobs as they fall due, in the foreground, until Ctrl-C.

    The first Ctrl-C lets a running job finish, then exits; a second abandons it."""
    from mlops_decl.schedule_runner import tick as run_tick
    from mlops_decl.schedule_runner import upcoming

    click.echo("Running scheduled jobs (times in UTC); Ctrl-C stops.")
    shown: list[tuple[str, str, datetime]] | None = None
    with _interrupts() as (stop, running):
        while not stop.is_set():
            rt = runtime(var_files, cli_vars)  # each round: an apply meanwhile may change schedules
            for o in run_tick(rt, stop=stop, on_start=lambda a, due: _started(running, a, due)):
                running.clear()
                _show(o)
            now = datetime.now(timezone.utc)
            soon = upcoming(rt, now)
            if soon != shown:
                _next(soon)
                shown = soon
            wait = min((t for _, _, t in soon), default=now + timedelta(seconds=POLL)) - now
            stop.wait(min(max(wait.total_seconds(), 0.5), POLL))
    click.echo("Stopped.")


def _started(running: threading.Event, address: str, due: datetime) -> None:
    running.set()
    click.echo(click.style(f"{address}: due {due:%Y-%m-%d %H:%M}, running", bold=True))


def _show(o: Any) -> None:
    if o.ok:
        click.echo(click.style(f"{o.address}: ", fg="green") + o.summary)
    else:
        click.echo(click.style(f"{o.address}: FAILED: ", fg="red") + o.summary, err=True)


def _next(soon: list[tuple[str, str, datetime]]) -> None:
    for address, expr, at in soon:
        click.echo(f"  next: {address} ({expr}) at {at:%Y-%m-%d %H:%M} UTC")


@contextlib.contextmanager
def _interrupts() -> Iterator[tuple[threading.Event, threading.Event]]:
    """(stop, running). Ctrl-C (or SIGTERM) sets stop: nothing new is claimed, a running job
    finishes. A second while a job runs abandons it: its audit intent stays open, and the next
    run of that pipeline records what it left (mlops_decl/recovery.py)."""
    stop, running = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set() and running.is_set():
            raise KeyboardInterrupt
        stop.set()
        if running.is_set():
            click.echo("\nStopping once the running job finishes; Ctrl-C again abandons it.", err=True)

    previous = signal.signal(signal.SIGINT, on_signal)
    previous_term = signal.signal(signal.SIGTERM, on_signal)
    try:
        yield stop, running
    except KeyboardInterrupt:
        click.echo(
            "Abandoned the running job. Its claim stays, so no tick runs that occurrence again; "
            "the audit log keeps its open intent, which the next run of the pipeline closes.",
            err=True,
        )
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
