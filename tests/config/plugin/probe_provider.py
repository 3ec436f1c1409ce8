"""A test-only provider, found through the `mlops_decl.providers` entry point of the tiny
dist-info beside it (put this folder on PYTHONPATH): it declares a schema (settings, a block on
endpoints, an endpoint `arn`), fails configure() or check() when told to, and keeps its
endpoints in a JSON file under its data dir."""

from __future__ import annotations

import json
from typing import Any

from mlops_decl.provider import DETACHED, Attributes, Handler, Operation, ProviderContext, ProviderError
from mlops_decl.provider_schema import KindSchema, ProviderSchema, check_settings

SCHEMA = ProviderSchema(
    settings={
        "type": "object",
        "properties": {
            "region": {"type": "string", "description": "where objects go"},
            "fail_configure": {"type": "boolean"},
            "fail_check": {"type": "boolean"},
        },
        "required": ["region"],
        "additionalProperties": False,
    },
    kinds={
        "endpoint": KindSchema(
            block={
                "type": "object",
                "properties": {
                    "image_uri": {"type": "string"},
                    "memory_mb": {"type": "integer", "minimum": 128},
                },
                "required": ["image_uri"],
                "additionalProperties": False,
            },
            computed={"arn": {"type": "string"}},
        ),
        "model": KindSchema(computed={"arn": {"type": "string"}}),
    },
)


class _Objects(Handler):
    def __init__(self, kind: str, provider: ProbeProvider):
        self.kind = kind  # type: ignore[misc]
        self.provider = provider

    def _load(self) -> dict[str, Any]:
        path = self.provider.ctx.data_dir / "objects.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _save(self, data: dict[str, Any]) -> None:
        self.provider.ctx.data_dir.mkdir(parents=True, exist_ok=True)
        (self.provider.ctx.data_dir / "objects.json").write_text(json.dumps(data))

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        got: Attributes | None = self._load().get(id)
        return got

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        name = str(desired.pop("_name"))
        id = f"{self.kind}/{name}"
        attrs = {**desired, "id": id, "arn": f"arn:probe:{self.provider.region}:{id}"}
        data = self._load()
        data[id] = attrs
        self._save(data)
        return id, attrs

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        desired.pop("_name", None)
        attrs = {**prior, **desired}
        data = self._load()
        data[id] = attrs
        self._save(data)
        return attrs

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        data = self._load()
        data.pop(id, None)
        self._save(data)


class ProbeProvider:
    name = "probe"

    @classmethod
    def schema(cls) -> ProviderSchema:
        return SCHEMA

    def configure(self, settings: dict[str, Any], ctx: ProviderContext) -> None:
        check_settings(SCHEMA.settings, settings, "probe")
        if settings.get("fail_configure"):
            raise ProviderError("cannot reach the probe API: connection refused")
        self.ctx = ctx
        self.region = settings["region"]
        self.fail_check = bool(settings.get("fail_check"))

    def check(self) -> None:
        if self.fail_check:
            raise ProviderError("the probe credentials were refused (403 AccessDenied)")

    def kinds(self) -> frozenset[str]:
        return frozenset(SCHEMA.kinds)

    def handler(self, kind: str) -> Handler | None:
        return _Objects(kind, self) if kind in SCHEMA.kinds else None
