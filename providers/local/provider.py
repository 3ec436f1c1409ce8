"""The local provider: everything on one machine, offline (docs/kinds.md, per kind).

Handlers are made on first use and shared; the engine calls them from many threads. This
module stays light to import (handlers and stores load at configure): `validate` loads
it to read the schema.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import TYPE_CHECKING, Any

from mlops_decl.provider import Action, Handler, ProviderContext, ProviderError
from mlops_decl.provider_schema import ProviderSchema, check_settings

from .settings import SCHEMA

if TYPE_CHECKING:
    from .base import LocalHandler
    from .client import LocalEnv

# kind -> "module:class" under this package, imported at configure
HANDLERS: dict[str, str] = {
    "dataset": "dataset:DatasetHandler",
    "feature_group": "feature_group:FeatureGroupHandler",
    "training_pipeline": "training_pipeline:TrainingPipelineHandler",
    "model": "model:ModelHandler",
    "registry_policy": "registry_policy:RegistryPolicyHandler",
    "endpoint": "endpoint:EndpointHandler",
    "monitor": "monitor:MonitorHandler",
}


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), attr)


# Runtime actions: (kind, action) -> "module:function" under this package (actions/, a module
# per group), imported on first use so that plan and validate never load scikit-learn or the
# HTTP server. Each function is fn(env: LocalEnv, id: str, attrs: dict, rt: RuntimeContext, **arguments) -> the action's
# result dataclass (mlops_decl/actions/catalog.py names each one's).
ACTIONS: dict[tuple[str, str], str] = {
    ("monitor", "reference_data"): "actions.monitoring:reference_data",
    ("monitor", "current_data"): "actions.monitoring:current_data",
    ("feature_group", "materialize"): "actions.features:materialize",
    ("feature_group", "online"): "actions.features:online",
    ("training_pipeline", "run"): "actions.training:run",
    ("training_pipeline", "run_status"): "actions.training:run_status",
    ("training_pipeline", "end_interrupted"): "actions.training:end_interrupted",
    ("model", "version_evidence"): "actions.registry:version_evidence",
    ("model", "evaluation_rows"): "actions.registry:evaluation_rows",
    ("model", "score"): "actions.registry:score",
    ("model", "list_versions"): "actions.registry:list_versions",
    ("model", "set_alias"): "actions.registry:set_alias",
    ("model", "add_approval"): "actions.registry:add_approval",
    ("endpoint", "predict"): "actions.serving:predict",
    ("endpoint", "serve"): "actions.serving:serve",
}


def _in_private(fn: Any, env: LocalEnv, *args: Any, **kwargs: Any) -> Any:
    """An action with the data directory owner-only before, and what it wrote tightened after
    (training runs write MLflow artifacts, serving its capture store)."""
    env.make_private()
    try:
        return fn(env, *args, **kwargs)
    finally:
        env.tighten()


class LocalProvider:
    name = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._env: LocalEnv | None = None
        self._handlers: dict[str, LocalHandler] = {}

    @classmethod
    def schema(cls) -> ProviderSchema:
        return SCHEMA

    def configure(self, settings: dict[str, Any], ctx: ProviderContext) -> None:
        settings = dict(settings or {})
        check_settings(SCHEMA.settings, settings, "local")  # the engine checked; direct callers too
        from .client import LocalEnv

        with self._lock:
            if self._env is not None:
                self._env.close()
            self._env = LocalEnv(ctx, delay_ms=settings.get("delay_ms", 0))
            self._handlers = {}

    def kinds(self) -> frozenset[str]:
        return frozenset(HANDLERS)

    @classmethod
    def actions(cls) -> frozenset[tuple[str, str]]:
        """The runtime actions this provider supports; no configure() needed."""
        return frozenset(ACTIONS)

    def handler(self, kind: str) -> Handler | None:
        target = HANDLERS.get(kind)
        if target is None:
            return None
        with self._lock:
            if self._env is None:
                raise ProviderError("the local provider was used before configure()")
            handler = self._handlers.get(kind)
            if handler is None:
                handler = self._handlers[kind] = _load(target)(self._env)
            return handler

    def action(self, kind: str, name: str) -> Action | None:
        target = ACTIONS.get((kind, name))
        if target is None:
            return None
        return functools.partial(_in_private, _load(target), self.env)

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
