"""`mlops-decl plan`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mlops_decl.cli.common import (
    backend_for,
    lock_options,
    locked,
    parallelism_option,
    var_options,
    workspace,
)
from mlops_decl.cli.output import JSON_DIAGNOSTICS, echo_json, handle_errors
from mlops_decl.diagnostics import Diagnostic, DiagnosticError


def plan_options(fn):
    for opt in reversed(
        [
            click.option(
                "--target",
                "-target",
                "targets",
                multiple=True,
                metavar="ADDR",
                help="Plan only ADDR and its dependencies.",
            ),
            click.option(
                "--replace",
                "-replace",
                "replace",
                multiple=True,
                metavar="ADDR",
                help="Plan to replace ADDR.",
            ),
            click.option(
                "--refresh-only",
                "-refresh-only",
                is_flag=True,
                help="Only record changes made outside mlops-decl.",
            ),
            click.option(
                "--no-refresh",
                "-no-refresh",
                "--refresh=false",
                "-refresh=false",
                is_flag=True,
                help="Do not read live state first.",
            ),
            parallelism_option,
        ]
    ):
        fn = opt(fn)
    return var_options(lock_options(fn))


def build_plan(ws, store, mode: str, targets, replace, refresh_only, no_refresh, parallelism, quiet=False):
    """Read the state and make a plan; the caller loaded the workspace and holds the lock."""
    from mlops_decl.cli.views.progress import HumanHooks
    from mlops_decl.planner import PlanOptions, make_plan

    state = store.read()
    opts = PlanOptions(
        targets=list(targets),
        replace=list(replace),
        mode="refresh-only" if refresh_only else mode,
        refresh=not no_refresh,
        parallelism=parallelism,
    )
    hooks = HumanHooks(show=not quiet)
    return make_plan(ws, state, opts, hooks)


@click.command()
@plan_options
@click.option("--destroy", "-destroy", is_flag=True, help="Plan to destroy everything.")
@click.option("--out", "-out", "out", metavar="FILE", help="Save the plan to FILE for `apply FILE`.")
@click.option("--json", "-json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode", "-detailed-exitcode", is_flag=True, help="Exit 2 when there are changes."
)
@handle_errors
def plan(
    targets,
    replace,
    refresh_only,
    no_refresh,
    parallelism,
    var_files,
    cli_vars,
    lock,
    destroy,
    out,
    as_json,
    detailed_exitcode,
):
    """Show what apply would change."""
    if as_json:  # a mistake is JSON diagnostics on stdout as well, as Terraform's -json
        click.get_current_context().meta[JSON_DIAGNOSTICS] = True
    from mlops_decl.cli.views.plan_human import render_plan
    from mlops_decl.cli.views.plan_json import plan_json
    from mlops_decl.plan import save_plan

    ws = workspace(var_files, cli_vars)  # config mistakes stop here, before any lock or state file
    store, lk = backend_for(ws.root, ws)
    with locked(lk, "plan", ws.root, lock):
        p = build_plan(
            ws,
            store,
            "destroy" if destroy else "normal",
            targets,
            replace,
            refresh_only,
            no_refresh,
            parallelism,
            quiet=as_json,
        )
    if as_json:
        echo_json(plan_json(p))
    else:
        if p.refreshed:
            click.echo()
        click.echo(render_plan(p), nl=False)
        if not no_refresh and p.mode == "normal":
            click.echo(policy_status(ws, store), nl=False)
        if p.mode == "normal":
            click.echo(schedule_status(ws), nl=False)
    if out:
        try:
            save_plan(p, Path(out))
        except OSError as exc:
            raise DiagnosticError(
                Diagnostic(f"cannot save the plan to {out}: {exc.strerror}", hint="give -out a writable path")
            ) from None
        if not as_json:
            click.echo(
                f"\nSaved the plan to: {out}\n\nTo perform exactly these actions, run:\n    mlops-decl apply {out}"
            )
    if detailed_exitcode and p.has_changes:
        sys.exit(2)


def schedule_status(ws) -> str:
    """Each configured schedule's next run, as it will be once applied."""
    from datetime import datetime, timezone

    from mlops_decl.schedule import next_run, scheduled

    found = scheduled(ws.project, ws.var_lookup)
    if not found:
        return ""
    now = datetime.now(timezone.utc)
    width = max(len(a) for a in found)
    lines = [f"  {a.ljust(width)}  {e:<14} next run {next_run(e, now):%Y-%m-%d %H:%M} UTC" for a, e in found.items()]
    return "\nSchedules (run by `mlops-decl schedule run` or `schedule tick`):\n" + "\n".join(lines) + "\n"


def policy_status(ws, store) -> str:
    """For each applied registry_policy: which gates its model's newest unpromoted version passes."""
    if not any(rc.kind == "registry_policy" for rc in ws.project.resources.values()):
        return ""  # nothing to show: skip re-reading the state
    state = store.read()
    policies = sorted(a for a, rs in state.resources.items() if rs.kind == "registry_policy")
    if not policies:
        return ""
    from mlops_decl.runtime import Runtime  # the action catalog and results: only with a policy applied

    rt = Runtime(ws, state, emit=lambda msg: None)
    lines = []
    for address in policies:
        status = rt.gate_status(address)
        if not status or status.get("version") is None:
            continue
        lines.append(
            f"  {address}: model {status.get('model')} version {status.get('version')} -> {status.get('alias')}"
            + (" (ready to promote)" if status.get("passed") else "")
        )
        for g in status.get("gates", []):
            verdict = click.style("pass", fg="green") if g.get("passed") else click.style("FAIL", fg="red")
            lines.append(f"      {verdict}  {g.get('gate')}: {g.get('evidence')}")
    if not lines:
        return ""
    return "\nRegistry policies (newest unpromoted version):\n" + "\n".join(lines) + "\n"
