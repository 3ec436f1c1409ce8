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
    return lock_timeout_option(fn)


_DURATION = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "": 1}
LOCK_TIMEOUT = "mlops_decl.lock_timeout"  # where the option leaves its value, in the click context


def _lock_timeout(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*", value or "0")
    if m is None:
        raise click.BadParameter(f"`{value}` is not a duration: write e.g. 30s, 5m or 0s")
    ctx.meta[LOCK_TIMEOUT] = float(m.group(1)) * _DURATION[m.group(2)]


def lock_timeout_option(fn: F, default: str = "0s", lock: str = "the state lock") -> F:
    """`-lock-timeout DURATION`: wait that long for a lock held by someone else (Terraform's)."""
    told = "" if default == "0s" else f" Default: {default}."
    return click.option(
        "--lock-timeout",
        "-lock-timeout",
        metavar="DURATION",
        default=default,
        expose_value=False,
        callback=_lock_timeout,
        help=f"Wait this long for {lock} if another command holds it (e.g. 30s, 5m).{told}",
    )(fn)


def lock_wait() -> float | None:
    """The -lock-timeout of the running command, in seconds (None outside a command)."""
    ctx = click.get_current_context(silent=True)
    return None if ctx is None or LOCK_TIMEOUT not in ctx.meta else float(ctx.meta[LOCK_TIMEOUT])


def workspace(var_files: tuple[str, ...] = (), cli_vars: tuple[str, ...] = ()) -> Any:
    from mlops_decl.workspace import load_workspace

    return load_workspace(Path.cwd(), var_files=var_files, cli_vars=cli_vars)


def backend_settings(root: Path, ws: Any = None) -> dict[str, Any]:
    """mlops.yaml's `backend:` mapping (from ws if loaded already); {} without an mlops.yaml."""
    if ws is not None:
        return dict(ws.project.settings.backend)
    if not (root / "mlops.yaml").is_file():
        return {}
    from mlops_decl.config.project import load_project

    return dict(load_project(root).settings.backend)


def state_backend(root: Path, ws: Any = None) -> Any:
    """The project's state backend (mlops_decl.state.StateBackend)."""
    from mlops_decl.state import open_state_backend

    return open_state_backend(root, backend_settings(root, ws))


def backend_for(root: Path, ws: Any = None) -> tuple[Any, Any]:
    """(store, state lock) of the project at root, from mlops.yaml's backend settings."""
    backend = state_backend(root, ws)
    return backend.store, backend.lock()


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
        lock.acquire(lock_info(operation, root), lock_wait() or 0.0)
    except LockHeld as exc:
        raise DiagnosticError(
            Diagnostic(
                f"the state is locked: {exc}",
                hint="wait for it to finish (`-lock-timeout 5m` waits for you), or run "
                f"`mlops-decl force-unlock {exc.holder.id}` if it died",
            )
        ) from None
    try:
        yield
    finally:
        lock.release()


def read_saved_plan(path: Path) -> Any:
    """The saved plan at path, refused if it is missing, not a plan, or edited since `plan`
    wrote it (what was reviewed must be what is applied)."""
    from mlops_decl.plan import PlanFileChanged, load_plan

    again = "make a new one with `mlops-decl plan -out FILE`"
    if not path.is_file():
        raise DiagnosticError(Diagnostic(f"plan file {path} does not exist", hint=again))
    try:
        return load_plan(path)
    except PlanFileChanged as exc:
        raise DiagnosticError(
            Diagnostic(
                f"{path} was edited after `plan` wrote it ({exc} differ); it is not what was reviewed",
                hint=again,
            )
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DiagnosticError(Diagnostic(f"{path} is not a saved plan: {exc}", hint=again)) from None


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


def parallelism_option(fn: F) -> F:
    """`-parallelism N`: at most N provider calls at once (Terraform's)."""
    return click.option(
        "--parallelism",
        "-parallelism",
        default=10,
        show_default=True,
        type=click.IntRange(min=1),
        help="Concurrent provider calls.",
    )(fn)


def runtime(var_files: tuple[str, ...] = (), cli_vars: tuple[str, ...] = ()) -> Any:
    """A Runtime over the project in the current directory, printing progress to stderr."""
    from mlops_decl.runtime import Runtime

    ws = workspace(var_files, cli_vars)
    backend = state_backend(ws.root, ws)
    emit = lambda msg: click.echo(msg, err=True)  # noqa: E731
    return Runtime(ws, backend.store.read(), emit=emit, _backend=backend, lock_wait=lock_wait())
