"""`Still creating... [10s elapsed]` for calls that take long, as Terraform prints it.

One daemon thread per apply, started with its first call, wakes
once a second and reports each call still running every `interval` seconds, through the
hooks (the engine never prints). Handlers that know more say it with Operation.emit.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

INTERVAL = 10.0  # seconds between reports of one call
INTERVAL_ENV = "MLOPS_PROGRESS_INTERVAL"  # tests and impatient users

_VERB = {"create": "creating", "update": "modifying", "delete": "destroying", "read": "reading"}


def interval() -> float:
    try:
        return max(0.1, float(os.environ.get(INTERVAL_ENV) or INTERVAL))
    except ValueError:
        return INTERVAL


class Ticker:
    def __init__(self, report: Callable[[str, str], None]):
        self.report = report  # (address, message)
        self.every = interval()
        self.running: dict[int, tuple[str, str, float]] = {}  # token -> (address, op, start)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.tokens = 0

    def start(self, address: str, op: str) -> int:
        with self.lock:
            self.tokens += 1
            self.running[self.tokens] = (address, op, time.monotonic())
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="mlops-ticker", daemon=True)
                self.thread.start()
            return self.tokens

    def done(self, token: int) -> None:
        with self.lock:
            self.running.pop(token, None)

    def stop(self) -> None:
        self.stopped.set()

    def _loop(self) -> None:
        told: dict[int, int] = {}
        while not self.stopped.wait(min(1.0, self.every)):
            now = time.monotonic()
            with self.lock:
                running = list(self.running.items())
            for token, (address, op, t0) in running:
                ticks = int((now - t0) // self.every)
                if ticks > told.get(token, 0):
                    told[token] = ticks
                    self.report(address, f"Still {_VERB.get(op, op)}... [{int(now - t0)}s elapsed]")
