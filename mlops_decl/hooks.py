"""Events the engine emits while it works. The engine never prints; views implement Hooks."""

from __future__ import annotations

from mlops_decl.plan import Action


class Hooks:
    """Do-nothing base; the CLI's views override what they show."""

    def refresh_start(self, address: str, id: str) -> None: ...

    def refresh_done(self, address: str, gone: bool) -> None: ...

    def apply_start(self, address: str, action: Action) -> None: ...

    def apply_done(self, address: str, action: Action, seconds: float, id: str | None) -> None: ...

    def apply_failed(self, address: str, action: Action, message: str) -> None: ...

    def apply_skipped(self, address: str, because: str) -> None: ...

    def progress(self, address: str, message: str) -> None:
        """A long call's progress, as its handler emits it (Operation.emit)."""
