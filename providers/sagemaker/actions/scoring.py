"""A model version's own predictions, for the engine's champion comparison
(mlops_decl/ml/promotion.py): `score` downloads the version's model artifact (its model
package's ModelDataUrl) and predicts with scikit-learn here, with no endpoint in between;
`evaluation_rows` reads the held-out split the pipeline's evaluation step kept beside its
report (actions/registry.py finds where).

Loaded artifacts are cached by their S3 URI and ETag, so scoring one version again (every
gate of a promotion, a second promotion) downloads nothing.
"""

from __future__ import annotations

import io
from typing import Any

from mlops_decl.ml.evidence import EvaluationRows, Scores
from mlops_decl.provider import Attributes, Category, ProviderError, RuntimeContext

from ..client import Clients, call, found
from ..pipelines import artifact
from .registry import package_of, report, split_uri

_cache = artifact.Loaded(8)  # (endpoint_url, uri, etag) -> the model


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def model_data(package: dict[str, Any]) -> str:
    """The s3:// URI of a package's model artifact."""
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    uri = str(containers[0].get("ModelDataUrl") or "")
    if not uri.startswith("s3://"):
        raise ProviderError(
            f"model package {package.get('ModelPackageArn')} has no model artifact in S3 "
            f"(ModelDataUrl {uri or 'missing'})",
            category=Category.NOT_FOUND,
        )
    return uri


def load(clients: Clients, package: dict[str, Any]) -> artifact.Artifact:
    """The package's fitted model, downloaded once per ETag."""
    uri = model_data(package)
    bucket, key = _split(uri)
    s3 = clients.s3
    head = found(s3.head_object, f"read the model artifact {uri}", Bucket=bucket, Key=key)
    if head is None:
        raise ProviderError(f"the model artifact {uri} does not exist", category=Category.NOT_FOUND)

    def download() -> artifact.Artifact:
        got = call(s3.get_object, f"download the model artifact {uri}", Bucket=bucket, Key=key)
        body = got["Body"].read()
        try:
            return artifact.read(body, uri)
        except ValueError as exc:
            raise ProviderError(str(exc), category=Category.INVALID) from None

    return _cache.get((clients.settings.endpoint_url, uri, str(head.get("ETag"))), download)


def score(
    clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext, version: int, rows: Any
) -> Scores:
    """Predictions (and positive-class probabilities, for a binary classifier) of a version on
    raw feature rows. A model that cannot score the rows is evidence (`error`), not a failure."""
    loaded = load(clients, package_of(clients, id, int(version)))
    missing = [f for f in loaded.features if f not in rows.columns]
    if missing:
        return Scores(version=int(version), error=f"the rows lack column(s) {', '.join(missing)}")
    X = rows[loaded.features] if loaded.features else rows
    try:
        predictions, scores = artifact.outputs(loaded.model, X)
    except Exception as exc:  # the rows do not fit this version: evidence for the gate
        return Scores(version=int(version), error=f"{type(exc).__name__}: {exc}")
    return Scores(version=int(version), predictions=predictions, scores=scores)


def evaluation_rows(
    clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext, version: int
) -> EvaluationRows | None:
    """The held-out split the version's evaluation step kept, or None when it kept none."""
    import pandas as pd

    package = package_of(clients, id, int(version))
    uri = split_uri(package, report(clients, package))
    if uri is None or not uri.startswith("s3://"):
        return None
    bucket, key = _split(uri)
    got = found(clients.s3.get_object, f"read the evaluation split {uri}", Bucket=bucket, Key=key)
    if got is None:
        return None
    data = got["Body"].read()
    try:
        rows = (
            pd.read_parquet(io.BytesIO(data)) if key.endswith(".parquet") else pd.read_csv(io.BytesIO(data))
        )
    except (ValueError, OSError) as exc:
        raise ProviderError(
            f"the evaluation split {uri} does not parse: {exc}", category=Category.INVALID
        ) from None
    return EvaluationRows(version=int(version), rows=rows, source=uri)
