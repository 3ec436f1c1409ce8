"""Options and set-up shared by commands: variables, the workspace, the locked state."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from mlops_decl.diagnostics import Diagnostic, DiagnosticError

F = TypeVar("F", bound=Callable[..., Any])


def var_options(fn: F) -> F:
    fn = click.option(
        "--var-file",
        "-var-file",
        "var_files",
        multiple=True,
        metavar="FILE",
        help="YAML file of variable values.",
    )(fn)
    fn = click.option(
        "--var", "-var", "cli_vars", multiple=True, metavar="NAME=VALUE", help="Set a variable."
    )(fn)
    return fn


def lock_options(fn: F) -> F:
    fn = click.option("--lock/--no-lock", "lock", default=True, help="Hold the state lock (default: on).")(fn)
    return fn


def workspace(var_files: tuple[str, ...] = (), cli_vars: tuple[str, ...] = ()) -> Any:
    from mlops_decl.workspace import load_workspace

    return load_workspace(Path.cwd(), var_files=var_files, cli_vars=cli_vars)


def backend_for(root: Path, ws: Any = None) -> tuple[Any, Any]:
    """(store, lock) of the project at root, from mlops.yaml's backend settings."""
    from mlops_decl.state import open_backend

    settings: dict[str, Any] = {}
    top = root / "mlops.yaml"
    if ws is not None:
        settings = ws.project.settings.backend
    elif top.is_file():
        from mlops_decl.config.project import load_project

        settings = load_project(root).settings.backend
    return open_backend(root, {k: v for k, v in settings.items() if v is not None})


def lock_info(operation: str, root: Path) -> Any:
    import getpass  # here, not at the top: `validate` takes no lock
    import socket
    import uuid
    from datetime import datetime, timezone

    from mlops_decl import __version__
    from mlops_decl.state.store import LockInfo

    return LockInfo(
        id=str(uuid.uuid4()),
        operation=operation,
        who=f"{getpass.getuser()}@{socket.gethostname()}",
        host=socket.gethostname(),
        pid=os.getpid(),
        version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        path=str(root / ".mlops" / "state.json"),
    )


@contextlib.contextmanager
def locked(lock: Any, operation: str, root: Path, enabled: bool = True) -> Iterator[None]:
    from mlops_decl.state.store import LockHeld

    if not enabled:
        yield
        return
    try:
        lock.acquire(lock_info(operation, root))
    except LockHeld as exc:
        raise DiagnosticError(
            Diagnostic(
                f"the state is locked: {exc}",
                hint=f"wait for it to finish, or run `mlops-decl force-unlock {exc.holder.id}` if it died",
            )
        ) from None
    try:
        yield
    finally:
        lock.release()


def require_tty_or(auto_approve: bool, what: str) -> None:
    import sys

    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise DiagnosticError(
            Diagnostic(
                f"{what} needs confirmation but standard input is not a terminal",
                hint="pass --auto-approve to run without asking",
            )
        )


def confirm(question: str) -> bool:
    click.echo(question)
    click.echo("  Only 'yes' will be accepted to approve.\n")
    answer = click.prompt("  Enter a value", default="", show_default=False)
    click.echo()
    return bool(answer.strip() == "yes")


def parse_parallelism(value: int) -> int:
    if value < 1:
        raise click.BadParameter("must be at least 1")
    return value


def runtime(var_files: tuple[str, ...] = (), cli_vars: tuple[str, ...] = ()) -> Any:
    """A Runtime over the project in the current directory, printing progress to stderr."""
    from mlops_decl.runtime import Runtime

    ws = workspace(var_files, cli_vars)
    store, _ = backend_for(ws.root)
    return Runtime(ws, store.read(), emit=lambda msg: click.echo(msg, err=True))
