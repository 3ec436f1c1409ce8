"""`mlops-decl apply` and `mlops-decl destroy`."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from mlops_decl.cli.commands.plan import build_plan, plan_options
from mlops_decl.cli.common import (
    backend_for,
    confirm,
    lock_options,
    locked,
    parallelism_option,
    read_saved_plan,
    require_tty_or,
    var_options,
    workspace,
)
from mlops_decl.cli.output import handle_errors, print_diagnostics
from mlops_decl.diagnostics import Diagnostic, DiagnosticError


@contextlib.contextmanager
def graceful_interrupt() -> Iterator[tuple[threading.Event, threading.Event]]:
    """(stop, abandon). First Ctrl-C (or SIGTERM): start nothing new, let running calls
    finish, save state, unlock. Second: stop waiting for running calls; state and lock are
    still looked after. A third raises KeyboardInterrupt."""
    stop, abandon = threading.Event(), threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop, abandon
        return

    def on_signal(signum: int, frame: Any) -> None:
        if abandon.is_set():
            raise KeyboardInterrupt
        if stop.is_set():
            abandon.set()
            click.echo(
                "\nSecond interrupt: no longer waiting for running operations; they may still finish "
                "in the background. Saving state and releasing the lock.",
                err=True,
            )
            return
        stop.set()
        click.echo(
            "\nInterrupt received: starting nothing new, waiting for running operations to finish; "
            "state will be saved. Press Ctrl-C again to stop waiting.",
            err=True,
        )

    previous = signal.signal(signal.SIGINT, on_signal)
    previous_term = signal.signal(signal.SIGTERM, on_signal)
    try:
        yield stop, abandon
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)


def call_timeout_option(fn: Any) -> Any:
    def set_timeout(ctx: Any, param: Any, value: str | None) -> None:
        from mlops_decl.retry import parse_timeout, set_call_timeout

        if value is not None:
            try:
                set_call_timeout(parse_timeout(value, "--call-timeout") or 0.0)
            except DiagnosticError:
                raise click.BadParameter(f"{value!r} is not a number of seconds >= 0 (0: no limit)") from None

    return click.option(
        "--call-timeout",
        "-call-timeout",
        metavar="SECONDS",
        default=None,
        expose_value=False,
        callback=set_timeout,
        help="Give up on a provider call after SECONDS (default 600, or MLOPS_CALL_TIMEOUT; 0: no limit).",
    )(fn)


def run_apply(ws: Any, p: Any, store: Any, parallelism: int, destroying: bool = False) -> None:
    from mlops_decl.apply import apply_plan
    from mlops_decl.cli.views.progress import HumanHooks
    from mlops_decl.plan import Action

    hooks = HumanHooks(quiet_refresh=True)
    with graceful_interrupt() as (stop, abandon):
        result = apply_plan(ws, p, store, hooks, parallelism, stop, abandon)
    added = result.count(Action.CREATE) + result.count(Action.REPLACE)
    changed = result.count(Action.UPDATE)
    destroyed = result.count(Action.DELETE) + result.count(Action.REPLACE)
    if result.ok:
        word = "Destroy complete!" if destroying else "Apply complete!"
        click.echo(
            click.style(f"\n{word}", fg="green", bold=True)
            + (
                f" Resources: {destroyed} destroyed."
                if destroying
                else f" Resources: {added} added, {changed} changed, {destroyed} destroyed."
            )
        )
        if ws.project.outputs:
            _print_outputs(store)
        return
    click.echo("", err=True)
    print_diagnostics(result.failed)
    verb = "Destroy" if destroying else "Apply"
    if result.interrupted:
        lines = [
            f"{verb} interrupted. Resources: {added} added, {changed} changed, {destroyed} destroyed before it stopped."
        ]
    else:
        lines = [
            f"{verb} failed. Resources: {added} added, {changed} changed, {destroyed} destroyed before the failure."
        ]
    if result.done:
        lines.append("  succeeded: " + ", ".join(a for a, _ in result.done))
    if result.failed:
        lines.append("  failed:    " + ", ".join(d.address or "?" for d in result.failed))
    if result.skipped:
        lines.append(
            "  skipped:   " + ", ".join(f"{a} (needs {c})" for a, c in sorted(result.skipped.items()))
        )
    if result.abandoned:
        lines.append("  abandoned while running (may still finish): " + ", ".join(result.abandoned))
    if result.cancelled:
        lines.append("  not started (interrupted): " + ", ".join(result.cancelled))
    lines.append(
        "State was saved after every change and the lock released; run `mlops-decl plan` to see what is left."
    )
    click.echo(click.style(lines[0], fg="red", bold=True) + "\n" + "\n".join(lines[1:]), err=True)
    sys.exit(1)


def _print_outputs(store: Any) -> None:
    from mlops_decl.cli.views.state_human import render_outputs

    outputs = store.read().outputs
    if outputs:
        click.echo(click.style("\nOutputs:\n", bold=True))
        click.echo(render_outputs(outputs), nl=False)


def _plan_and_apply(
    mode: str,
    auto_approve: bool,
    targets,
    replace,
    refresh_only,
    no_refresh,
    parallelism,
    var_files,
    cli_vars,
    lock,
) -> None:
    from mlops_decl.cli.views.plan_human import render_plan

    destroying = mode == "destroy"
    require_tty_or(auto_approve, "destroy" if destroying else "apply")
    ws = workspace(var_files, cli_vars)
    store, lk = backend_for(ws.root, ws)
    with locked(lk, mode if mode != "normal" else "apply", ws.root, lock):
        p = build_plan(ws, store, mode, targets, replace, refresh_only, no_refresh, parallelism)
        click.echo()
        click.echo(render_plan(p), nl=False)
        if not p.has_changes:
            from mlops_decl.apply_records import apply_changes_state, check_audit_log

            check_audit_log(ws)  # a damaged audit log is said on every apply, changes or not
            if apply_changes_state(p, store.read()):
                run_apply(ws, p, store, parallelism)  # records what the refresh saw, lifecycle flags
            return
        if not auto_approve:
            question = (
                "\nDo you really want to destroy all managed objects?"
                if destroying
                else "\nDo you want to perform these actions?"
            )
            if not confirm(question):
                click.echo("Destroy cancelled." if destroying else "Apply cancelled.")
                sys.exit(1)
        click.echo()
        run_apply(ws, p, store, parallelism, destroying)


@click.command()
@click.argument("planfile", required=False, type=click.Path())
@click.option("--auto-approve", "-auto-approve", is_flag=True, help="Skip the confirmation.")
@plan_options
@call_timeout_option
@handle_errors
def apply(
    planfile, auto_approve, targets, replace, refresh_only, no_refresh, parallelism, var_files, cli_vars, lock
):
    """Make the platform match the configuration (or apply a saved PLANFILE exactly)."""
    if planfile is None:
        _plan_and_apply(
            "normal",
            auto_approve,
            targets,
            replace,
            refresh_only,
            no_refresh,
            parallelism,
            var_files,
            cli_vars,
            lock,
        )
        return
    _apply_saved(Path(planfile), parallelism, var_files, cli_vars, lock)


def _apply_saved(path: Path, parallelism: int, var_files, cli_vars, lock: bool) -> None:
    import hashlib

    from mlops_decl.plan import changed_config_files

    p = read_saved_plan(path)
    ws = workspace(var_files, cli_vars)
    changed = changed_config_files(p.config_files, ws.project.files)
    if changed:
        raise DiagnosticError(
            Diagnostic(
                f"the configuration changed since {path} was made: {', '.join(changed)}",
                hint="the plan shows what the old configuration does; review the new one with "
                "`mlops-decl plan -out FILE` and apply that",
            )
        )
    for name, value in p.variables.items():
        if name in ws.variables.values:
            ws.variables.values[name] = value
    for name, digest in p.sensitive_variables.items():
        have = ws.variables.values.get(name)
        if hashlib.sha256(repr(have).encode()).hexdigest() != digest:
            raise DiagnosticError(
                Diagnostic(
                    f"sensitive variable `{name}` differs from the value the plan was made with",
                    hint="sensitive values are not stored in plan files: give the same value again (-var, --var-file or MLOPS_VAR_)",
                )
            )
    store, lk = backend_for(ws.root, ws)
    with locked(lk, "apply", ws.root, lock):
        from mlops_decl.plan_verify import verify_saved_plan

        verify_saved_plan(ws, store.read(), p, str(path))  # what was reviewed is what is applied
        run_apply(ws, p, store, parallelism, p.mode == "destroy")


@click.command()
@click.option("--auto-approve", "-auto-approve", is_flag=True, help="Skip the confirmation.")
@click.option(
    "--target",
    "-target",
    "targets",
    multiple=True,
    metavar="ADDR",
    help="Destroy only ADDR and what depends on it.",
)
@parallelism_option
@lock_options
@var_options
@call_timeout_option
@handle_errors
def destroy(auto_approve, targets, parallelism, lock, var_files, cli_vars):
    """Destroy every managed object, in reverse dependency order; honours prevent_destroy."""
    _plan_and_apply(
        "destroy", auto_approve, targets, (), False, False, parallelism, var_files, cli_vars, lock
    )
