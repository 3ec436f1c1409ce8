"""The minimal provider: datasets and models on a small REST service (service.py)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from mlops_decl.provider import Handler, ProviderContext, ProviderError
from mlops_decl.provider_schema import ProviderSchema

from .actions import ACTIONS
from .client import Client
from .dataset import DatasetHandler
from .model import ModelHandler
from .settings import SCHEMA, parse

HANDLERS = {"dataset": DatasetHandler, "model": ModelHandler}


class MinimalProvider:
    name = "minimal"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._handlers: dict[str, Handler] = {}

    @classmethod
    def schema(cls) -> ProviderSchema:
        return SCHEMA

    def configure(self, settings: dict[str, Any], ctx: ProviderContext) -> None:
        client = Client(parse(settings))  # no API call: the first one is the first read
        with self._lock:
            self._client, self._handlers = client, {}

    @classmethod
    def actions(cls) -> frozenset[tuple[str, str]]:
        return frozenset(ACTIONS)

    def action(self, kind: str, name: str) -> Callable[..., Any] | None:
        fn = ACTIONS.get((kind, name))
        with self._lock:
            client = self._client
        if fn is None or client is None:
            return None
        return functools.partial(fn, client)

    def kinds(self) -> frozenset[str]:
        return frozenset(HANDLERS)

    def handler(self, kind: str) -> Handler | None:
        cls = HANDLERS.get(kind)
        if cls is None:
            return None
        with self._lock:
            if self._client is None:
                raise ProviderError("the minimal provider was used before configure()")
            if kind not in self._handlers:
                self._handlers[kind] = cls(self._client)
            return self._handlers[kind]
