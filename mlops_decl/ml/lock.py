"""The per-model promotion lock: held from reading the champion to moving the alias.

It is a lock file under `.mlops/locks/`, taken with the state's local lock machinery (flock,
so a killed holder's lock is stale at once). A second promotion of the same model waits for
the first, then compares against the champion the first one left.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlops_decl.diagnostics import Diagnostic, DiagnosticError

WAIT_SECONDS = 300.0  # a promotion loads two models and scores a split: seconds, rarely minutes
POLL_SECONDS = 0.2


def lock_path(root: Path, model: str) -> Path:
    return root / ".mlops" / "locks" / f"promote-{re.sub(r'[^A-Za-z0-9_.-]', '_', model)}.lock.json"


@contextmanager
def promotion_lock(root: Path, model: str, wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold model `model`'s promotion lock, waiting up to `wait` seconds for another holder."""
    from mlops_decl.state.local_lock import LocalLock
    from mlops_decl.state.store import LockHeld, LockInfo

    path = lock_path(root, model)
    lock = LocalLock(path)
    info = LockInfo.new(f"promote {model}", path)
    deadline = time.monotonic() + wait
    while True:
        try:
            lock.acquire(info)
            break
        except LockHeld as exc:
            if time.monotonic() >= deadline:
                raise DiagnosticError(
                    Diagnostic(
                        f"another promotion of {model} is still running: held by {exc.holder.who} "
                        f"(pid {exc.holder.pid}) since {exc.holder.created}",
                        hint="wait for it to finish, then promote again",
                    )
                ) from None
            time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        lock.release()
