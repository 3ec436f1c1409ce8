"""The local provider's declared schema: its settings, its `local:` block per kind and the
attributes each kind computes. Plain data, imported by `validate` without configuring the
provider, so nothing here may import more than the engine's schema types."""

from __future__ import annotations

from mlops_decl.provider_schema import KindSchema, ProviderSchema

_STR = {"type": "string"}
_VERSION = {"type": ["integer", "null"], "description": "a model version number; null before any"}

SETTINGS = {
    "type": "object",
    "properties": {
        "delay_ms": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "added latency in milliseconds on every read/create/update/delete (benchmarks)",
        },
    },
    "additionalProperties": False,
}

SCHEMA = ProviderSchema(
    settings=SETTINGS,
    kinds={
        "dataset": KindSchema(
            computed={
                "version": {"type": "string", "description": "content hash of the file"},
                "rows": {"type": "integer"},
                "columns": {"type": "array", "items": _STR},
                "path": {"type": "string", "description": "the file, relative to the project"},
            }
        ),
        "feature_group": KindSchema(
            computed={
                "source_version": {"type": ["string", "null"], "description": "the source dataset's version"},
                "store": {"type": "string", "description": "the DuckDB file and table"},
            }
        ),
        "training_pipeline": KindSchema(),
        "model": KindSchema(
            computed={
                "name": {"type": "string", "description": "the MLflow registered model"},
                "latest_version": _VERSION,
                "aliases": {"type": "object", "additionalProperties": {"type": "integer"}},
            }
        ),
        "registry_policy": KindSchema(),
        "endpoint": KindSchema(
            block={
                "type": "object",
                "properties": {
                    "port": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 65535,
                        "description": "the port `serve` listens on (127.0.0.1)",
                    }
                },
                "additionalProperties": False,
            },
            computed={
                "url": {"type": "string", "description": "where `serve` answers"},
                "status": {"enum": ["ready", "pending_model"]},
                "serving_version": _VERSION,
            },
        ),
        "monitor": KindSchema(
            computed={
                "reference_profile": {
                    "type": "object",
                    "description": "the baseline's profile file and summary",
                }
            }
        ),
    },
)
