"""Apply progress lines, Terraform style, and the closing summary."""

from __future__ import annotations

import threading

import click

from mlops_decl.hooks import Hooks
from mlops_decl.plan import Action

_ING = {
    Action.CREATE: ("Creating...", "Creation complete"),
    Action.UPDATE: ("Modifying...", "Modifications complete"),
    Action.REPLACE: ("Replacing...", "Replacement complete"),
    Action.DELETE: ("Destroying...", "Destruction complete"),
}


class HumanHooks(Hooks):
    def __init__(self, quiet_refresh: bool = False, show: bool = True):
        self._lock = threading.Lock()
        self.quiet_refresh = quiet_refresh
        self.show = show

    def _echo(self, text: str, err: bool = False) -> None:
        if not self.show:
            return
        with self._lock:
            click.echo(text, err=err)

    def refresh_start(self, address: str, id: str) -> None:
        if not self.quiet_refresh:
            self._echo(f"{address}: Refreshing state... [id={id}]")

    def apply_start(self, address: str, action: Action) -> None:
        self._echo(click.style(f"{address}: ", bold=True) + _ING[action][0])

    def apply_done(self, address: str, action: Action, seconds: float, id: str | None) -> None:
        ident = f" [id={id}]" if id and action is not Action.DELETE else ""
        self._echo(click.style(f"{address}: ", bold=True) + f"{_ING[action][1]} after {seconds:.0f}s{ident}")

    def apply_failed(self, address: str, action: Action, message: str) -> None:
        self._echo(click.style(f"{address}: failed: ", fg="red", bold=True) + message, err=True)

    def progress(self, address: str, message: str) -> None:
        self._echo(click.style(f"{address}: ", bold=True) + message)

    def apply_skipped(self, address: str, because: str) -> None:
        self._echo(click.style(f"{address}: ", bold=True) + f"skipped because {because} failed", err=True)
