"""`state list|show|rm|mv|pull|push`, `import ADDR ID` and `force-unlock ID`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from mlops_decl.cli.common import (
    backend_for,
    lock_timeout_option,
    locked,
    state_backend,
    var_options,
    workspace,
)
from mlops_decl.cli.output import echo_json, handle_errors
from mlops_decl.diagnostics import Diagnostic, DiagnosticError


def _need(state: Any, address: str) -> Any:
    rs = state.resources.get(address)
    if rs is None:
        raise DiagnosticError(
            Diagnostic(
                f"no resource `{address}` in the state",
                hint="`mlops-decl state list` shows what the state holds",
            )
        )
    return rs


@click.group()
def state() -> None:
    """Inspect and edit the state."""


@state.command("list")
@click.argument("prefixes", nargs=-1)
@handle_errors
def state_list(prefixes: tuple[str, ...]) -> None:
    """One address a line."""
    store, _ = backend_for(Path.cwd())
    for address in sorted(store.read().resources):
        if not prefixes or any(
            address == p or address.startswith(p + ".") or address.startswith(p) for p in prefixes
        ):
            click.echo(address)


@state.command("show")
@click.argument("address")
@click.option("--json", "-json", "as_json", is_flag=True, help="Print the resource as JSON.")
@handle_errors
def state_show(address: str, as_json: bool) -> None:
    """Show one resource's recorded attributes."""
    from mlops_decl.cli.views.state_human import render_resource

    store, _ = backend_for(Path.cwd())
    rs = _need(store.read(), address)
    if as_json:
        echo_json(
            {
                "address": address,
                "kind": rs.kind,
                "provider": rs.provider,
                "id": rs.id,
                "attributes": rs.attributes,
                "dependencies": rs.dependencies,
            }
        )
        return
    click.echo(render_resource(rs), nl=False)


@state.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@lock_timeout_option
@handle_errors
def state_rm(addresses: tuple[str, ...]) -> None:
    """Forget objects without destroying them."""
    root = Path.cwd()
    store, lk = backend_for(root)
    with locked(lk, "state rm", root):
        st = store.read()
        for a in addresses:
            _need(st, a)
        for a in addresses:
            store.remove_resource(a)
            click.echo(f"Removed {a}")
        store.compact()
    click.echo(f"Successfully removed {len(addresses)} resource instance(s).")


@state.command("mv")
@click.argument("source")
@click.argument("destination")
@lock_timeout_option
@handle_errors
def state_mv(source: str, destination: str) -> None:
    """Rename an address in the state (after renaming it in the config)."""
    from dataclasses import replace

    root = Path.cwd()
    store, lk = backend_for(root)
    with locked(lk, "state mv", root):
        st = store.read()
        rs = _need(st, source)
        if destination in st.resources:
            raise DiagnosticError(
                Diagnostic(
                    f"`{destination}` already exists in the state", hint="remove it first with `state rm`"
                )
            )
        kind = destination.split(".", 1)[0]
        if "." not in destination or kind != rs.kind:
            raise DiagnosticError(
                Diagnostic(
                    f"cannot move {source} to {destination}: the kind must stay `{rs.kind}`",
                    hint=f"write the destination as {rs.kind}.NEW_NAME",
                )
            )
        moved = replace(rs, address=destination)
        store.put_resource(moved)
        store.remove_resource(source)
        store.compact()
    click.echo(f'Move "{source}" to "{destination}"\nSuccessfully moved 1 object(s).')


@state.command("pull")
@handle_errors
def state_pull() -> None:
    """Print the state as JSON."""
    store, _ = backend_for(Path.cwd())
    click.echo(json.dumps(store.read().to_json(), indent=2))


@state.command("push")
@click.argument("path", type=click.Path())
@click.option("--force", "-force", is_flag=True, help="Push even over a different lineage or a newer serial.")
@lock_timeout_option
@handle_errors
def state_push(path: str, force: bool) -> None:
    """Replace the state with a local file (`-` reads standard input)."""
    from mlops_decl.state.decode import read_state
    from mlops_decl.state.store import StateError, check_push

    if path == "-":
        raw = sys.stdin.buffer.read()
    elif Path(path).is_file():
        raw = Path(path).read_bytes()
    else:
        raise DiagnosticError(Diagnostic(f"{path} does not exist", hint="give the path of a state file"))
    incoming = read_state(raw, "standard input" if path == "-" else path)
    root = Path.cwd()
    store, lk = backend_for(root)
    with locked(lk, "state push", root):
        current = store.read()
        try:
            check_push(current, incoming, force)
        except StateError as exc:
            raise DiagnosticError(
                Diagnostic(str(exc), hint="use --force only if you know this state is right")
            ) from None
        store.write(incoming)
    click.echo("State pushed.")


@click.command("import")
@click.argument("address")
@click.argument("id")
@lock_timeout_option
@var_options
@handle_errors
def import_(address: str, id: str, var_files: tuple[str, ...], cli_vars: tuple[str, ...]) -> None:
    """Adopt an existing live object: ADDR must be in the configuration; ID is the object's id
    (or its name or ARN, where the provider accepts one)."""
    from mlops_decl.importer import import_resource

    ws = workspace(var_files, cli_vars)
    store, lk = backend_for(ws.root)
    with locked(lk, "import", ws.root):
        rs = import_resource(ws, store, address, id)
    click.echo(click.style(f"{address}: Import complete [id={rs.id}]", fg="green"))
    click.echo("Run `mlops-decl plan` to see how the configuration differs from the imported object.")


@click.command("force-unlock")
@click.argument("lock_id")
@click.option("--force", "-force", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--lock",
    "-lock",
    "name",
    metavar="NAME",
    help="A named lock (e.g. promotion/model.churn) instead of the state lock.",
)
@handle_errors
def force_unlock(lock_id: str, force: bool, name: str | None) -> None:
    """Remove a lock left by a holder that is gone (another machine, a killed process)."""
    from mlops_decl.state import StateError

    lk = state_backend(Path.cwd()).lock(name)
    try:
        lk.force_unlock(lock_id)
    except StateError as exc:
        raise DiagnosticError(
            Diagnostic(str(exc), hint="the id is printed by the command that found the lock")
        ) from None
    click.echo(click.style("mlops-decl state has been successfully unlocked!", fg="green"))


_ = echo_json
