"""`mlops-decl features get`."""

from __future__ import annotations

import click

from mlops_decl.cli.common import runtime, var_options
from mlops_decl.cli.output import echo_json, handle_errors


@click.group()
def features() -> None:
    """The feature store."""


@features.command("get")
@click.argument("address")
@click.option(
    "--entity", "-entity", "entity", required=True, help="The entity key (comma-joined for several columns)."
)
@var_options
@handle_errors
def get(address: str, entity: str, var_files: tuple[str, ...], cli_vars: tuple[str, ...]) -> None:
    """Print the online feature row for an entity key."""
    from mlops_decl.actions.results import to_json

    echo_json(to_json(runtime(var_files, cli_vars).call(address, "online", "feature_group", entity=entity)))
