"""Data files: where a dataset's uri points, its format, and what is in it.

A dataset's version is the content hash of its file, so a changed file is a diff on the next
plan. CSV is read once with the csv module, hashing the bytes as they stream past (no pandas);
parquet's row count and columns come from its footer (pyarrow, imported lazily).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlops_decl.checks.paths import local_path
from mlops_decl.provider import ConfigError, ProviderError

CHUNK = 1 << 20
VERSION_CHARS = 16  # version = the first 16 hex digits (64 bits) of the file's sha256
SUFFIX_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# A file whose ctime is this recent may still change within the same timestamp tick, so its
# facts are not cached (git's "racy clean" problem); see _racy.
_RACY_NS = 2_000_000_000
_FINE_RACY_NS = 100_000_000


@dataclass(frozen=True)
class FileFacts:
    path: str  # absolute
    format: str  # csv | parquet
    version: str
    rows: int
    columns: tuple[str, ...]  # a tuple: cached facts are shared between threads


def resolve_uri(uri: str, project_dir: Path) -> Path:
    """A local path: relative to the project, absolute, `~/...` or `file://` (the engine
    checked at validate that it stays inside the project or under `allow_paths:`)."""
    path = local_path(uri, project_dir)
    if path is None:
        raise ConfigError(
            f"the local provider reads local files only, not `{uri}`",
            field=("uri",),
            hint="give a path relative to the project directory, or use a cloud provider for remote data",
        )
    return Path(path)


def project_relative(path: Path | str, project_dir: Path) -> str:
    """path as the state records it: relative to the project when inside it, so a moved
    project (or another checkout) reads the same state without a change."""
    rel = os.path.relpath(path, project_dir)
    return str(path) if rel == ".." or rel.startswith("../") else Path(rel).as_posix()


def detect_format(path: Path, declared: str | None) -> str:
    if declared:
        return declared
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"cannot tell the format of `{path.name}` from its suffix",
            field=("format",),
            hint="set `format: csv` or `format: parquet`, or name the file *.csv / *.parquet",
        )
    return fmt


class _HashingReader(io.RawIOBase):
    """Feeds every byte read through it into a hash, so parsing and hashing share one pass."""

    def __init__(self, raw: Any, digest: Any):
        self._raw = raw
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self._digest.update(memoryview(buffer)[:n])
        return n or 0


def _unreadable(path: Path, why: str, hint: str) -> ConfigError:
    return ConfigError(f"cannot read dataset file {path}: {why}", field=("uri",), hint=hint)


def _count(records: Any, path: Path) -> tuple[list[str] | None, int]:
    """(header, data rows) of a CSV record stream; ragged rows are errors."""
    header: list[str] | None = None
    rows = 0
    try:
        for record in records:
            if not record:  # blank line; pandas skips these too
                continue
            if header is None:
                header = record
                continue
            if len(record) != len(header):  # too few is as wrong as too many
                raise _unreadable(
                    path,
                    f"line {records.line_num} has {len(record)} fields but the header has {len(header)}",
                    "fix the row, or quote fields that contain commas",
                )
            rows += 1
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from exc
    except csv.Error as exc:
        raise _unreadable(path, f"not valid CSV ({exc})", "check the file is comma-separated text") from exc
    return header, rows


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> ConfigError:
    return _unreadable(
        path,
        f"not UTF-8 text ({exc.reason} at byte {exc.start})",
        "save the file as UTF-8 CSV, or set `format: parquet` if it is parquet",
    )


def _inspect_csv(path: Path) -> tuple[str, int, list[str]]:
    with open(path, "rb", buffering=0) as raw:
        # readall() sizes its buffer from fstat; read(CHUNK + 1) allocated 1 MiB per file,
        # most of a fresh plan's file inspection (mmap, page faults) for small files.
        small = os.fstat(raw.fileno()).st_size <= CHUNK
        data = raw.readall() if small else b""
        if small and len(data) <= CHUNK:
            # small file (the common case, and every plan hashes every file): one read, no
            # streaming layers
            digest = hashlib.sha256(data)
            try:
                text: Any = io.StringIO(data.decode("utf-8-sig"), newline="")
            except UnicodeDecodeError as exc:
                raise _not_utf8(path, exc) from exc
            header, rows = _count(csv.reader(text), path)
        else:
            raw.seek(0)
            digest = hashlib.sha256()
            reader = _HashingReader(raw, digest)
            text = io.TextIOWrapper(io.BufferedReader(reader, CHUNK), encoding="utf-8-sig", newline="")
            header, rows = _count(csv.reader(text), path)
            while reader.readinto(bytearray(CHUNK)):  # hash whatever the text layer left unread
                pass
    if header is None:
        raise _unreadable(path, "the file is empty", "a CSV dataset needs a header row naming its columns")
    return digest.hexdigest(), rows, header


def _inspect_parquet(path: Path) -> tuple[str, int, list[str]]:
    import pyarrow.parquet as pq  # lazy: pyarrow costs ~0.3 s to import

    try:
        meta = pq.read_metadata(path)
        columns = list(meta.schema.to_arrow_schema().names)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and friends
        raise _unreadable(
            path, f"not a valid parquet file ({exc})", "check the file, or set `format: csv` if it is CSV"
        ) from exc
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest(), int(meta.num_rows), columns


class FactsStore(Protocol):
    """Where the inspector keeps facts between runs (the local catalog)."""

    def exists(self) -> bool: ...

    def file_facts(self) -> list[tuple[str, str, str, str, int, str]]: ...

    def put_file_facts(self, row: tuple[str, str, str, str, int, str]) -> None: ...


def _racy(started_ns: int, st: os.stat_result) -> bool:
    """Whether the file may still change within its timestamp tick after we read it.

    Timestamps with sub-second digits come from a file system that keeps nanoseconds (ext4,
    xfs, btrfs, tmpfs); the kernel stamps them from a clock that ticks every few ms, so 100 ms
    is safe. Whole seconds mean a coarse file system (FAT keeps 2 s): wait as git does."""
    fine = st.st_mtime_ns % 1_000_000_000 or st.st_ctime_ns % 1_000_000_000
    return started_ns - max(st.st_mtime_ns, st.st_ctime_ns) <= (_FINE_RACY_NS if fine else _RACY_NS)


class FileInspector:
    """Inspects data files, caching facts by (size, mtime, ctime, inode): in memory, so a plan
    that asks about the same file for a dataset and for the feature groups built on it hashes
    it once, and in `store` across runs, so an unchanged file is never read again."""

    def __init__(self, store: FactsStore | None = None) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[str, FileFacts]] = {}
        self._stored: dict[tuple[str, str], str] = {}  # what `store` holds, by key
        self._pending: dict[tuple[str, str], tuple[str, FileFacts]] = {}
        self._store = store
        self._loaded = store is None

    def _load(self) -> None:
        """Read the stored facts once, on first use (called with the lock held)."""
        self._loaded = True
        try:
            rows = self._store.file_facts() if self._store is not None else []
        except ProviderError:
            return  # a cache: without it every file is read, as before
        for path, fmt, signature, version, nrows, columns in rows:
            facts = FileFacts(path, fmt, version, nrows, tuple(json.loads(columns)))
            self._cache[(path, fmt)] = (signature, facts)
            self._stored[(path, fmt)] = signature

    def inspect(self, path: Path, fmt: str) -> FileFacts:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise _unreadable(
                path, "no such file", "check `uri` (relative paths start at the project directory)"
            ) from None
        except OSError as exc:
            raise _unreadable(path, exc.strerror or str(exc), "check the file's permissions") from exc
        if not stat.S_ISREG(st.st_mode):  # not path.is_file(): that would stat again
            raise _unreadable(path, "not a regular file", "point `uri` at a single .csv or .parquet file")
        key = (str(path), fmt)
        signature = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
        with self._lock:
            if not self._loaded:
                self._load()
            hit = self._cache.get(key)
        if hit is not None and hit[0] == signature:
            self._remember(key, signature, hit[1])
            return hit[1]
        started = time.time_ns()
        try:
            digest, rows, columns = _inspect_csv(path) if fmt == "csv" else _inspect_parquet(path)
        except OSError as exc:
            raise _unreadable(path, exc.strerror or str(exc), "check the file's permissions") from exc
        facts = FileFacts(str(path), fmt, digest[:VERSION_CHARS], rows, tuple(columns))
        if not _racy(started, st):
            with self._lock:
                self._cache[key] = (signature, facts)
            self._remember(key, signature, facts)
        return facts

    def _remember(self, key: tuple[str, str], signature: str, facts: FileFacts) -> None:
        """Store facts for later runs, once an apply has created the catalog (a plan of a new
        project writes nothing); until then they wait for flush(). Best effort: a cache."""
        if self._store is None or self._stored.get(key) == signature:
            return
        with self._lock:
            self._pending[key] = (signature, facts)
        if self._store.exists():
            self.flush()

    def flush(self) -> None:
        """Write pending facts if the catalog exists (LocalEnv.close calls this)."""
        if self._store is None or not self._pending or not self._store.exists():
            return
        with self._lock:
            pending, self._pending = self._pending, {}
        for (path, fmt), (signature, facts) in pending.items():
            row = (path, fmt, signature, facts.version, facts.rows, json.dumps(list(facts.columns)))
            try:
                self._store.put_file_facts(row)
            except ProviderError:
                return
            with self._lock:
                self._stored[(path, fmt)] = signature
