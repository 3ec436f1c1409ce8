"""`mlops-decl show [PLANFILE] [--json]`."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_decl.cli.common import backend_for, read_saved_plan
from mlops_decl.cli.output import echo_json, handle_errors


@click.command()
@click.argument("planfile", required=False, type=click.Path())
@click.option(
    "--json",
    "-json",
    "as_json",
    is_flag=True,
    help="Print the state or the plan as JSON (Terraform's `show -json` shape).",
)
@handle_errors
def show(planfile: str | None, as_json: bool) -> None:
    """Show the state, or a saved plan."""
    from mlops_decl.cli.views.plan_human import render_inputs, render_plan
    from mlops_decl.cli.views.plan_json import plan_json
    from mlops_decl.cli.views.state_human import render_outputs, render_resource

    if planfile:
        p = read_saved_plan(Path(planfile))
        if as_json:
            echo_json(plan_json(p))
        else:
            click.echo(render_plan(p) + render_inputs(p), nl=False)
        return
    store, _ = backend_for(Path.cwd())
    st = store.read()
    if as_json:
        echo_json(
            {
                "format_version": "1.0",
                "values": {
                    "outputs": st.outputs,
                    "root_module": {
                        "resources": [
                            {
                                "address": a,
                                "mode": "managed",
                                "type": rs.kind,
                                "name": a.split(".", 1)[1],
                                "provider_name": rs.provider,
                                "values": {"id": rs.id, **rs.attributes},
                                "depends_on": rs.dependencies,
                            }
                            for a, rs in sorted(st.resources.items())
                        ]
                    },
                },
            }
        )
        return
    if not st.resources:
        click.echo("The state is empty. No resources are represented.")
        return
    for _, rs in sorted(st.resources.items()):
        click.echo(render_resource(rs))
    if st.outputs:
        click.echo("Outputs:\n")
        click.echo(render_outputs(st.outputs), nl=False)
