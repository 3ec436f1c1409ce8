"""`mlops-decl lineage model.X@N [--format text|json|openlineage]`."""

from __future__ import annotations

import click

from mlops_decl.cli.common import runtime, var_options
from mlops_decl.cli.output import echo_json, handle_errors
from mlops_decl.diagnostics import Diagnostic, DiagnosticError


@click.command()
@click.argument("target")
@click.option(
    "--format",
    "-format",
    "fmt",
    type=click.Choice(["text", "json", "openlineage"]),
    default="text",
    show_default=True,
    help="A tree, one JSON document, or OpenLineage run events (one JSON a line).",
)
@var_options
@handle_errors
def lineage(target: str, fmt: str, var_files: tuple[str, ...], cli_vars: tuple[str, ...]) -> None:
    """Dataset -> feature group -> run -> model version -> endpoint -> monitor."""
    from mlops_decl.ml.lineage import model_lineage, openlineage_events, render_tree

    address, _, ver = target.partition("@")
    if not address.startswith("model."):
        raise DiagnosticError(
            Diagnostic(
                f"lineage takes a model address, not `{address}`",
                hint="e.g. mlops-decl lineage model.churn@2",
            )
        )
    if ver and not ver.isdigit():
        raise DiagnosticError(Diagnostic(f"`{ver}` is not a version number", hint="write model.NAME@N"))
    rt = runtime(var_files, cli_vars)
    lin = model_lineage(rt, address, int(ver) if ver else None)
    if fmt == "json":
        echo_json(lin)
    elif fmt == "openlineage":
        try:
            events = openlineage_events(lin, f"mlops-decl://{rt.ws.project.settings.project}")
        except ImportError:
            raise DiagnosticError(
                Diagnostic("openlineage-python is not installed", hint="pip install 'mlops-decl[lineage]'")
            ) from None
        for ev in events:
            echo_json(ev)
    else:
        click.echo(render_tree(lin), nl=False)
