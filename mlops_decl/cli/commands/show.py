"""`mlops-decl show [PLANFILE] [--json]`."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_decl.cli.common import backend_for
from mlops_decl.cli.output import echo_json, handle_errors
from mlops_decl.diagnostics import Diagnostic, DiagnosticError


@click.command()
@click.argument("planfile", required=False, type=click.Path())
@click.option("--json", "-json", "as_json", is_flag=True)
@handle_errors
def show(planfile: str | None, as_json: bool) -> None:
    """Show the state, or a saved plan."""
    from mlops_decl.cli.views.plan_human import fmt_value, render_plan
    from mlops_decl.cli.views.plan_json import plan_json
    from mlops_decl.plan import load_plan

    if planfile:
        path = Path(planfile)
        if not path.is_file():
            raise DiagnosticError(Diagnostic(f"plan file {planfile} does not exist"))
        try:
            p = load_plan(path)
        except (ValueError, KeyError, TypeError) as exc:
            raise DiagnosticError(Diagnostic(f"{planfile} is not a saved plan: {exc}")) from None
        if as_json:
            echo_json(plan_json(p))
        else:
            click.echo(render_plan(p), nl=False)
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
    for a, rs in sorted(st.resources.items()):
        click.echo(f"# {a}:")
        click.echo(f'resource "{rs.kind}" "{a.split(".", 1)[1]}" {{')
        items = [("id", rs.id), *sorted(rs.attributes.items())]
        width = max(len(k) for k, _ in items)
        for k, v in items:
            if v is not None:
                click.echo(f"    {k.ljust(width)} = {fmt_value(v)}")
        click.echo("}\n")
    if st.outputs:
        click.echo("Outputs:\n")
        for name, o in sorted(st.outputs.items()):
            click.echo(f"{name} = {'(sensitive value)' if o.get('sensitive') else fmt_value(o.get('value'))}")
