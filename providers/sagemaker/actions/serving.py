"""`predict` on a SageMaker endpoint: the rows go to sagemaker-runtime InvokeEndpoint as JSON
(`{"dataframe_split": {"columns": [...], "data": [[...]]}}`, MLflow's scoring format, which
keeps the column names), in requests under SageMaker's 6 MB payload limit. The answer is
JSON: a list of predictions, or `{"predictions": [...], "scores": [...]}`.

SageMaker captures what the endpoint's DataCaptureConfig samples and cannot leave one
request out: `capture=False` is refused on an endpoint that captures, never ignored.
"""

from __future__ import annotations

import json
from typing import Any

from mlops_decl.actions.results import Prediction
from mlops_decl.provider import Attributes, Category, ProviderError, RuntimeContext

from ..base import tag_dict
from ..client import Clients, attempt, call, found
from ..errors import code_of, provider_error
from ..model import aliases_of

SERVING = frozenset({"InService", "Updating", "SystemUpdating"})  # statuses that answer requests
MAX_BODY = 5_000_000  # bytes per request, under InvokeEndpoint's 6 MB
CHUNK_ROWS = 1000
Rows = list[dict[str, Any]]


def hinted(message: str, hint: str, category: Category) -> ProviderError:
    err = ProviderError(message, category=category)
    err.hint = hint  # type: ignore[attr-defined]
    return err


def _address(rt: RuntimeContext, kind: str, id: str) -> str:
    found_ = rt.find(kind, id)
    return found_[0] if found_ else f"{kind}.{id}"


def _pending(clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext) -> ProviderError:
    """Why there is no endpoint to call, and what to run first."""
    endpoint = _address(rt, "endpoint", id)
    group = attrs.get("model")
    if not group:
        return hinted(
            f"endpoint {id} is not deployed on SageMaker", "run `mlops-decl apply`", Category.NOT_FOUND
        )
    selector = str(attrs.get("version", "champion"))
    model = _address(rt, "model", str(group))
    sm = clients.sagemaker
    described = found(sm.describe_model_package_group, f"read model {group}", ModelPackageGroupName=group)
    if described is None:
        return hinted(
            f"model {group} does not exist on SageMaker", "run `mlops-decl apply`", Category.NOT_FOUND
        )
    tags = call(sm.list_tags, f"read the aliases of {group}", ResourceArn=described["ModelPackageGroupArn"])
    target = int(selector) if selector.isdigit() else aliases_of(tag_dict(tags.get("Tags"))).get(selector)
    if target is not None:
        return hinted(
            f"pending_model: endpoint {id} is not deployed yet (model {group} version {target} waits for it)",
            f"run `mlops-decl apply` to deploy {endpoint}",
            Category.NOT_FOUND,
        )
    newest = call(
        sm.list_model_packages,
        f"list the versions of model {group}",
        ModelPackageGroupName=group,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    ).get("ModelPackageSummaryList")
    if newest:
        latest = int(newest[0]["ModelPackageVersion"])
        hint = f"run `mlops-decl promote {model} --version {latest}`, then `mlops-decl apply`"
    else:
        pipeline = next(
            (
                a
                for a, (k, _, v) in rt.resources.items()
                if k == "training_pipeline" and v.get("registers") == group
            ),
            "training_pipeline.NAME",
        )
        hint = f"run `mlops-decl run {pipeline}`, then `mlops-decl promote {model} --version N` and `mlops-decl apply`"
    return hinted(
        f"pending_model: no version of model `{group}` holds alias `{selector}` yet", hint, Category.NOT_FOUND
    )


def _captures(described: dict[str, Any]) -> int:
    """The share (percent) of requests the endpoint captures now; 0 when it captures none."""
    summary = described.get("DataCaptureConfig") or {}
    if not summary.get("EnableCapture") or summary.get("CaptureStatus", "Started") != "Started":
        return 0
    return int(summary.get("CurrentSamplingPercentage", 100))


def _bodies(rows: Rows) -> list[bytes]:
    """The rows as dataframe_split bodies, each under MAX_BODY."""
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    out: list[bytes] = []
    start, size = 0, CHUNK_ROWS
    while start < len(rows):
        chunk = rows[start : start + size]
        data = [[row.get(c) for c in columns] for row in chunk]
        body = json.dumps({"dataframe_split": {"columns": columns, "data": data}}, default=str).encode()
        if len(body) > MAX_BODY and size > 1:
            size = max(1, size // 2)
            continue
        out.append(body)
        start += len(chunk)
    return out


def _answer(body: bytes, content_type: str, id: str) -> tuple[list[Any], list[float] | None]:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, list):
        return payload, None
    if isinstance(payload, dict) and isinstance(payload.get("predictions"), list):
        scores = payload.get("scores")
        return payload["predictions"], [float(s) for s in scores] if isinstance(scores, list) else None
    raise ProviderError(
        f"endpoint {id} answered {content_type or 'no content type'} that holds no predictions: {body[:200]!r}",
        category=Category.INVALID,
    )


