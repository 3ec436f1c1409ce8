"""`mlops-decl output [NAME] [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mlops_decl.cli.common import backend_for
from mlops_decl.cli.output import echo_json, handle_errors
from mlops_decl.diagnostics import Diagnostic, DiagnosticError


@click.command()
@click.argument("name", required=False)
@click.option("--json", "-json", "as_json", is_flag=True, help="Print the outputs as JSON.")
@click.option("--raw", "-raw", is_flag=True, help="Print a string output without quotes.")
@handle_errors
def output(name: str | None, as_json: bool, raw: bool) -> None:
    """Show output values from the state."""
    from mlops_decl.cli.views.plan_human import fmt_value

    store, _ = backend_for(Path.cwd())
    outputs = store.read().outputs
    if name is not None:
        if name not in outputs:
            raise DiagnosticError(
                Diagnostic(
                    f"no output named `{name}`", hint="outputs: " + (", ".join(sorted(outputs)) or "none")
                )
            )
        value = outputs[name].get("value")
        if as_json:
            click.echo(json.dumps(value))
        elif raw and isinstance(value, str):
            click.echo(value)
        else:
            click.echo(fmt_value(value))
        return
    if as_json:
        echo_json(
            {k: {"sensitive": v.get("sensitive", False), "value": v.get("value")} for k, v in outputs.items()}
        )
        return
    for key, o in sorted(outputs.items()):
        click.echo(f"{key} = {'(sensitive value)' if o.get('sensitive') else fmt_value(o.get('value'))}")
