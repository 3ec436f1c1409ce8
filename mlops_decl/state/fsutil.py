"""Small file-system helpers of the local backend: owner-only files, atomic temp names, fsync."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def ensure_dir(path: Path) -> None:
    # Owner-only: state holds ids and attributes that may be sensitive.
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def temp_prefix(path: Path) -> str:
    # Temp names carry the pid, so leftovers of a killed process can be recognised and swept.
    return f".{path.name}.{os.getpid()}."


def sweep(path: Path) -> None:
    """Remove temp files next to path left by processes that died mid-write."""
    prefix = f".{path.name}."
    with contextlib.suppress(OSError):
        for name in os.listdir(path.parent):
            pid = name[len(prefix) :].split(".", 1)[0]
            if (
                name.startswith(prefix)
                and name.endswith(".tmp")
                and pid.isdigit()
                and not pid_alive(int(pid))
            ):
                with contextlib.suppress(OSError):
                    os.unlink(path.parent / name)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
