"""What `classpath` found about a class path, kept between runs.

Reading scikit-learn's source to answer "is this a class with fit and predict" costs more than
the rest of `validate`, and the answer only changes when the files read change. So each
answer is saved with the files it was read from (mtime, size, and their folder's mtime, which
changes when a module is added or removed beside them) and reused while they are unchanged.
The cache lives in the user's cache folder ($MLOPS_DECL_CACHE_DIR, else
$XDG_CACHE_HOME/mlops-decl, else ~/.cache/mlops-decl); it is never required: when it cannot be
read or written, the source is read again.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Bump when classpath's reading of source changes what it reports.
FORMAT = 2
_MAX_ENTRIES = 256
_FILE = "classpaths.json"

Signature = list[Any]  # [path, mtime_ns, size, folder mtime_ns]


def cache_dir() -> Path:
    explicit = os.environ.get("MLOPS_DECL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mlops-decl"


def _signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)
        folder = os.stat(os.path.dirname(path) or ".")
    except OSError:
        return None
    return [path, st.st_mtime_ns, st.st_size, folder.st_mtime_ns]


def signatures(paths: Iterable[str]) -> list[Signature] | None:
    out = []
    for p in paths:
        sig = _signature(p)
        if sig is None:
            return None
        out.append(sig)
    return out


def _key(class_path: str, origin: str) -> str:
    # The Python (its prefix and version) and the module file the path starts from: the same
    # class path can name different code in another venv or with another sys.path.
    return f"{FORMAT}|{sys.prefix}|{sys.version_info[0]}.{sys.version_info[1]}|{origin}|{class_path}"


def _load() -> dict[str, Any]:
    try:
        data = json.loads((cache_dir() / _FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


_entries: dict[str, Any] | None = None


def _all() -> dict[str, Any]:
    global _entries
    if _entries is None:
        _entries = _load()
    return _entries


def lookup(class_path: str, origin: str) -> dict[str, Any] | None:
    """The saved answer for `class_path` when every file it was read from is unchanged."""
    entry = _all().get(_key(class_path, origin))
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), list):
        return None
    for sig in entry["files"]:
        if not isinstance(sig, list) or not sig or _signature(str(sig[0])) != sig:
            return None
    answer = entry.get("answer")
    return answer if isinstance(answer, dict) else None


def save(class_path: str, origin: str, answer: dict[str, Any], files: list[Signature]) -> None:
    entries = _all()
    entries[_key(class_path, origin)] = {"answer": answer, "files": files}
    while len(entries) > _MAX_ENTRIES:
        entries.pop(next(iter(entries)))
    import tempfile  # only on a miss: its import costs more than a cached answer

    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".classpaths-", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(entries, f)
        os.replace(tmp, folder / _FILE)  # readers see the old file or the new one, never half
    except OSError:
        return
