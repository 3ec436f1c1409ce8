"""`mlops-decl monitor check`."""

from __future__ import annotations

import functools
import sys
from typing import Any

import click

from mlops_decl.cli.common import lock_timeout_option, runtime, var_options
from mlops_decl.cli.output import echo_json, handle_errors


@click.group()
def monitor() -> None:
    """Drift monitors."""


def drift_table(report: dict[str, Any]) -> str:
    lines = [f"{'feature':<24} {'method':<15} {'score':>10} {'threshold':>10}  verdict"]
    for name, f in sorted(report.get("features", {}).items()):
        score = f.get("score")
        shown = f"{score:.4f}" if isinstance(score, (int, float)) else str(score)
        lines.append(
            f"{name:<24} {str(f.get('method')):<15} {shown:>10} {f.get('threshold')!s:>10}  "
            + ("DRIFT" if f.get("drifted") else "ok")
        )
    return "\n".join(lines)


@monitor.command("check", short_help="Compute drift against the baseline; fire on_drift past it.")
@click.argument("address")
@click.option(
    "--data",
    "-data",
    "data",
    type=click.Path(),
    help="CSV or parquet of current data (default: the endpoint's captured inputs).",
)
@click.option("--json", "-json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when the dataset drifted.")
@var_options
@functools.partial(lock_timeout_option, default="1m", lock="the monitor's on_drift lock")
@handle_errors
def check(
    address: str,
    data: str | None,
    as_json: bool,
    fail_on_drift: bool,
    var_files: tuple[str, ...],
    cli_vars: tuple[str, ...],
) -> None:
    """Compute drift against the baseline, write a report, fire on_drift past the threshold."""
    import os

    from mlops_decl.diagnostics import Diagnostic, DiagnosticError

    if data is not None and not os.path.exists(data):
        raise DiagnosticError(Diagnostic(f"--data {data} does not exist", hint="give a CSV or parquet file"))
    report = runtime(var_files, cli_vars).check(address, os.path.abspath(data) if data else None)
    if as_json:
        echo_json(report)
    else:
        click.echo(drift_table(report))
        rows = report.get("rows", {})
        verdict = "DATASET DRIFT" if report.get("dataset_drift") else "no dataset drift"
        click.echo(
            f"\n{verdict}: {report.get('drifted_share', 0):.0%} of features drifted "
            f"(threshold {report.get('drift_share', 0):.0%}); reference {rows.get('reference')} rows, current {rows.get('current')} rows"
        )
        click.echo(f"report: {report.get('report_html')}")
        fired = report.get("on_drift")
        if fired:
            if fired.get("retrained"):
                run = fired.get("run", {})
                click.echo(f"on_drift: retrained -> model {run.get('model')} version {run.get('version')}")
                promo = fired.get("promotion")
                if promo:
                    click.echo(
                        f"on_drift: promotion {'done' if promo.get('promoted') else 'blocked by gates'}"
                    )
            else:
                click.echo(f"on_drift: not retrained: {fired.get('reason')}")
    if fail_on_drift and report.get("dataset_drift"):
        sys.exit(1)
