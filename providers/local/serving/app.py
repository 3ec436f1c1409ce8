"""What the local endpoint's HTTP handlers share (`App`): the endpoint and its limits, the
served version (re-read only when the registry database changed), the capture writer, and the
turns CPU-bound steps take so that a small request is never stuck behind a large one.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from ..client import LocalEnv, open_sqlite_readonly
from ..stores.capture_writer import Writer
from . import payloads
from .scoring import PendingModel, address, resolve_version, score

if TYPE_CHECKING:
    from .http_server import Limits


WHOLE_TURN_BYTES = 64 * 2**10  # a body up to this size is parsed and scored in one turn


class LiveVersion:
    """resolve_version, asked again only when the registry database changed since: SQLite's
    `PRAGMA data_version` on a connection of our own moves whenever another connection commits,
    so a promotion still reaches the next request, and the rest cost one pragma, not an MLflow
    registry read."""

    def __init__(self, env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None):
        self.env, self.id, self.attrs, self.rt = env, id, attrs, rt
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._seen: tuple[int, int] | None = None
        self._version: int | None = None

    def _stamp(self) -> tuple[int, int] | None:
        path = self.env.registry.db_path
        try:
            inode = os.stat(path).st_ino  # a database replaced under the same name
            if self._conn is None:
                self._conn = open_sqlite_readonly(path)
            return inode, int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except (OSError, sqlite3.Error):
            return None  # no database yet, or unreadable: ask the registry every time

    def __call__(self) -> int:
        with self._lock:
            stamp = self._stamp()
            if stamp is not None and stamp == self._seen and self._version is not None:
                return self._version
            self._version = resolve_version(self.env, self.id, self.attrs, self.rt)
            self._seen = stamp
            return self._version

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class Turns:
    """The CPU-bound steps of requests, one at a time, first come first served. Python runs
    one thread at a time anyway; a small request takes a single turn for all its work, a large
    one a turn per step (parse, prepare, each chunk of serving.CHUNK_ROWS rows), so a 1-row
    request waits for one step of a 5,000-row request at most, instead of sharing the
    interpreter with all of it (and waiting a 5 ms switch interval whenever it gives it up)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._owner: int | None = None  # the thread whose turn it is

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self._owner == threading.get_ident():  # a step inside the request's own turn
            yield
            return
        me = object()
        with self._cond:
            self._queue.append(me)
            while self._queue[0] is not me:
                self._cond.wait()
            self._owner = threading.get_ident()
        try:
            yield
        finally:
            with self._cond:
                self._owner = None
                self._queue.popleft()
                self._cond.notify_all()


class App:
    """What the handlers share: the endpoint, its limits, the live version, the capture writer."""

    def __init__(
        self, env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None, lim: Limits, capture: bool
    ):
        self.env, self.id, self.attrs, self.rt, self.limits = env, id, attrs, rt, lim
        self.endpoint = address(rt, "endpoint", id)
        self.version = LiveVersion(env, id, attrs, rt)
        self.captures = Writer(env) if capture else None
        self.turns = Turns()

    def health(self) -> tuple[int, dict[str, Any]]:
        model = self.attrs["model"]
        try:
            payload: dict[str, Any] = {"status": "ok", "model": model, "version": self.version()}
        except PendingModel as exc:
            payload = {"status": "pending_model", "model": model, "version": None, "hint": exc.hint}
        except Exception as exc:  # the registry unreadable: say so rather than drop the line
            return 503, {"status": "error", "model": model, "version": None, "error": str(exc)}
        return 200, {**payload, "capture": self.captures.stats() if self.captures else "off"}

    def invoke(self, body: bytes, content_type: str | None) -> tuple[int, dict[str, Any]]:
        with self.turns() if len(body) <= WHOLE_TURN_BYTES else nullcontext():
            return self._invoke(body, content_type)

    def _invoke(self, body: bytes, content_type: str | None) -> tuple[int, dict[str, Any]]:
        try:
            with self.turns():
                frame = payloads.parse(body, content_type)
        except payloads.BadPayload as exc:
            return exc.status, {"error": f"bad request: {exc}", "hint": exc.hint}
        try:
            version = self.version()
            sink = self.captures.put if self.captures else None
            result = score(
                self.env, self.id, self.attrs, self.rt, frame, version=version, sink=sink, turn=self.turns
            )
        except PendingModel as exc:
            return 503, {"error": f"{self.endpoint} is {exc}", "hint": exc.hint}
        except ProviderError as exc:  # retryable: the registry busy in another process
            return 503 if exc.retryable else 400, {"error": str(exc), "hint": getattr(exc, "hint", None)}
        return 200, {k: result[k] for k in ("predictions", "scores", "model", "version")}
