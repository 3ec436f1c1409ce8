"""`mlops-decl approve` and `mlops-decl promote`."""

from __future__ import annotations

import functools
import sys
from typing import Any

import click

from mlops_decl.cli.common import lock_timeout_option, runtime, var_options
from mlops_decl.cli.output import echo_json, handle_errors


def gate_table(result: dict[str, Any], address: str) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{address} version {result.get('version')} -> {result.get('alias')}")
    table.add_column("gate")
    table.add_column("evidence")
    table.add_column("verdict")
    for g in result.get("gates", []):
        table.add_row(
            g.get("gate", g.get("type", "?")),
            str(g.get("evidence", "")),
            "pass" if g.get("passed") else "FAIL",
        )
    console = Console(width=110, color_system=None, force_terminal=False)
    with console.capture() as cap:
        console.print(table)
    return cap.get()


@click.command()
@click.argument("address")
@click.option(
    "--version", "-version", "version", type=click.IntRange(min=1), required=True, help="The model version."
)
@click.option("--by", "-by", "by", required=True, help="Who approves.")
@var_options
@handle_errors
def approve(
    address: str, version: int, by: str, var_files: tuple[str, ...], cli_vars: tuple[str, ...]
) -> None:
    """Record a manual approval of a model version."""
    result = runtime(var_files, cli_vars).approve(address, version, by)
    names = ", ".join(result.get("approvals", []))
    click.echo(f"Approved {address} version {version} by {by}. Approvals so far: {names}")


@click.command()
@click.argument("address")
@click.option(
    "--version",
    "-version",
    "version",
    type=click.IntRange(min=1),
    required=True,
    help="The model version to promote.",
)
@click.option(
    "--json", "-json", "as_json", is_flag=True, help="Print each gate's verdict and evidence as JSON."
)
@var_options
@functools.partial(lock_timeout_option, default="5m", lock="the model's promotion lock")
@handle_errors
def promote(
    address: str, version: int, as_json: bool, var_files: tuple[str, ...], cli_vars: tuple[str, ...]
) -> None:
    """Evaluate the registry_policy's gates; move the alias only if every gate passes."""
    result = runtime(var_files, cli_vars).promote(address, version)
    if as_json:
        echo_json(result)
    else:
        if result.get("gates"):
            click.echo(gate_table(result, address), nl=False)
        if result.get("note"):
            click.echo(str(result["note"]))
        if result.get("promoted"):
            prev = result.get("previous")
            was = f" (was version {prev})" if prev else ""
            click.echo(
                click.style(
                    f"Promoted: {result.get('alias')} -> version {version}{was}.", fg="green", bold=True
                )
            )
        else:
            failed = [g.get("gate") for g in result.get("gates", []) if not g.get("passed")]
            click.echo(
                click.style(
                    f"Not promoted: {len(failed)} gate(s) failed: {', '.join(map(str, failed))}",
                    fg="red",
                    bold=True,
                ),
                err=True,
            )
    if not result.get("promoted"):
        sys.exit(1)
