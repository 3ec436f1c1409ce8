"""Models, endpoint configs and endpoints as SageMaker keeps them: names are unique (a second
create is refused), an endpoint is Creating for a moment before InService, and
update_endpoint (missing from moto) moves it through Updating onto the new config.

An update reads its previous config until it finishes: deleting that config meanwhile
fails the update (the endpoint ends Failed), which is what a client that deletes the old
config before the update is done runs into on AWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

from .extensions import Original, Timing, arn, ext, options, unique


def _exists(what: str, kind: str) -> Callable[[SageMakerResponse, str], Exception]:
    return lambda response, name: ValidationError(
        f'Cannot create already existing {what} "{arn(response, kind, name)}".'
    )


create_model = unique("ModelName", "_models", _exists("model", "model"))
create_endpoint_config = unique(
    "EndpointConfigName", "endpoint_configs", _exists("endpoint configuration", "endpoint-config")
)
_create_endpoint = unique("EndpointName", "endpoints", _exists("endpoint", "endpoint"))


def create_endpoint(response: SageMakerResponse, original: Original) -> Any:
    result = _create_endpoint(response, original)
    name = response._get_param("EndpointName")
    endpoint: Any = response.sagemaker_backend.endpoints[name]
    endpoint.endpoint_status = "Creating"
    endpoint.data_capture_config = _capture_summary(endpoint.data_capture_config)
    config = response._get_param("EndpointConfigName")
    ext(response).endpoints[name] = Timing(time.monotonic() + options(response).endpoint_delay, config)
    return result


def update_endpoint(response: SageMakerResponse, original: Original) -> ActionResult:
    backend, name = response.sagemaker_backend, response._get_param("EndpointName")
    config = response._get_param("EndpointConfigName")
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        raise ValidationError(f'Could not find endpoint "{arn(response, "endpoint", name)}".')
    if endpoint.endpoint_status != "InService":
        raise ValidationError(
            f'Cannot update in-progress endpoint "{endpoint.arn}" (status {endpoint.endpoint_status}).'
        )
    if config not in backend.endpoint_configs:
        raise ValidationError(
            f'Could not find endpoint configuration "{arn(response, "endpoint-config", config)}".'
        )
    endpoint.endpoint_status = "Updating"
    endpoint.last_modified_time = utcnow()
    ext(response).endpoints[name] = Timing(
        time.monotonic() + options(response).endpoint_delay, config, endpoint.endpoint_config_name
    )
    return ActionResult({"EndpointArn": endpoint.arn})


def delete_endpoint(response: SageMakerResponse, original: Original) -> Any:
    ext(response).endpoints.pop(response._get_param("EndpointName"), None)
    assert original is not None
    return original()


ACTIONS = {
    "create_model": create_model,
    "create_endpoint_config": create_endpoint_config,
    "create_endpoint": create_endpoint,
    "update_endpoint": update_endpoint,
    "delete_endpoint": delete_endpoint,
}


def settle(response: SageMakerResponse) -> None:
    """Endpoints whose Creating or Updating time has passed reach InService on their new
    config (or Failed, when an update's previous config was deleted meanwhile)."""
    backend, timings, now = response.sagemaker_backend, ext(response).endpoints, time.monotonic()
    for name, timing in list(timings.items()):
        if timing.ready_at > now:
            continue
        del timings[name]
        endpoint: Any = backend.endpoints.get(name)
        if endpoint is None:
            continue
        endpoint.last_modified_time = utcnow()
        config = backend.endpoint_configs.get(timing.config)
        if config is None or (
            timing.previous is not None and timing.previous not in backend.endpoint_configs
        ):
            gone = timing.config if config is None else timing.previous
            endpoint.endpoint_status = "Failed"
            endpoint.failure_reason = (
                f"The endpoint configuration {gone} was deleted while the endpoint was updating."
            )
            continue
        endpoint.endpoint_config_name = timing.config
        endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
        endpoint.data_capture_config = _capture_summary(config.data_capture_config)
        endpoint.endpoint_status = "InService"


def _capture_summary(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """DescribeEndpoint answers a DataCaptureConfigSummary, not the config's request shape."""
    if not config or "CaptureStatus" in config:
        return config or None
    return {
        "EnableCapture": bool(config.get("EnableCapture", True)),
        "CaptureStatus": "Started" if config.get("EnableCapture", True) else "Stopped",
        "CurrentSamplingPercentage": int(config.get("InitialSamplingPercentage", 100)),
        "DestinationS3Uri": config.get("DestinationS3Uri", ""),
        **({"KmsKeyId": config["KmsKeyId"]} if config.get("KmsKeyId") else {}),
    }
