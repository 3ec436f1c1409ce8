"""Where a dataset's data may come from: inside the project, or under what `allow_paths:` in
mlops.yaml lists. A config repo must not make `plan` read (and print facts of) a file such as
/etc/passwd or ~/.aws/credentials, so a path is judged by where it really leads, symlinks
followed."""

from __future__ import annotations

import os
import re
from pathlib import Path

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB = re.compile(r"[*?\[]")


def local_path(uri: str, root: Path) -> str | None:
    """The file a uri names on this machine (relative to the project, absolute, `~/...` or
    `file:`), as the local provider reads it; None for a remote uri (s3://...)."""
    text = uri
    if text.startswith("file:"):
        from urllib.parse import unquote, urlparse  # only for file: URIs (~2 ms to import)

        parsed = urlparse(text)
        # file:///abs/x.csv is absolute; file://data/x.csv is read as project-relative.
        host = parsed.netloc if parsed.netloc not in ("", "localhost") else ""
        text = unquote(host + parsed.path) if host else unquote(parsed.path)
    elif _SCHEME.match(text):
        return None
    text = os.path.expanduser(text)
    return os.path.normpath(text if os.path.isabs(text) else os.path.join(root, text))


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


class PathRules:
    """The project's rule for data paths: inside `root`, or under an `allow_paths` entry (a
    directory, or a glob pattern matched against the whole path), judged after symlinks."""

    def __init__(self, root: Path, allow: list[str]):
        self._dirs: dict[str, str] = {}  # directory -> its real path, resolved once per check
        self.root_path = root
        self.root = str(root)
        self.allow = list(allow)

    def _real_dir(self, directory: str) -> str:
        real = self._dirs.get(directory)
        if real is None:
            real = self._dirs[directory] = os.path.realpath(directory)
        return real

    def real_path(self, path: str) -> str:
        """`path` with every symlink resolved; a thousand datasets in one folder resolve the
        folder once."""
        if os.path.islink(path):
            return os.path.realpath(path)
        head, tail = os.path.split(path)
        return os.path.join(self._real_dir(head), tail)

    def allows(self, path: str) -> bool:
        real = self.real_path(path)
        if _under(real, self._real_dir(self.root)):
            return True
        for entry in self.allow:
            pattern = os.path.expanduser(entry)
            pattern = os.path.normpath(
                pattern if os.path.isabs(pattern) else os.path.join(self.root, pattern)
            )
            if _GLOB.search(pattern):
                import fnmatch  # only for glob entries

                base = os.path.dirname(_GLOB.split(pattern, 1)[0])
                if fnmatch.fnmatchcase(real, self._real_dir(base) + pattern[len(base) :]):
                    return True
            elif _under(real, self._real_dir(pattern)):
                return True
        return False
