"""The SageMaker provider (boto3): datasets in S3, models as Model Package Groups (versions,
evidence, approvals and aliases as runtime actions), endpoints serving a model's alias,
registry policies kept on the group, monitors as data-quality schedules on an endpoint, and
pipeline schedules on EventBridge Scheduler.

Light to import: `validate` reads the schema from the class; handlers load at configure and
boto3 only on the first call.
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import TYPE_CHECKING, Any

from mlops_decl.provider import Action, ConfigError, Handler, ProviderContext, ProviderError, RetryPolicy
from mlops_decl.provider_schema import ProviderSchema

from .settings import SCHEMA, parse

if TYPE_CHECKING:
    from .client import Clients

# kind -> "module:class" under this package, imported at configure
HANDLERS: dict[str, str] = {
    "dataset": "dataset:DatasetHandler",
    "model": "model:ModelHandler",
    "feature_group": "feature_group:FeatureGroupHandler",
    "endpoint": "endpoint:EndpointHandler",
    "training_pipeline": "training_pipeline:TrainingPipelineHandler",
    "registry_policy": "registry_policy:RegistryPolicyHandler",
    "monitor": "monitor:MonitorHandler",
}


# Runtime actions: (kind, action) -> "module:function" under this package, imported on first
# use; each is fn(clients, id, attributes, rt, **arguments) -> the action's result dataclass.
ACTIONS: dict[tuple[str, str], str] = {
    ("model", "list_versions"): "actions.registry:list_versions",
    ("model", "version_evidence"): "actions.registry:version_evidence",
    ("model", "add_approval"): "actions.registry:add_approval",
    ("model", "set_alias"): "actions.registry:set_alias",
    ("model", "score"): "actions.scoring:score",
    ("model", "evaluation_rows"): "actions.scoring:evaluation_rows",
    ("endpoint", "predict"): "actions.serving:predict",
    ("training_pipeline", "run"): "actions.training:run",
    ("training_pipeline", "run_status"): "actions.training:run_status",
    ("monitor", "reference_data"): "actions.monitoring:reference_data",
    ("monitor", "current_data"): "actions.monitoring:current_data",
}


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), attr)


class SageMakerProvider:
    name = "sagemaker"
    # AWS asks a throttled client to back off for tens of seconds
    retry_policy = RetryPolicy(throttle_attempts=10, throttle_base=1.0, throttle_max_delay=30.0)
    concurrency = 16  # calls at once per instance, under SageMaker's default request rates

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: Clients | None = None
        self._handlers: dict[str, Handler] = {}

    @classmethod
    def schema(cls) -> ProviderSchema:
        return SCHEMA

    def configure(self, settings: dict[str, Any], ctx: ProviderContext) -> None:
        from importlib.util import find_spec

        from .client import Clients

        parsed = parse(dict(settings or {}))  # no API call: the first one is the first read
        if find_spec("boto3") is None:
            raise ConfigError(
                "the sagemaker provider needs boto3, which is not installed",
                hint="pip install 'mlops-decl[sagemaker]'",
            )
        handlers = {}
        clients = Clients(parsed)
        for kind, target in HANDLERS.items():
            handlers[kind] = _load(target)(clients, ctx.project, ctx)
        with self._lock:
            old, self._clients, self._handlers = self._clients, clients, handlers
        if old is not None:
            old.close()

    def check(self) -> None:
        """Before any resource is read: credentials are found (one error at providers.NAME,
        not one per resource)."""
        with self._lock:
            clients = self._clients
        if clients is not None:
            clients.check_credentials()

    @classmethod
    def actions(cls) -> frozenset[tuple[str, str]]:
        return frozenset(ACTIONS)

    def action(self, kind: str, name: str) -> Action | None:
        target = ACTIONS.get((kind, name))
        with self._lock:
            clients = self._clients
        if target is None or clients is None:
            return None
        return functools.partial(_load(target), clients)

    def kinds(self) -> frozenset[str]:
        return frozenset(HANDLERS)

    def handler(self, kind: str) -> Handler | None:
        if kind not in HANDLERS:
            return None
        with self._lock:
            if self._clients is None:
                raise ProviderError("the sagemaker provider was used before configure()")
            return self._handlers[kind]

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, None
        if clients is not None:
            clients.close()
