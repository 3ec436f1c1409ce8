"""Fault injection around any provider, for tests and drills: make chosen lifecycle calls fail
transiently, fail for good, or hang. The engine wraps a provider in it when its settings carry
`faults:` or the environment variable MLOPS_<INSTANCE>_FAULTS (JSON) is set, so every provider
gets the same fault tests without knowing about them.

    providers:
      local:
        faults:
          - {op: create, kind: dataset, name: b, mode: permanent}
          - {op: read, mode: transient, times: 2}      # fail twice, then succeed
          - {op: update, name: slow, mode: hang, seconds: 30}
          - {op: create, name: slow, mode: hang, after: true}   # once the object is made

`after: true` (create only) strikes once the provider's create has returned, as a cloud create
that got its id and then hangs waiting for the object to be ready. MLOPS_<INSTANCE>_FAULT_LOG
names a file that gets one line per call that reaches fault injection (`create dataset a`), so
a test can count the calls a process made even when it was killed.

`name` matches a resource's name on create and its id on read, update and delete (the engine
knows no other name for an object it has made).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from mlops_decl.plan_context import EMPTY, PlanContext, call_plan
from mlops_decl.provider import NAME_KEY, Attributes, ConfigError, Handler, Planned, ProviderError

OPS = ("read", "create", "update", "delete")
MODES = ("transient", "permanent", "hang")
SETTING = "faults"
FIELDS = frozenset({"op", "mode", "kind", "name", "times", "seconds", "after"})


def env_var(instance: str, suffix: str = "FAULTS") -> str:
    """MLOPS_LOCAL_FAULTS for `local`, MLOPS_AWS_EU_FAULTS for `aws-eu`."""
    return f"MLOPS_{re.sub(r'[^A-Za-z0-9]', '_', instance).upper()}_{suffix}"


@dataclass
class Fault:
    op: str
    mode: str
    kind: str | None = None
    name: str | None = None
    times: int = 1
    seconds: float = 3600.0
    after: bool = False
    fired: int = 0

    def matches(self, op: str, kind: str, name: str | None, after: bool = False) -> bool:
        return (
            self.op == op
            and self.after == after
            and (self.kind is None or self.kind == kind)
            and (self.name is None or self.name == name)
        )


@dataclass
class Faults:
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    log: str | None = None

    def hit(self, op: str, kind: str, name: str | None, *, after: bool = False) -> None:
        """Raise or hang if a fault matches this call (`after`: the object is made)."""
        if self.log and not after:
            with self.lock, open(self.log, "a") as fh:
                fh.write(f"{op} {kind} {name}\n")
        for f in self.faults:
            if not f.matches(op, kind, name, after):
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


def parse_faults(raw: Any, env: str | None = None, log: str | None = None) -> Faults:
    """The faults a `faults:` setting and the environment variable `env` name; ConfigError
    with the field path (under the provider's settings) when one is malformed."""
    if raw is not None and not isinstance(raw, list):
        raise ConfigError(
            "`faults` must be a list", field=(SETTING,), hint="faults: [{op: create, mode: permanent}]"
        )
    items = list(raw or [])
    text = os.environ.get(env) if env else None
    if text:
        try:
            extra = json.loads(text)
        except ValueError as exc:
            raise ConfigError(
                f"{env} is not JSON: {exc}", hint='e.g. [{"op": "create", "mode": "permanent"}]'
            ) from None
        items += extra if isinstance(extra, list) else [extra]
    return Faults([_fault(i, item) for i, item in enumerate(items)], log=log)


def _fault(i: int, item: Any) -> Fault:
    if not isinstance(item, dict):
        raise ConfigError(
            "a fault must be a mapping", field=(SETTING, i), hint="{op: create, mode: permanent}"
        )
    op, mode = item.get("op"), item.get("mode")
    if op not in OPS:
        raise ConfigError(f"fault op must be one of {', '.join(OPS)}", field=(SETTING, i, "op"))
    if mode not in MODES:
        raise ConfigError(f"fault mode must be one of {', '.join(MODES)}", field=(SETTING, i, "mode"))
    unknown = set(item) - FIELDS
    if unknown:
        raise ConfigError(f"unknown fault field `{sorted(unknown)[0]}`", field=(SETTING, i))
    try:
        times, seconds = int(item.get("times", 1)), float(item.get("seconds", 3600.0))
    except (TypeError, ValueError):
        raise ConfigError("`times` and `seconds` must be numbers", field=(SETTING, i)) from None
    after = item.get("after", False)
    if not isinstance(after, bool) or after and op != "create":
        raise ConfigError("`after` is true or false, on a create fault only", field=(SETTING, i, "after"))
    return Fault(op, mode, item.get("kind"), item.get("name"), times, seconds, after)


class FaultyHandler(Handler):
    """A handler whose lifecycle calls pass through the faults first. It has no `read_many`:
    faults are per object, so a refresh reads one by one."""

    def __init__(self, inner: Handler, faults: Faults):
        self.inner = inner
        self.faults = faults
        self.kind = inner.kind  # type: ignore[misc]  # per instance: it mirrors the wrapped kind
        self.force_new = inner.force_new  # type: ignore[misc]
        self.computed = inner.computed  # type: ignore[misc]
        self.timeouts = inner.timeouts  # type: ignore[misc]

    def plan(
        self, desired: Attributes, prior: Attributes | None, context: PlanContext = EMPTY
    ) -> Planned | Attributes:
        return call_plan(self.inner, desired, prior, context)

    # Whatever else the engine passes (the operation context) goes to the wrapped handler.
    def read(self, id: str, prior: Attributes, *args: Any, **kw: Any) -> Attributes | None:
        self.faults.hit("read", self.kind, id)
        return self.inner.read(id, prior, *args, **kw)

    def create(self, desired: Attributes, *args: Any, **kw: Any) -> tuple[str, Attributes]:
        name = desired.get(NAME_KEY)
        self.faults.hit("create", self.kind, name)
        made = self.inner.create(desired, *args, **kw)
        self.faults.hit("create", self.kind, name, after=True)
        return made

    def update(self, id: str, prior: Attributes, desired: Attributes, *args: Any, **kw: Any) -> Attributes:
        self.faults.hit("update", self.kind, id)
        return self.inner.update(id, prior, desired, *args, **kw)

    def delete(self, id: str, prior: Attributes, *args: Any, **kw: Any) -> None:
        self.faults.hit("delete", self.kind, id)
        self.inner.delete(id, prior, *args, **kw)

    def __getattr__(self, name: str) -> Any:
        if name == "read_many":
            raise AttributeError(name)
        return getattr(self.inner, name)


class FaultyProvider:
    """A configured provider whose handlers inject `faults`; everything else (actions, close,
    the provider's own attributes) is the wrapped provider's."""

    def __init__(self, inner: Any, faults: Faults):
        self.inner = inner
        self.faults = faults
        self.name = inner.name
        self._handlers: dict[str, FaultyHandler] = {}
        self._lock = threading.Lock()

    def configure(self, settings: dict[str, Any], ctx: Any) -> None:
        self.inner.configure(settings, ctx)

    def kinds(self) -> frozenset[str]:
        kinds: frozenset[str] = self.inner.kinds()
        return kinds

    def handler(self, kind: str) -> Handler | None:
        inner = self.inner.handler(kind)
        if inner is None:
            return None
        with self._lock:
            wrapped = self._handlers.get(kind)
            if wrapped is None or wrapped.inner is not inner:
                wrapped = self._handlers[kind] = FaultyHandler(inner, self.faults)
            return wrapped

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def split_settings(instance: str, settings: dict[str, Any]) -> tuple[dict[str, Any], Faults | None]:
    """(the provider's own settings, the faults to inject or None). The engine calls this
    before configure(): `faults` is the engine's setting, never the provider's."""
    own = {k: v for k, v in settings.items() if k != SETTING}
    env, log = env_var(instance), os.environ.get(env_var(instance, "FAULT_LOG")) or None
    if SETTING not in settings and not os.environ.get(env) and not log:
        return own, None
    faults = parse_faults(settings.get(SETTING), env, log)
    return own, (faults if faults.faults or log else None)
