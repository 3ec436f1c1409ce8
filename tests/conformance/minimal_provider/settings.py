"""The minimal provider's schema (settings, and per kind its computed attributes; it takes no
block) and its settings: `endpoint` (the service's URL) and `timeout` (seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops_decl.provider_schema import KindSchema, ProviderSchema, check_settings

SETTINGS = {
    "type": "object",
    "properties": {
        "endpoint": {"type": "string", "pattern": "^https?://", "description": "the service's URL"},
        "timeout": {
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 10,
            "description": "seconds per request",
        },
    },
    "required": ["endpoint"],
    "additionalProperties": False,
}

_STR = {"type": "string"}
SCHEMA = ProviderSchema(
    settings=SETTINGS,
    kinds={
        "dataset": KindSchema(computed={"version": _STR, "created_at": _STR}),
        "model": KindSchema(
            computed={
                "name": _STR,
                "latest_version": {"type": ["integer", "null"]},
                "aliases": {"type": "object", "additionalProperties": {"type": "integer"}},
            }
        ),
    },
)


@dataclass(frozen=True)
class Settings:
    endpoint: str
    timeout: float = 10.0


def parse(settings: dict[str, Any]) -> Settings:
    check_settings(SETTINGS, settings, "minimal")
    return Settings(str(settings["endpoint"]).rstrip("/"), float(settings.get("timeout", 10.0)))
