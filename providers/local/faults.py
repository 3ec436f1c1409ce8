"""Fault injection for tests and drills: make chosen calls fail transiently, fail for good,
or hang. Set under `providers: {local: {faults: [...]}}` or in MLOPS_LOCAL_FAULTS (JSON).

    faults:
      - {op: create, kind: dataset, name: b, mode: permanent}
      - {op: read, mode: transient, times: 2}      # fail twice, then succeed
      - {op: update, name: slow, mode: hang, seconds: 30}
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from mlops_decl.provider import ConfigError, ProviderError

OPS = ("read", "create", "update", "delete")
MODES = ("transient", "permanent", "hang")
ENV = "MLOPS_LOCAL_FAULTS"


@dataclass
class Fault:
    op: str
    mode: str
    kind: str | None = None
    name: str | None = None
    times: int = 1
    seconds: float = 3600.0
    fired: int = 0

    def matches(self, op: str, kind: str, name: str | None) -> bool:
        return (
            self.op == op
            and (self.kind is None or self.kind == kind)
            and (self.name is None or self.name == name)
        )


@dataclass
class Faults:
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, op: str, kind: str, name: str | None) -> None:
        """Raise or hang if a fault matches this call."""
        for f in self.faults:
            if not f.matches(op, kind, name):
                continue
            with self.lock:
                if f.mode == "transient" and f.fired >= f.times:
                    continue
                f.fired += 1
            where = f"{op} {kind}.{name}" if name else f"{op} {kind}"
            if f.mode == "transient":
                raise ProviderError(
                    f"injected transient fault on {where} ({f.fired}/{f.times})", retryable=True
                )
            if f.mode == "permanent":
                raise ProviderError(f"injected permanent fault on {where}")
            time.sleep(f.seconds)


def parse_faults(raw: Any) -> Faults:
    items = list(raw or [])
    env = os.environ.get(ENV)
    if env:
        try:
            items += json.loads(env)
        except ValueError as exc:
            raise ConfigError(
                f"{ENV} is not JSON: {exc}", hint='e.g. [{"op": "create", "mode": "permanent"}]'
            ) from None
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConfigError(
                "a fault must be a mapping", field=("faults", i), hint="{op: create, mode: permanent}"
            )
        op, mode = item.get("op"), item.get("mode")
        if op not in OPS:
            raise ConfigError(f"fault op must be one of {', '.join(OPS)}", field=("faults", i, "op"))
        if mode not in MODES:
            raise ConfigError(f"fault mode must be one of {', '.join(MODES)}", field=("faults", i, "mode"))
        unknown = set(item) - {"op", "mode", "kind", "name", "times", "seconds"}
        if unknown:
            raise ConfigError(f"unknown fault field `{sorted(unknown)[0]}`", field=("faults", i))
        out.append(
            Fault(
                op=op,
                mode=mode,
                kind=item.get("kind"),
                name=item.get("name"),
                times=int(item.get("times", 1)),
                seconds=float(item.get("seconds", 3600.0)),
            )
        )
    return Faults(out)
