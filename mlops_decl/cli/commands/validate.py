"""`mlops-decl validate`: parse, schema, references, cycles. No provider calls."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mlops_decl.cli.common import var_options
from mlops_decl.cli.output import diagnostics_json, echo_json, print_diagnostics
from mlops_decl.diagnostics import DiagnosticError


@click.command()
@click.option("--json", "-json", "as_json", is_flag=True, help="Print the result as JSON.")
@var_options
def validate(as_json: bool, var_files: tuple[str, ...], cli_vars: tuple[str, ...]) -> None:
    """Check syntax, schema, references and cycles; no provider calls."""
    from mlops_decl.workspace import load_workspace

    try:
        ws = load_workspace(Path.cwd(), var_files=var_files, cli_vars=cli_vars)
    except DiagnosticError as exc:
        if as_json:
            echo_json(diagnostics_json(exc.diagnostics))
        else:
            print_diagnostics(exc.diagnostics)
        sys.exit(1)
    n = len(ws.project.resources)
    if as_json:
        echo_json(diagnostics_json([], resource_count=n))
    else:
        click.echo(
            click.style("Success!", fg="green", bold=True) + f" The configuration is valid ({n} resources)."
        )
