"""`mlops-decl`: a click group whose commands are imported only when they run, so `--help`
and `validate` stay fast."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from mlops_decl import __version__

# name -> (module under mlops_decl.cli.commands, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("init", "init", "Create mlops.yaml and .gitignore where missing; check providers and backend."),
    "validate": ("validate", "validate", "Check syntax, schema, references and cycles; no provider calls."),
    "fmt": ("fmt", "fmt", "Rewrite config files in canonical format, keeping comments."),
    "plan": ("plan", "plan", "Show what apply would change."),
    "apply": ("apply", "apply", "Make the platform match the configuration."),
    "destroy": ("apply", "destroy", "Destroy every managed object, in reverse dependency order."),
    "show": ("show", "show", "Show the state, or a saved plan."),
    "state": ("state", "state", "Inspect and edit the state."),
    "import": ("state", "import_", "Adopt an existing live object into the state."),
    "output": ("output", "output", "Show output values."),
    "graph": ("graph", "graph", "Print the dependency graph (dot or mermaid)."),
    "force-unlock": ("state", "force_unlock", "Remove a stale state lock."),
    "run": ("run", "run", "Run a training pipeline and follow it; `run status RUN_ID`."),
    "approve": ("promote", "approve", "Record a manual approval of a model version."),
    "promote": ("promote", "promote", "Evaluate a model's gates; move its alias if all pass."),
    "predict": ("predict", "predict", "Score rows through an endpoint."),
    "serve": ("predict", "serve", "Serve an endpoint over HTTP on 127.0.0.1."),
    "monitor": ("monitor", "monitor", "Drift monitors: `monitor check ADDR`."),
    "schedule": ("schedule", "schedule", "Run due scheduled jobs: `schedule tick` (once) or `schedule run`."),
    "features": ("features", "features", "The feature store: `features get ADDR --entity K`."),
    "lineage": ("lineage", "lineage", "Dataset -> features -> run -> model version -> endpoint -> monitor."),
    "audit": ("audit", "audit", "The hash-chained audit log; `audit verify` checks it."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        cmd: click.Command = getattr(importlib.import_module(f"mlops_decl.cli.commands.{module}"), attr)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # list help texts without importing every command module
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--chdir", "-chdir", "chdir", metavar="DIR", help="Run as if started in DIR.")
@click.option("--no-color", "-no-color", is_flag=True, help="Plain output without colours.")
@click.version_option(__version__, "--version", prog_name="mlops-decl")
@click.pass_context
def cli(ctx: click.Context, chdir: str | None, no_color: bool) -> None:
    """mlops-decl: Terraform for MLOps. Declare datasets, features, training, registry gates,
    endpoints and drift monitors in YAML; plan and apply them."""
    if chdir:
        try:
            os.chdir(chdir)
        except OSError as exc:
            raise click.UsageError(f"-C {chdir}: {exc.strerror}") from None
    ctx.color = False if no_color or os.environ.get("NO_COLOR") else None


def main(argv: list[str] | None = None) -> Any:
    import gc

    from mlops_decl.diagnostics import DiagnosticError

    # A command builds one large, long-lived object graph (config, state, plan); the cyclic
    # collector re-scanning it over and over cost seconds at 10,000 resources (bench/README).
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    # pydantic looks for observability plugins by reading every installed package's entry
    # points (~12 ms a start); the CLI has no use for them. A value the user set still wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # The CLI runs offline: libraries that report usage (MLflow's telemetry) honour the
    # DO_NOT_TRACK convention. The application sets it, never a provider; a user's value wins.
    os.environ.setdefault("DO_NOT_TRACK", "true")

    try:
        return cli.main(args=argv, prog_name="mlops-decl", standalone_mode=True)
    except DiagnosticError as exc:  # raised outside a command's own handler
        from mlops_decl.cli.output import print_diagnostics

        print_diagnostics(exc.diagnostics)
        sys.exit(1)
