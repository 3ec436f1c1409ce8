"""`mlops-decl audit [verify]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from mlops_decl.audit import EVENTS
from mlops_decl.cli.output import handle_errors


@click.group(invoke_without_command=True)
@click.option("--json", "-json", "as_json", is_flag=True, help="One JSON entry a line.")
@click.option(
    "--event",
    "-event",
    "events",
    multiple=True,
    type=click.Choice(EVENTS),
    help="Only these events.",
)
@click.pass_context
@handle_errors
def audit(ctx: click.Context, as_json: bool, events: tuple[str, ...]) -> None:
    """List applies, runs, approvals, promotions and drift events (hash-chained log)."""
    if ctx.invoked_subcommand:
        return
    from mlops_decl.audit import audit_log
    from mlops_decl.cli.common import backend_settings

    for e in audit_log(Path.cwd(), backend_settings(Path.cwd())).entries():
        if events and e.get("event") not in events:
            continue
        if as_json:
            click.echo(json.dumps(e, sort_keys=True))
            continue
        click.echo(f"{e['seq']:>5}  {e['time'][:19]}  {e['who']:<24} {e['event']:<10} {_summary(e)}")


def _unanchored(n: int) -> str:
    if n == 0:
        return "nothing to anchor yet."
    return (
        "the state records no anchor, so a cut-off end or a rewritten chain would not show; "
        "the next apply or run records one."
    )


def _summary(e: dict[str, Any]) -> str:
    d = e.get("data") or {}
    ev = e.get("event")
    if ev == "apply":
        c = d.get("counts", {})
        return f"{c.get('add', 0)} added, {c.get('change', 0)} changed, {c.get('destroy', 0)} destroyed; config {str(d.get('config_hash'))[:12]} {'ok' if d.get('ok') else 'FAILED'}"
    if ev == "intent":
        return f"begin {d.get('event')} of " + str(d.get("pipeline") or d.get("model"))
    if ev == "started":
        job = f" as job {d.get('job_id')}" if d.get("job_id") not in (None, d.get("run_id")) else ""
        return f"{d.get('pipeline')} run {d.get('run_id')} started{job}"
    if ev == "schedule":
        if d.get("failed"):
            return f"{d.get('address')} due {d.get('due')} FAILED: {d.get('failed')}"
        if d.get("due"):
            return f"{d.get('address')} ({d.get('schedule')}) due {d.get('due')}: claimed"
        return f"{d.get('address')} ({d.get('schedule')}): schedule starts {d.get('through')}"
    if d.get("failed"):
        return f"{d.get('pipeline') or d.get('model')} FAILED: {d.get('failed')}"
    if ev == "run":
        m = ", ".join(
            f"{k}={v:.3f}" for k, v in sorted((d.get("metrics") or {}).items()) if isinstance(v, float)
        )
        recovered = (
            " (recovered: the run was interrupted before it recorded this)" if d.get("recovered") else ""
        )
        return f"{d.get('pipeline')} -> {d.get('model')} v{d.get('version')} {m}{recovered}"
    if ev == "approval":
        return f"{d.get('model')} v{d.get('version')} by {d.get('by')}"
    if ev == "promotion":
        return f"{d.get('model')} v{d.get('version')} {'PROMOTED to ' + str(d.get('alias')) if d.get('promoted') else 'blocked'} ({d.get('reason')})"
    if ev == "drift":
        return f"{d.get('monitor')} {'DRIFT' if d.get('dataset_drift') else 'no drift'} {d.get('drifted')}"
    if ev == "retrain":
        return f"{d.get('monitor')} -> {d.get('pipeline')}" + (
            f" skipped ({d.get('skipped')})" if d.get("skipped") else ""
        )
    return json.dumps(d)[:80]


@audit.command("verify", short_help="Check the hash chain; name the entries tampered with.")
@handle_errors
def verify() -> None:
    """Check the hash chain against the anchor the state keeps; exit 1 and name the entries
    that were tampered with, cut off or rewritten."""
    from mlops_decl.audit import AuditLog
    from mlops_decl.cli.common import state_backend

    backend = state_backend(Path.cwd())
    log = AuditLog(backend.audit)
    anchor = backend.store.read().audit
    n, problems = log.verify(anchor)
    if problems:
        for p in problems:
            click.echo(click.style(f"Error: .mlops/audit.jsonl:{p.line}: {p.message}", fg="red"), err=True)
        click.echo(f"{len(problems)} problem(s) in {n} entries: the audit log was tampered with.", err=True)
        sys.exit(1)
    if anchor is None:
        click.echo(click.style(f"Audit log chain intact: {n} entries; ", fg="green") + _unanchored(n))
    else:
        later = n - int(anchor["entries"])
        tail = f"; the {later} after it are checked by the chain alone" if later > 0 else ""
        click.echo(
            click.style(f"Audit log intact: {n} entries, hash chain verified", fg="green")
            + f", and it holds the {anchor['entries']} the state anchored{tail}."
        )
    for e in log.pending():
        d = e.get("data") or {}
        click.echo(
            click.style(f"Warning: .mlops/audit.jsonl entry {e['seq']}: ", fg="yellow")
            + f"the {d.get('event')} of {d.get('pipeline') or d.get('model')} begun {e['time'][:19]} by "
            f"{e['who']} has no outcome: it was interrupted (or is still running), so a version or "
            "alias it changed in the registry may be missing from this log; `mlops-decl lineage "
            "model.NAME` shows the newest version and what it came from.",
            err=True,
        )
