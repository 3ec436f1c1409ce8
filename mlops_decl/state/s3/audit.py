"""The s3 backend's audit storage: one object per entry, `KEY.audit/<seq>`, each created with
If-None-Match: * so that of two appenders that saw the same last entry only one writes the
next; the other reads the new last entry and tries again."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from mlops_decl.state.model import StateError
from mlops_decl.state.s3.remote import Remote

Entry = dict[str, Any]


class S3AuditStore:
    def __init__(self, remote: Remote):
        self.remote = remote
        self.prefix = f"{remote.key}.audit/"
        self._last: Entry | None = None  # the last entry this store saw, to list only newer ones

    def describe(self) -> str:
        return f"audit log s3://{self.remote.bucket}/{self.prefix}"

    def _key(self, seq: int) -> str:
        return f"{self.prefix}{seq:012d}"

    def append(self, make: Callable[[Entry | None], Entry]) -> Entry:
        pause = 0.02
        for _ in range(200):
            entry = make(self._latest())
            body = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
            if self.remote.create(self._key(int(entry["seq"])), body):
                self._last = entry
                return entry
            time.sleep(pause * random.uniform(0.5, 1.5))  # another appender took that place
            pause = min(pause * 2, 0.5)
        raise StateError(f"could not append to the {self.describe()}: other appenders keep taking its end")

    def _latest(self) -> Entry | None:
        after = self._key(int(self._last["seq"])) if self._last else None
        keys = self.remote.keys(self.prefix, start_after=after)
        if keys:
            got = self.remote.get(keys[-1])
            if got is not None:
                self._last = json.loads(got.body)
        return self._last

    def records(self) -> Iterator[tuple[int, str]]:
        keys = self.remote.keys(self.prefix)
        for n, body in enumerate(self.remote.bodies(keys), 1):
            text = body.decode() if body else ""
            if text.strip():
                yield n, text
