"""The libraries' errors as the engine's error categories (mlops_decl.provider.Category), in
one place, so every handler and action reports them alike.

MLflow raises MlflowException with an `error_code`; SQLite and DuckDB raise their own
exceptions. Only a database another process holds is worth retrying (transient); the rest is
the request's fault and fails the resource.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mlops_decl.provider import Category, ProviderError

MISSING = "RESOURCE_DOES_NOT_EXIST"
EXISTS = "RESOURCE_ALREADY_EXISTS"


class StoreBusy(ProviderError):
    """Another process holds a DuckDB file (DuckDB allows one read-write process)."""

    def __init__(self, message: str):
        super().__init__(message, category=Category.TRANSIENT)


def error_code(exc: BaseException | None) -> str | None:
    """MLflow's error code of an exception (RESOURCE_DOES_NOT_EXIST, ...), or None."""
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, str) else None


def mlflow_error(what: str, exc: Exception) -> ProviderError:
    code = error_code(exc)
    message = getattr(exc, "message", None) or str(exc)
    # Only a locked database (another process writing) is worth retrying.
    locked = "database is locked" in str(exc)
    return ProviderError(f"MLflow {what}: {message}" + (f" ({code})" if code else ""), retryable=locked)


def sqlite_error(where: Path, exc: sqlite3.Error) -> ProviderError:
    # OperationalError: "database is locked" after the busy timeout, another process holds it.
    return ProviderError(f"local catalog {where}: {exc}", retryable=isinstance(exc, sqlite3.OperationalError))


def hinted(message: str, hint: str) -> ProviderError:
    """A ProviderError with a `hint` (the engine shows it under the message)."""
    err = ProviderError(message)
    err.hint = hint  # type: ignore[attr-defined]
    return err
