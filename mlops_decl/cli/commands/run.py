"""`mlops-decl run training_pipeline.X`."""

from __future__ import annotations

import click

from mlops_decl.cli.common import runtime, var_options
from mlops_decl.cli.output import echo_json, handle_errors


@click.command()
@click.argument("address")
@click.option("--json", "-json", "as_json", is_flag=True, help="Print the run as JSON.")
@var_options
@handle_errors
def run(address: str, as_json: bool, var_files: tuple[str, ...], cli_vars: tuple[str, ...]) -> None:
    """Run a training pipeline now: build the training set, fit, evaluate, log, register."""
    result = runtime(var_files, cli_vars).run(address)
    if as_json:
        echo_json(result)
        return
    metrics = ", ".join(
        f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
        for k, v in sorted(result.get("metrics", {}).items())
    )
    click.echo(click.style(f"Run {result.get('run_id')} complete.", fg="green", bold=True))
    click.echo(f"  registered: model {result.get('model')} version {result.get('version')}")
    click.echo(f"  metrics:    {metrics}")
    for ds, h in sorted((result.get("dataset_versions") or {}).items()):
        click.echo(f"  data:       {ds} @ {h}")
    click.echo(f"\nNext: mlops-decl promote model.{result.get('model')} --version {result.get('version')}")
