"""Owner-only files under the local provider's data directory, without touching the process's
umask: SQLite files are created 0600 (their journals follow), and what other libraries create
through the umask is tightened after each call that writes, and at exit."""

from __future__ import annotations

import atexit
import contextlib
import os
from pathlib import Path

_AT_EXIT: set[Path] = set()


def tighten_at_exit(directory: Path) -> None:
    """Tighten `directory` when the process exits (a command does not close its providers):
    what an older version, or a process with a looser umask, made there."""
    if not _AT_EXIT:
        atexit.register(_tighten_all)
    _AT_EXIT.add(directory)


def _tighten_all() -> None:
    for directory in sorted(_AT_EXIT):
        owner_only(directory)


def private_file(path: Path) -> None:
    """Create `path` empty and owner-only unless it exists: SQLite then keeps the database,
    and its -wal, -shm and -journal files, at that mode."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def owner_only(directory: Path) -> None:
    """Drop group and other bits from everything under `directory`. SQLite, DuckDB, MLflow and
    numpy create their files through the umask (0644 by default); the 0700 directory already
    keeps others out, this keeps them out of copies and backups of it too."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
            if entry.is_dir(follow_symlinks=False):
                owner_only(Path(entry.path))
            elif entry.is_symlink():
                continue
            if mode & 0o077:
                os.chmod(entry.path, mode & 0o700)
        except OSError:  # removed meanwhile (SQLite's -shm at close): nothing to tighten
            continue
