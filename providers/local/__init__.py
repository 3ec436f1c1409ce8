"""The local provider: datasets as files, an embedded feature store, MLflow on SQLite."""

from .provider import LocalProvider

__all__ = ["LocalProvider"]
