"""The serving process's capture writer: scored batches queued by the request threads and
written by one background thread, bounded, so capture never slows scoring or grows memory."""

from __future__ import annotations

import threading
import time
from typing import Any

from mlops_decl.provider import ProviderError

from ..client import LocalEnv
from .capture import Batch, write
from .capture_segments import append


class Writer:
    """Captures off the request path. `put` queues a scored batch and returns at once; a thread
    writes what has gathered in one transaction every `interval` seconds (opening DuckDB costs
    tens of milliseconds of CPU: not something to do per request). At most `max_rows` wait:
    past that a batch is dropped and counted (`dropped`), so a slow or locked store never
    slows scoring or grows memory without bound."""

    def __init__(self, env: LocalEnv, *, max_rows: int = 200_000, interval: float = 1.0):
        self.env, self.max_rows, self.interval = env, max_rows, interval
        self.written = self.dropped = self.pending = 0
        self.error: str | None = None
        self._queue: list[Batch] = []
        self._cond = threading.Condition()
        self._hurry = self._closing = False
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()

    def put(self, batch: Batch) -> bool:
        with self._cond:
            if self._closing or self.pending + batch.rows > self.max_rows:
                self.dropped += batch.rows
                return False
            self._queue.append(batch)
            self.pending += batch.rows
            # wake the writer for the first batch (it then gathers for `interval`), and at once
            # for a burst
            if len(self._queue) == 1 or self.pending >= self.max_rows // 4:
                self._cond.notify_all()
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (or dropped); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._hurry = True
            self._cond.notify_all()
            while self.pending and time.monotonic() < deadline:
                self._cond.wait(min(0.05, max(deadline - time.monotonic(), 0)))
            self._hurry = False
            return not self.pending

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "written": self.written,
                "pending": self.pending,
                "dropped": self.dropped,
                "error": self.error,
            }

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                if not (self._hurry or self._closing):  # gather a batch
                    self._cond.wait(self.interval)
                batches, self._queue = self._queue, []
            try:
                left = append(self.env, batches)  # columns, no per-row work: see capture_segments
            except Exception as exc:  # the segment could not be written (disk full): count them
                left = batches
                with self._cond:
                    self.error = f"{type(exc).__name__}: {exc}"
            done = sum(b.rows for b in batches) - sum(b.rows for b in left)
            if done:
                with self._cond:
                    self.written += done
                    self.pending -= done
                    self._cond.notify_all()
            batches, rows = left, sum(b.rows for b in left)
            if not batches:
                with self._cond:
                    self.error = None
                continue
            try:
                write(self.env, batches)  # what the columns could not take, as JSON lines
            except ProviderError as exc:  # the store held by another process: retry later
                with self._cond:
                    self.error = str(exc)
                    if self._closing:
                        self.dropped += rows
                        self.pending -= rows
                    else:
                        self._queue[:0] = batches
                    self._cond.notify_all()
                continue
            except Exception as exc:  # rows the store cannot take: count them, keep serving
                with self._cond:
                    self.error = f"{type(exc).__name__}: {exc}"
                    self.dropped += rows
                    self.pending -= rows
                    self._cond.notify_all()
                continue
            with self._cond:
                self.written += rows
                self.pending -= rows
                self.error = None
                self._cond.notify_all()
