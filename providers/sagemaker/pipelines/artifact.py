"""The model artifact a training step leaves in S3 (`model.tar.gz`), read back, and what the
fitted model predicts: the same code scores rows in the test double's endpoints and in the
provider's `score` action, so both give the same predictions for a version.

The archive holds `model.pkl` or `model.joblib`: a fitted scikit-learn estimator (a Pipeline
taking raw feature columns), or a dict `{"model": ..., "features": [...], "label": ...}`.
Unpickling runs the archive's code: an artifact is trusted exactly as far as the model it
holds, which is what SageMaker's own containers do with it.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

NAMES = ("model.pkl", "model.joblib")


@dataclass(frozen=True)
class Artifact:
    model: Any
    features: list[str]  # the columns the model reads, in order
    label: str | None


def read(data: bytes, where: str) -> Artifact:
    """The model in a model.tar.gz; ValueError naming `where` when there is none."""
    import pickle
    import tarfile

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            member = next((m for m in tar.getmembers() if m.name.lstrip("./") in NAMES), None)
            if member is None:
                raise ValueError(f"{where} holds none of {', '.join(NAMES)}")
            handle = tar.extractfile(member)
            payload = handle.read() if handle is not None else b""
    except tarfile.TarError as exc:
        raise ValueError(f"{where} is not a model.tar.gz: {exc}") from None
    found = pickle.loads(payload)  # noqa: S301 - the model itself (see the module's note)
    model = found.get("model") if isinstance(found, dict) else found
    if not hasattr(model, "predict"):
        raise ValueError(f"{where} holds no fitted model")
    names = found.get("features") if isinstance(found, dict) else None
    features = [str(c) for c in (names or getattr(model, "feature_names_in_", []))]
    return Artifact(model, features, found.get("label") if isinstance(found, dict) else None)


def outputs(model: Any, X: Any) -> tuple[list[Any], list[float] | None]:
    """Predictions as plain values and, for a binary classifier, the positive class's
    probability."""
    import numpy as np

    raw = np.asarray(model.predict(X))
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    predictions: list[Any] = raw.tolist()  # numpy scalars to plain values
    scores = None
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        if proba.shape[1] == 2:
            scores = [float(p) for p in proba[:, 1]]
    return predictions, scores


class Loaded:
    """Artifacts loaded once per key (an S3 URI with its ETag), the `size` latest kept;
    thread-safe. Two threads missing the same key may both load it: the later one wins."""

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._found: dict[Hashable, Artifact] = {}

    def get(self, key: Hashable, load: Callable[[], Artifact]) -> Artifact:
        with self._lock:
            found = self._found.get(key)
        if found is not None:
            return found
        found = load()
        with self._lock:
            if key not in self._found and len(self._found) >= self.size:
                self._found.pop(next(iter(self._found)))
            self._found[key] = found
        return found
