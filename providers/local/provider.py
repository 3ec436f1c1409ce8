"""The local provider: everything on one machine, offline (docs/kinds.md, per kind).

Handlers are made on first use and shared; the engine calls them from many threads.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import Any

from mlops_decl.provider import Action, ConfigError, Handler, ProviderContext, ProviderError

from .base import LocalEnv, LocalHandler
from .dataset import DatasetHandler
from .definitions import MonitorHandler, RegistryPolicyHandler, TrainingPipelineHandler
from .endpoint import EndpointHandler
from .feature_group import FeatureGroupHandler
from .model import ModelHandler

HANDLERS: dict[str, type[LocalHandler]] = {
    h.kind: h
    for h in (
        DatasetHandler,
        FeatureGroupHandler,
        TrainingPipelineHandler,
        ModelHandler,
        RegistryPolicyHandler,
        EndpointHandler,
        MonitorHandler,
    )
}

SETTINGS = {
    "delay_ms": "added latency in milliseconds on every read/create/update/delete (benchmarks)",
}


# Runtime actions: (kind, action) -> "module:function" under this package, imported on first
# use so that plan and validate never load scikit-learn or the HTTP server. Each function is
# fn(env: LocalEnv, id: str, attrs: dict, rt: RuntimeContext, **arguments) -> its result (a dict,
# or for the model and monitor evidence actions a dataclass of mlops_decl.ml.evidence).
ACTIONS: dict[tuple[str, str], str] = {
    ("monitor", "reference_data"): "profile:reference_data",
    ("monitor", "current_data"): "monitoring:current_data",
    ("feature_group", "materialize"): "features:materialize",
    ("feature_group", "online"): "features:online",
    ("training_pipeline", "run"): "training:run",
    ("training_pipeline", "end_interrupted"): "tracking:end_interrupted",
    ("model", "version_evidence"): "versions:version_evidence",
    ("model", "evaluation_rows"): "versions:evaluation_rows",
    ("model", "score"): "versions:score",
    ("model", "list_versions"): "versions:list_versions",
    ("model", "set_alias"): "versions:set_alias",
    ("model", "add_approval"): "versions:add_approval",
    ("endpoint", "predict"): "serving:predict",
    ("endpoint", "serve"): "serving:serve",
}


class LocalProvider:
    name = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._env: LocalEnv | None = None
        self._handlers: dict[str, LocalHandler] = {}

    def configure(self, settings: dict[str, Any], ctx: ProviderContext) -> None:
        settings = dict(settings or {})
        for key in settings:
            if key not in SETTINGS:
                accepted = ", ".join(f"{k} ({v})" for k, v in SETTINGS.items())
                raise ConfigError(
                    f"unknown setting `{key}` for the local provider",
                    field=(key,),
                    hint=f"settings: {accepted}",
                )
        delay = settings.get("delay_ms", 0)
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
            raise ConfigError(
                f"`delay_ms` must be a whole number of milliseconds >= 0, not {delay!r}",
                field=("delay_ms",),
                hint="e.g. delay_ms: 50",
            )
        with self._lock:
            if self._env is not None:
                self._env.close()
            self._env = LocalEnv(ctx, delay_ms=delay)
            self._handlers = {}

    def kinds(self) -> frozenset[str]:
        return frozenset(HANDLERS)

    def handler(self, kind: str) -> Handler | None:
        cls = HANDLERS.get(kind)
        if cls is None:
            return None
        with self._lock:
            if self._env is None:
                raise ProviderError("the local provider was used before configure()")
            handler = self._handlers.get(kind)
            if handler is None:
                handler = self._handlers[kind] = cls(self._env)
            return handler

    def action(self, kind: str, name: str) -> Action | None:
        target = ACTIONS.get((kind, name))
        if target is None:
            return None
        module, _, func = target.partition(":")
        fn = getattr(importlib.import_module(f"{__package__}.{module}"), func)
        env = self.env
        return functools.partial(fn, env)

    @property
    def env(self) -> LocalEnv:
        """The shared stores, for the runtime actions (run, promote, serve, check)."""
        if self._env is None:
            raise ProviderError("the local provider was used before configure()")
        return self._env

    def close(self) -> None:
        """Close the catalog and feature store connections (tests; long-lived processes)."""
        with self._lock:
            if self._env is not None:
                self._env.close()
