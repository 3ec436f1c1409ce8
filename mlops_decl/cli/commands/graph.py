"""`mlops-decl graph`."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_decl.cli.output import handle_errors


@click.command()
@click.option(
    "--format",
    "-format",
    "fmt",
    type=click.Choice(["dot", "mermaid"]),
    default="dot",
    show_default=True,
    help="Graphviz dot, or a Mermaid flowchart.",
)
@handle_errors
def graph(fmt: str) -> None:
    """Print the dependency graph (dot or mermaid)."""
    from mlops_decl.config.project import load_project
    from mlops_decl.graph import to_dot, to_mermaid
    from mlops_decl.workspace import graph_of

    g = graph_of(load_project(Path.cwd()))
    click.echo(to_dot(g) if fmt == "dot" else to_mermaid(g), nl=False)
