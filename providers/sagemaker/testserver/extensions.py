"""What the double adds to moto's SageMaker, installed on moto's SageMakerResponse before a
server starts (moto looks up the snake_case action name on that class per request).

Every SageMaker request is first checked against botocore's input shape of its action, as
the service does (an unknown field, a missing required member or a wrong type is a
ValidationException), and objects whose timing is due settle (an endpoint reaches
InService, a pipeline execution finishes). Then the action runs: moto's own, or one of the
extensions below, each returning ActionResult so that the reply goes through botocore's
output shape.

Added (moto 5.2 has none of them): update_endpoint, delete_model_package,
delete_model_package_group, list_pipeline_execution_steps, create/describe/list/update/
delete_monitoring_schedule, list_feature_groups, delete_feature_group; sagemaker-runtime's
invoke_endpoint predicts with the served model (runtime.py). Changed: creating a
model, endpoint config, endpoint or model package group that exists is refused as AWS
refuses it (moto overwrites); describing a missing feature group is ResourceNotFound (moto
answers 500); endpoints start Creating and pipeline executions Executing; tags work on
every taggable ARN (model packages, feature groups, schedules too) and replace a key.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

if TYPE_CHECKING:
    from .server import Options

OPTIONS: dict[str, Options] = {}  # server key -> its options (server.py registers them)
LOCK = threading.RLock()  # the werkzeug server is threaded; extension state changes under it
_installed = False


@dataclass
class Timing:
    """An endpoint on its way to InService: what it becomes when `ready_at` passes."""

    ready_at: float
    config: str  # the endpoint config it is moving to
    previous: str | None = None  # the config an update moves away from


@dataclass
class ExtState:
    """The double's own state beside moto's, kept on moto's backend so that moto's reset
    clears it too."""

    endpoints: dict[str, Timing] = field(default_factory=dict)
    executions: dict[str, Any] = field(default_factory=dict)  # arn -> pipelines.Execution
    schedules: dict[str, Any] = field(default_factory=dict)  # name -> monitoring.Schedule
    tokens: dict[str, str] = field(default_factory=dict)  # ClientToken -> model package ARN
    issued: dict[str, int] = field(default_factory=dict)  # group -> highest version given


Original = Callable[[], Any] | None  # moto's own action, where it has one


def unique(
    param: str, collection: str, refuse: Callable[[SageMakerResponse, str], Exception]
) -> Callable[[SageMakerResponse, Original], Any]:
    """moto's create, refused when an object of that name exists (moto overwrites it)."""

    def create(response: SageMakerResponse, original: Original) -> Any:
        name = response._get_param(param)
        if name in getattr(response.sagemaker_backend, collection):
            raise refuse(response, name)
        assert original is not None
        return original()

    create.__name__ = f"create_{collection}"
    return create


def ext(response: SageMakerResponse) -> ExtState:
    backend = response.sagemaker_backend
    found = backend.__dict__.get("_mlops_double")
    if found is None:
        found = backend.__dict__["_mlops_double"] = ExtState()
    return found


def options(response: SageMakerResponse) -> Options:
    from .server import OPTIONS_HEADER, Options

    return OPTIONS.get(str(response.headers.get(OPTIONS_HEADER, "")), Options())


def arn(response: SageMakerResponse, kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{response.region}:{response.current_account}:{kind}/{name}"


# -- checking requests against botocore's shapes ---------------------------------------------
def check_request(response: SageMakerResponse) -> None:
    """The raw JSON body against the action's input shape, as botocore checks it client-side:
    a client that skips or loosens that check is still refused here."""
    from botocore.validate import ParamValidator

    from .shapes import operation

    op = operation(response._get_action())
    if op is None or op.input_shape is None:
        return
    try:
        params = json.loads(response.body or "{}")
    except ValueError:
        raise ValidationError("the request body is not JSON") from None
    report = ParamValidator().validate(params, op.input_shape)
    if report.has_errors():
        raise ValidationError(report.generate_report())


def _failure(response: SageMakerResponse, exc: Exception) -> Any:
    """An error raised before the action ran, answered the way moto answers one raised in it."""
    status, headers, body = response.serialized(ActionResult(exc))
    headers["status"] = status
    status, headers, body = response._transform_response(response.response_headers, (body, headers))
    headers, body = response._enrich_response(headers, body)
    return status, headers, body


def _call_action(original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    def call_action(self: SageMakerResponse) -> Any:
        from . import endpoints, pipelines

        try:
            check_request(self)
            with LOCK:
                endpoints.settle(self)
                pipelines.settle(self)
        except ValidationError as exc:
            return _failure(self, exc)
        return original(self)

    return call_action


def install() -> None:
    """Add the extensions to moto's SageMakerResponse (once per process)."""
    global _installed
    with LOCK:
        if _installed:
            return
        from . import endpoints, features, monitoring, pipelines, registry, runtime, tags

        runtime.install()  # sagemaker-runtime's InvokeEndpoint: a model server
        SageMakerResponse.call_action = _call_action(SageMakerResponse.call_action)  # type: ignore[method-assign,assignment]
        for module in (endpoints, registry, monitoring, features, pipelines, tags):
            for name, fn in module.ACTIONS.items():
                original = getattr(SageMakerResponse, name, None)
                setattr(SageMakerResponse, name, _bound(fn, original))
        _installed = True


def _bound(fn: Callable[..., ActionResult], original: Callable[..., Any] | None) -> Callable[..., Any]:
    """An action method: fn(response, moto's own method or None)."""

    def action(self: SageMakerResponse) -> Any:
        with LOCK:
            return fn(self, (lambda: original(self)) if original is not None else None)

    action.__name__ = fn.__name__
    return action
