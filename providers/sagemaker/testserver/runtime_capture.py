"""Data capture as SageMaker writes it for an endpoint config with DataCaptureConfig on: JSON
Lines under `{DestinationS3Uri}/{EndpointName}/{VariantName}/yyyy/mm/dd/hh/`, one object per
request:

    {"captureData": {"endpointInput": {"observedContentType", "mode": "INPUT", "data",
                                       "encoding"},
                     "endpointOutput": {... "mode": "OUTPUT" ...}},
     "eventMetadata": {"eventId", "inferenceTime"[, "inferenceId"]}, "eventVersion": "0"}

`encoding` is CSV or JSON for a content type the config's CaptureContentTypeHeader lists
as such, else BASE64 (SageMaker's default). InitialSamplingPercentage of the requests are
captured, and only the sides CaptureOptions names. SageMaker buffers requests and writes a
file every few minutes; the double writes one file per request at once, so a test reads
what it just sent.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as the endpoint saw them."""

    endpoint: str
    variant: str
    request: bytes
    request_type: str
    response: bytes
    response_type: str
    inference_id: str | None = None


def _side(config: dict[str, Any], mode: str, data: bytes, content_type: str) -> dict[str, Any]:
    headers = config.get("CaptureContentTypeHeader") or {}
    media = content_type.split(";", 1)[0].strip().lower()
    if media in [t.lower() for t in headers.get("CsvContentTypes") or []]:
        encoding, text = "CSV", data.decode("utf-8", errors="replace")
    elif media in [t.lower() for t in headers.get("JsonContentTypes") or []]:
        encoding, text = "JSON", data.decode("utf-8", errors="replace")
    else:
        encoding, text = "BASE64", base64.b64encode(data).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def _modes(config: dict[str, Any]) -> set[str]:
    named = {str(o.get("CaptureMode")) for o in config.get("CaptureOptions") or []}
    if "InputAndOutput" in named:
        named |= {"Input", "Output"}
    return named & {"Input", "Output"}


def record(config: dict[str, Any], exchange: Exchange, now: datetime) -> dict[str, Any]:
    """The capture line of one exchange."""
    sides: dict[str, Any] = {}
    modes = _modes(config)
    if "Input" in modes:
        sides["endpointInput"] = _side(config, "INPUT", exchange.request, exchange.request_type)
    if "Output" in modes:
        sides["endpointOutput"] = _side(config, "OUTPUT", exchange.response, exchange.response_type)
    metadata = {
        "eventId": str(uuid.uuid4()),
        "inferenceTime": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }
    if exchange.inference_id:
        metadata["inferenceId"] = exchange.inference_id
    return {"captureData": sides, "eventMetadata": metadata, "eventVersion": "0"}


def key_for(destination: str, exchange: Exchange, now: datetime) -> tuple[str, str]:
    """(bucket, key) of the capture file for an exchange at `now`."""
    bucket, _, prefix = destination[len("s3://") :].partition("/")
    folder = "/".join(p for p in (prefix.strip("/"), exchange.endpoint, exchange.variant) if p)
    name = f"{now:%M-%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
    return bucket, f"{folder}/{now:%Y/%m/%d/%H}/{name}"


def capture(s3: Any, config: dict[str, Any] | None, exchange: Exchange, draw: random.Random) -> str | None:
    """Write the exchange's capture file when the config captures it; its s3:// URI, or None.
    A destination bucket that does not exist loses the capture, as on SageMaker (which only
    logs it)."""
    if not config or not config.get("EnableCapture", True) or not _modes(config):
        return None
    destination = str(config.get("DestinationS3Uri") or "")
    if not destination.startswith("s3://"):
        return None
    if draw.random() * 100 >= float(config.get("InitialSamplingPercentage", 100)):
        return None
    now = datetime.now(timezone.utc)
    bucket, key = key_for(destination, exchange, now)
    if bucket not in s3.buckets:
        return None
    line = json.dumps(record(config, exchange, now), separators=(",", ":")) + "\n"
    s3.put_object(bucket, key, line.encode())
    return f"s3://{bucket}/{key}"