def _invoke(clients: Clients, id: str, body: bytes) -> tuple[bytes, str, str | None]:
    got, exc = attempt(
        clients.runtime.invoke_endpoint,
        f"predict with endpoint {id}",
        EndpointName=id,
        Body=body,
        ContentType="application/json",
        Accept="application/json",
    )
    if exc is not None:
        if code_of(exc) == "ModelError":
            response = getattr(exc, "response", {}) or {}
            status = response.get("OriginalStatusCode")
            said = response.get("OriginalMessage") or response.get("Error", {}).get("Message")
            raise ProviderError(
                f"endpoint {id}: the model refused the rows: {said} (HTTP {status} from its container)",
                category=Category.INVALID,
            )
        raise provider_error(exc, f"predict with endpoint {id}")
    return got["Body"].read(), str(got.get("ContentType") or ""), got.get("InvokedProductionVariant")


def _served_version(
    clients: Clients, described: dict[str, Any], attrs: Attributes, variant: str | None
) -> int:
    """The model version the answering variant serves: the state's, when the endpoint still
    runs the config the state recorded; else read from its config's model."""
    config_name = described["EndpointConfigName"]
    if config_name == attrs.get("endpoint_config") and attrs.get("serving_version") is not None:
        return int(attrs["serving_version"])
    sm = clients.sagemaker
    config = call(
        sm.describe_endpoint_config, f"read endpoint config {config_name}", EndpointConfigName=config_name
    )
    variants = config.get("ProductionVariants") or [{}]
    chosen = next((v for v in variants if v.get("VariantName") == variant), variants[0])
    model = call(
        sm.describe_model, f"read model {chosen.get('ModelName')}", ModelName=chosen.get("ModelName")
    )
    package = str((model.get("PrimaryContainer") or {}).get("ModelPackageName") or "")
    tail = package.rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise ProviderError(
            f"endpoint {described['EndpointName']} serves {package or 'a model'} that is no model version",
            category=Category.INVALID,
        )
    return int(tail)


def predict(
    clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext, rows: Rows, capture: bool = True
) -> Prediction:
    """The endpoint's predictions for `rows`, from the version it serves."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise ProviderError(
            "predict takes a non-empty list of rows (column: value objects)", category=Category.INVALID
        )
    sm = clients.sagemaker
    described = found(sm.describe_endpoint, f"read endpoint {id}", EndpointName=id)
    if described is None:
        raise _pending(clients, id, attrs, rt)
    status = str(described["EndpointStatus"])
    if status not in SERVING:
        reason = f": {described['FailureReason']}" if described.get("FailureReason") else ""
        raise hinted(
            f"endpoint {id} is {status} on SageMaker, not InService{reason}",
            "wait until `mlops-decl apply` has finished it, then predict again"
            if status == "Creating"
            else "fix what its failure reason says and run `mlops-decl apply`",
            Category.CONFLICT,
        )
    share = _captures(described)
    if not capture and share:
        raise hinted(
            f"endpoint {id} captures {share}% of its requests to S3, and SageMaker cannot leave one "
            "request out of data capture: --no-capture cannot be honoured here",
            "predict without --no-capture (set sagemaker: {sampling: N} on the endpoint to capture fewer)",
            Category.INVALID,
        )
    predictions: list[Any] = []
    scores: list[float] | None = []
    variant = None
    for body in _bodies(rows):
        answer, content_type, variant = _invoke(clients, id, body)
        more, more_scores = _answer(answer, content_type, id)
        predictions.extend(more)
        scores = scores + more_scores if scores is not None and more_scores is not None else None
    if len(predictions) != len(rows):
        raise ProviderError(
            f"endpoint {id} answered {len(predictions)} predictions for {len(rows)} rows",
            category=Category.INVALID,
        )
    version = _served_version(clients, described, attrs, variant)
    return Prediction(
        _address(rt, "endpoint", id), str(attrs.get("model") or ""), version, predictions, scores
    )
