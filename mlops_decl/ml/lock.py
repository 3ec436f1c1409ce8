"""The per-model promotion lock: held from reading the champion to moving the alias.

It is the named lock `promotion/<model>` on the project's state backend, so runners sharing a
remote backend exclude each other too; locally a flock()ed file, so a killed holder's lock is
stale at once. A second promotion of the same model waits for the first, then compares
against the champion the first one left.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mlops_decl.diagnostics import Diagnostic, DiagnosticError

if TYPE_CHECKING:
    from mlops_decl.state import StateBackend

WAIT_SECONDS = 300.0  # a promotion loads two models and scores a split: seconds, rarely minutes


@contextmanager
def promotion_lock(backend: StateBackend, model: str, wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold model `model`'s promotion lock, waiting up to `wait` seconds for another holder."""
    from mlops_decl.state import LockHeld, LockInfo

    lock = backend.lock(f"promotion/{model}")
    try:
        lock.acquire(LockInfo.new(f"promote {model}", lock.describe()), wait)
    except LockHeld as exc:
        raise DiagnosticError(
            Diagnostic(
                f"another promotion of {model} is still running: held by {exc.holder.who} "
                f"(pid {exc.holder.pid}) since {exc.holder.created}",
                hint="wait for it to finish, then promote again",
            )
        ) from None
    try:
        yield
    finally:
        lock.release()
