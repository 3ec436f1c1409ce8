"""`mlops-decl run training_pipeline.X [--wait/--no-wait]` and `mlops-decl run status RUN_ID`."""

from __future__ import annotations

from typing import Any

import click

from mlops_decl.cli.common import runtime, var_options
from mlops_decl.cli.output import echo_json, handle_errors
from mlops_decl.diagnostics import Diagnostic, DiagnosticError


@click.command(
    "run",
    context_settings={"help_option_names": ["-h", "--help"]},
    options_metavar="[--wait|--no-wait] [--json]",
)
@click.argument("address", metavar="ADDRESS | status RUN_ID")
@click.argument("run_id", required=False, metavar="")
@click.option(
    "--wait/--no-wait",
    "-wait/-no-wait",
    "wait",
    default=True,
    help="Follow the run to its end (default), or return once it is started.",
)
@click.option("--json", "-json", "as_json", is_flag=True, help="Print the run as JSON.")
@var_options
@handle_errors
def run(
    address: str,
    run_id: str | None,
    wait: bool,
    as_json: bool,
    var_files: tuple[str, ...],
    cli_vars: tuple[str, ...],
) -> None:
    """Run a training pipeline: build the training set, fit, evaluate, log, register.

    `run status RUN_ID` shows a run's status, metrics and the version it registered."""
    from mlops_decl.actions.results import to_json

    if address == "status" and not run_id:
        raise DiagnosticError(Diagnostic("`run status` needs a RUN_ID", hint="mlops-decl run status RUN_ID"))
    if address != "status" and run_id is not None:
        raise DiagnosticError(
            Diagnostic(f"unexpected argument `{run_id}`", hint="mlops-decl run ADDRESS, or run status RUN_ID")
        )
    rt = runtime(var_files, cli_vars)
    result = rt.run_status(str(run_id)) if address == "status" else rt.run(address, wait=wait)
    if as_json:
        echo_json(to_json(result))
        return
    show(
        to_json(result), started=address != "status" and not wait, model=rt.address_of("model", result.model)
    )


def show(status: dict[str, Any], started: bool, model: str | None = None) -> None:
    """A run's outcome; `model` is the address of the model it registered in."""
    rid, state = status["run_id"], status["status"]
    job = f" (job {status['job_id']})" if status.get("job_id") and status["job_id"] != rid else ""
    if state != "succeeded":
        click.echo(click.style(f"Run {rid}{job}: {state}.", bold=True))
        if status.get("error"):
            click.echo(f"  error:      {status['error']}")
        if started or state in ("queued", "running"):
            click.echo(f"\nFollow it: mlops-decl run status {rid}")
        return
    metrics = ", ".join(
        f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(status["metrics"].items())
    )
    click.echo(click.style(f"Run {rid}{job} complete.", fg="green", bold=True))
    click.echo(f"  registered: model {status.get('model')} version {status.get('version')}")
    click.echo(f"  metrics:    {metrics}")
    for ds, h in sorted((status.get("dataset_versions") or {}).items()):
        click.echo(f"  data:       {ds} @ {h}")
    if model and status.get("version") is not None:
        click.echo(f"\nNext: mlops-decl promote {model} --version {status['version']}")
