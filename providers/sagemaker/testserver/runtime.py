"""sagemaker-runtime InvokeEndpoint, answered by the double: moto routes a request whose path
ends in /invocations to its sagemaker-runtime backend (canned answers); the double replaces
that action with a model server.

`POST /endpoints/{EndpointName}/invocations` (ContentType, Accept and
X-Amzn-SageMaker-Target-Variant headers) finds the endpoint in the SageMaker backend, picks a
production variant of its endpoint config (by weight, or the target), the variant's model,
the model package it serves and that package's ModelDataUrl in S3, loads the artifact
(pipelines/artifact.py; cached by its ETag) and predicts on the body (runtime_payloads.py).
The exchange is captured to S3 when the config has DataCaptureConfig on (runtime_capture.py).

Errors are SageMaker's: an endpoint that does not exist, or is not serving (Creating,
Failed, ...), is a ValidationError (HTTP 400); a body the model cannot read, or rows it
cannot score, is a ModelError (HTTP 424) carrying the container's status and message. An
endpoint that is Updating still serves, on the config it had.
"""

from __future__ import annotations

import random
import urllib.parse
from types import SimpleNamespace
from typing import Any, cast

from moto.core.exceptions import ServiceException
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from ..pipelines import artifact
from . import runtime_payloads as payloads
from .extensions import LOCK
from .runtime_capture import Exchange, capture

SERVING = frozenset({"InService", "Updating", "SystemUpdating"})  # a running endpoint answers
_draw = random.Random(0)  # variant weights and capture sampling
_models = artifact.Loaded(16)  # (bucket, key, etag) -> the model
_installed = False


class ValidationError(ServiceException):
    code = "ValidationError"


class ModelError(ServiceException):
    """The container answered an error: SageMaker reports it as HTTP 424 with its status."""

    code = "ModelError"

    def __init__(self, status: int, message: str, endpoint: str):
        side = "client" if status < 500 else "server"
        super().__init__(f'Received {side} error ({status}) from primary with message "{message}".')
        self.OriginalStatusCode = status
        self.OriginalMessage = message
        self.LogStreamArn = f"arn:aws:logs:::log-group:/aws/sagemaker/Endpoints/{endpoint}"


def _endpoint_name(path: str) -> str:
    parts = urllib.parse.urlsplit(path).path.split("/")
    return urllib.parse.unquote(parts[2]) if len(parts) > 3 and parts[1] == "endpoints" else ""


def _variant(config: Any, target: str | None, arn: str) -> dict[str, Any]:
    variants = list(config.production_variants or [])
    if target:
        for v in variants:
            if v.get("VariantName") == target:
                return dict(v)
        raise ValidationError(f"Endpoint {arn} does not have target variant {target}.")
    weights = [float(v.get("InitialVariantWeight", 1.0)) for v in variants]
    if not variants or sum(weights) <= 0:
        raise ValidationError(f"Endpoint {arn} has no variant that takes traffic.")
    return dict(_draw.choices(variants, weights)[0])


def _model_data(backend: Any, model_name: str, endpoint: str) -> str:
    """The S3 URI of the artifact the model serves: its own ModelDataUrl, or its model
    package's."""
    model = backend._models.get(model_name)
    if model is None:
        raise ModelError(500, f"the model {model_name} of this endpoint no longer exists", endpoint)
    container = dict(model.primary_container or (model.containers or [{}])[0])
    if container.get("ModelDataUrl"):
        return str(container["ModelDataUrl"])
    ref = container.get("ModelPackageName")
    package = backend.model_packages.get(backend.model_package_name_mapping.get(ref, ref)) if ref else None
    if package is None:
        raise ModelError(500, f"the model package {ref} of model {model_name} no longer exists", endpoint)
    containers = (package.inference_specification or {}).get("Containers") or [{}]
    url = containers[0].get("ModelDataUrl")
    if not url:
        raise ModelError(500, f"the model package {ref} has no ModelDataUrl", endpoint)
    return str(url)


def _load(s3: Any, uri: str, endpoint: str) -> artifact.Artifact:
    bucket, _, key = uri[len("s3://") :].partition("/")
    found = s3.get_object(bucket, key) if uri.startswith("s3://") and bucket in s3.buckets else None
    if found is None:
        raise ModelError(500, f"the model artifact {uri} does not exist", endpoint)

    def read() -> artifact.Artifact:
        try:
            return artifact.read(bytes(found.value), uri)
        except ValueError as exc:
            raise ModelError(500, str(exc), endpoint) from None

    return _models.get((bucket, key, str(found.etag)), read)


def _predict(
    loaded: artifact.Artifact, body: bytes, content_type: str, accept: str | None
) -> tuple[bytes, str]:
    frame = payloads.read_rows(body, content_type, loaded.features)
    try:
        predictions, scores = artifact.outputs(loaded.model, frame)
    except Exception as exc:  # whatever the model raises, its container answers as an error
        name = type(exc).__name__
        raise payloads.BadRequest(f"the model cannot score these rows: {name}: {exc}") from None
    return payloads.answer(predictions, scores, accept)


def invoke_endpoint(self: SageMakerRuntimeResponse) -> Any:
    from . import endpoints

    name = _endpoint_name(self.path)
    headers = {k.lower(): v for k, v in self.headers.items()}
    content_type = str(headers.get("content-type") or "application/octet-stream")
    body = self.raw_body if isinstance(self.raw_body, bytes) else str(self.raw_body or "").encode()
    backend = sagemaker_backends[self.current_account][self.region]
    s3 = s3_backends[self.current_account][self.partition]
    arn = f"arn:aws:sagemaker:{self.region}:{self.current_account}:endpoint/{name.lower()}"
    with LOCK:
        endpoints.settle(cast(Any, SimpleNamespace(sagemaker_backend=backend)))
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise ValidationError(f"Endpoint {name} of account {self.current_account} not found.")
        if endpoint.endpoint_status not in SERVING:
            raise ValidationError(
                f"Endpoint {name} of account {self.current_account} is not in service "
                f"(status {endpoint.endpoint_status})."
            )
        config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
        if config is None:
            raise ModelError(500, f"the endpoint config {endpoint.endpoint_config_name} is gone", name)
        variant = _variant(config, headers.get("x-amzn-sagemaker-target-variant"), arn)
        uri = _model_data(backend, str(variant.get("ModelName")), name)
        loaded = _load(s3, uri, name)
        capture_config = dict(config.data_capture_config or {})
    try:
        answer, answer_type = _predict(loaded, body, content_type, headers.get("accept"))
    except payloads.BadRequest as exc:
        raise ModelError(exc.status, str(exc), name) from None
    exchange = Exchange(
        name,
        str(variant.get("VariantName")),
        body,
        content_type,
        answer,
        answer_type,
        headers.get("x-amzn-sagemaker-inference-id"),
    )
    with LOCK:
        capture(s3, capture_config, exchange, _draw)
    return 200, {"Content-Type": answer_type, "x-Amzn-Invoked-Production-Variant": exchange.variant}, answer


def install() -> None:
    """Replace moto's canned InvokeEndpoint (once per process)."""
    global _installed
    if not _installed:
        SageMakerRuntimeResponse.invoke_endpoint = invoke_endpoint  # type: ignore[method-assign]
        _installed = True
