"""Library chatter kept off the user's terminal without changing process-wide settings for
good: no logger level and no warnings filter outlives the call it was set for.

MLflow logs through handlers of its own on stderr (schema migrations at INFO, a caution on
every cloudpickle save at WARNING); scikit-learn warns (convergence, deprecations) while a
model fits. The CLI's stdout is parsed, and stderr is its progress channel.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator

_WARNINGS = threading.Lock()
_quiet_calls = 0
_saved: warnings.catch_warnings | None = None


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Library warnings off while a fit or a save runs. Python's warning filters are one list
    per process, and nested `catch_warnings` in two threads restore each other's copies (one
    "ignore" then stays for good): so the filters are saved when the first of our calls begins
    and put back exactly when the last one ends."""
    global _quiet_calls, _saved
    with _WARNINGS:
        if _quiet_calls == 0:
            _saved = warnings.catch_warnings()
            _saved.__enter__()
            warnings.simplefilter("ignore")
        _quiet_calls += 1
    try:
        yield
    finally:
        with _WARNINGS:
            _quiet_calls -= 1
            if _quiet_calls == 0 and _saved is not None:
                _saved.__exit__(None, None, None)
                _saved = None


class _ThisThreadBelow(logging.Filter):
    """Drops the records below `level` that one thread logs; every other thread's pass."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread or record.levelno >= self.level


@contextlib.contextmanager
def mlflow_quiet(below: int = logging.ERROR) -> Iterator[None]:
    """MLflow's (and alembic's) log records below `below` that this thread logs are dropped
    while the block runs. A filter on the handlers MLflow installed, not a logger level: levels
    are process-wide, and another thread, or the user's own logging, keeps what it had."""
    drop = _ThisThreadBelow(below)
    handlers = [h for name in ("mlflow", "alembic") for h in logging.getLogger(name).handlers]
    for handler in handlers:
        handler.addFilter(drop)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(drop)
