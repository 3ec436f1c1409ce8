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
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from ..client import LocalEnv, open_sqlite_readonly
from ..stores.capture_writer import Writer
from . import payloads
from .scoring import PendingModel, address, resolve_version, score, score_many

if TYPE_CHECKING:
    from .http_server import Limits


WHOLE_TURN_BYTES = 64 * 2**10  # a body up to this size is parsed and scored in one turn
Reply = tuple[int, dict[str, Any]]


class _Job:
    """A small request waiting for its turn; whoever's turn comes first answers it."""

    __slots__ = ("body", "content_type", "reply")

    def __init__(self, body: bytes, content_type: str | None):
        self.body, self.content_type = body, content_type
        self.reply: Reply | None = None


def _unreadable(exc: payloads.BadPayload) -> Reply:
    return exc.status, {"error": f"bad request: {exc}", "hint": exc.hint}


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
        self._waiting: list[_Job] = []  # small requests not yet answered (see invoke)
        self._waiting_lock = threading.Lock()

    def health(self) -> Reply:
        model = self.attrs["model"]
        try:
            payload: dict[str, Any] = {"status": "ok", "model": model, "version": self.version()}
        except PendingModel as exc:
            payload = {"status": "pending_model", "model": model, "version": None, "hint": exc.hint}
        except Exception as exc:  # the registry unreadable: say so rather than drop the line
            return 503, {"status": "error", "model": model, "version": None, "error": str(exc)}
        return 200, {**payload, "capture": self.captures.stats() if self.captures else "off"}

    def invoke(self, body: bytes, content_type: str | None) -> Reply:
        """A large body takes a turn per step (see Turns). Small ones wait for a turn together:
        the first to get it answers every small request that queued meanwhile with one model
        call (score_many), up to WHOLE_TURN_BYTES of bodies, so concurrent clients share the
        cost of the model's transforms instead of paying it once each."""
        if len(body) > WHOLE_TURN_BYTES:
            return self._invoke(body, content_type)
        job = _Job(body, content_type)
        with self._waiting_lock:
            self._waiting.append(job)
        with self.turns():
            if job.reply is None:
                self._invoke_many(self._take(job))
        return job.reply or (500, {"error": "the request was not answered"})

    def _take(self, job: _Job) -> list[_Job]:
        """`job` and the small requests queued before it, oldest first, up to WHOLE_TURN_BYTES."""
        with self._waiting_lock:
            taken, left, size = [job], [], len(job.body)
            for other in self._waiting:
                if other is not job and size + len(other.body) <= WHOLE_TURN_BYTES:
                    taken.append(other)
                    size += len(other.body)
                elif other is not job:
                    left.append(other)
            self._waiting = left
        return taken

    def _invoke_many(self, jobs: list[_Job]) -> None:
        parsed: list[tuple[_Job, Any]] = []
        try:
            for job in jobs:
                try:
                    parsed.append((job, payloads.parse(job.body, job.content_type)))
                except payloads.BadPayload as exc:
                    job.reply = _unreadable(exc)
            if not parsed:
                return
            try:
                version = self.version()
                sink = self.captures.put if self.captures else None
                results = score_many(
                    self.env, self.id, self.attrs, self.rt, [f for _, f in parsed], version=version, sink=sink
                )
            except ProviderError as exc:
                for job, _ in parsed:
                    job.reply = self._refusal(exc)
                return
            for (job, _), result in zip(parsed, results, strict=True):
                job.reply = self._refusal(result) if isinstance(result, ProviderError) else self._ok(result)
        finally:  # whatever went wrong, no request waits for an answer that will not come
            for job in jobs:
                if job.reply is None:
                    job.reply = 500, {"error": "the request could not be scored"}

    def _invoke(self, body: bytes, content_type: str | None) -> Reply:
        try:
            with self.turns():
                frame = payloads.parse(body, content_type)
        except payloads.BadPayload as exc:
            return _unreadable(exc)
        try:
            version = self.version()
            sink = self.captures.put if self.captures else None
            result = score(
                self.env, self.id, self.attrs, self.rt, frame, version=version, sink=sink, turn=self.turns
            )
        except ProviderError as exc:
            return self._refusal(exc)
        return self._ok(result)

    def _ok(self, result: dict[str, Any]) -> Reply:
        return 200, {k: result[k] for k in ("predictions", "scores", "model", "version")}

    def _refusal(self, exc: ProviderError) -> Reply:
        if isinstance(exc, PendingModel):
            return 503, {"error": f"{self.endpoint} is {exc}", "hint": exc.hint}
        # retryable: the registry busy in another process
        return 503 if exc.retryable else 400, {"error": str(exc), "hint": getattr(exc, "hint", None)}
