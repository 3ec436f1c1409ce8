"""Loading a model version for scoring: from the artifact folder the registry names (or
downloaded through the registry's own URIs), cached per provider."""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mlops_decl.provider import ProviderError

from ..client import LocalEnv

_MODELS_KEPT = 4  # loaded models cached per provider: the serving version plus a few recent


_cache_lock = threading.Lock()


def _local_dir(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path(uri) if not parsed.scheme else None


def _load(env: LocalEnv, name: str, version: int, where: Path) -> Any:
    try:
        import mlflow.sklearn

        return mlflow.sklearn.load_model(str(where))
    except Exception:  # not a scikit-learn model: any MLflow flavour loads as pyfunc
        try:
            import mlflow.pyfunc

            return mlflow.pyfunc.load_model(str(where))
        except Exception as exc:
            raise ProviderError(f"cannot load model `{name}` version {version}: {exc}") from exc


def load_model(env: LocalEnv, name: str, version: int) -> Any:
    """The model of a version (scikit-learn flavor, else pyfunc), cached per provider: versions
    are immutable, and a server should not reload per request. Loaded from the artifact folder
    the registry names, so no process-wide MLflow URI is set."""
    with _cache_lock:
        cache: OrderedDict[tuple[str, int], Any] = env.__dict__.setdefault("_models", OrderedDict())
        key = (name, int(version))
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    uri = env.registry.call(
        f"artifacts of model `{name}` version {version}",
        lambda c: c.get_model_version_download_uri(name, str(version)),
    )
    where = _local_dir(str(uri))
    if where is not None and where.is_dir():
        model = _load(env, name, version, where)
    else:  # artifacts elsewhere: download them through the registry's own URIs
        import mlflow.artifacts

        with tempfile.TemporaryDirectory() as tmp:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{version}",
                dst_path=tmp,
                tracking_uri=env.registry.uri,
                registry_uri=env.registry.uri,
            )
            model = _load(env, name, version, Path(local))
    with _cache_lock:
        cache[key] = model
        while len(cache) > _MODELS_KEPT:
            cache.popitem(last=False)
    return model
