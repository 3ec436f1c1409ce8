"""The monitor actions on SageMaker: `reference_data` (the baseline dataset's S3 object as a
table, streamed through ranged reads, the version read pinned) and `current_data` (a `--data`
file, local or s3://, or the inputs the monitor's endpoint captured). The engine scores the
drift (mlops_decl/ml/monitor.py); nothing here judges it.

Captured inputs are where SageMaker's data capture writes them: under the endpoint config's
DataCaptureConfig DestinationS3Uri, `{EndpointName}/{VariantName}/yyyy/mm/dd/hh/*.jsonl`, one
JSON line per request (mlops_decl/cloud/capture.py reads them). CSV requests carry no header:
their columns are the monitor's features, in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_decl.cloud.capture import captured_columns
from mlops_decl.cloud.objects import RangeReader, read_table
from mlops_decl.ml.evidence import CurrentData, ReferenceData
from mlops_decl.ml.profile import hinted
from mlops_decl.provider import Attributes, Category, ProviderError, RuntimeContext

from ..base import range_reader
from ..client import Clients, call, found
from ..dataset import format_of, split_uri


def _version(head: dict[str, Any]) -> str:
    version = head.get("VersionId")
    return str(version) if version and version != "null" else str(head.get("ETag", "")).strip('"')


def _format(uri: str, rt: RuntimeContext | None) -> str:
    """The dataset's declared format (the state knows it), else the one its name tells."""
    dataset = rt.find("dataset", uri) if rt is not None else None
    return format_of(uri, (dataset[1] or {}).get("format") if dataset else None)


def _table(read: RangeReader, size: int, fmt: str, columns: list[str] | None, what: str) -> Any:
    """The table's `columns`; one error naming what is missing instead of a pandas traceback."""
    from mlops_decl.cloud.objects import table_facts

    available = table_facts(read, size, fmt, count_rows=False).columns
    missing = [c for c in columns or [] if c not in available]
    if missing:
        raise hinted(
            f"{what} lacks the feature column(s) {', '.join(missing)}", f"its columns: {', '.join(available)}"
        )
    try:
        return read_table(read, size, fmt, columns)
    except (ValueError, OSError) as exc:  # pandas' and pyarrow's parse errors
        raise ProviderError(f"cannot read {what} as {fmt}: {exc}", category=Category.INVALID) from None


def _s3_table(clients: Clients, uri: str, fmt: str, columns: list[str] | None, what: str) -> tuple[Any, str]:
    """(the object's table, its version), read at the version its HEAD answered."""
    bucket, key = split_uri(uri)
    head = found(clients.s3.head_object, f"read {uri}", Bucket=bucket, Key=key)
    if head is None:
        raise ProviderError(f"{what} {uri} does not exist", category=Category.NOT_FOUND)
    version = head.get("VersionId")
    pinned = {"VersionId": version} if version and version != "null" else {}
    read = range_reader(clients, bucket, key, **pinned)
    return _table(read, int(head.get("ContentLength") or 0), fmt, columns, f"{what} {uri}"), _version(head)


def reference_data(
    clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext | None, read: bool = True
) -> ReferenceData:
    """The baseline's version now and, with `read`, its monitored columns."""
    uri = str(attrs.get("baseline") or "")
    if not read:
        bucket, key = split_uri(uri)
        head = found(clients.s3.head_object, f"read {uri}", Bucket=bucket, Key=key)
        return ReferenceData(uri, None if head is None else _version(head), uri)
    features = attrs.get("features")
    rows, version = _s3_table(clients, uri, _format(uri, rt), features, "the baseline")
    return ReferenceData(uri, version, uri, rows)


def _local_reader(path: Path) -> tuple[RangeReader, int]:
    def read(start: int, end: int) -> bytes:
        with path.open("rb") as f:
            f.seek(start)
            return f.read(end - start + 1)

    return read, path.stat().st_size


def current_data(
    clients: Clients, id: str, attrs: Attributes, rt: RuntimeContext, data: str | None, columns: list[str]
) -> CurrentData:
    """`columns` of `data` (a file, relative to the project, or s3://), or of the captures."""
    if data is not None:
        fmt = "parquet" if data.lower().endswith((".parquet", ".pq")) else "csv"
        if data.startswith("s3://"):
            rows, _ = _s3_table(clients, data, fmt, columns, "--data")
            return CurrentData(rows, data)
        path = Path(data).expanduser()
        path = path if path.is_absolute() else rt.project_dir / path
        if not path.is_file():
            raise hinted(
                f"--data {path} does not exist", "pass a CSV or parquet file with the monitored features"
            )
        read, size = _local_reader(path)
        return CurrentData(_table(read, size, fmt, columns, f"--data {path}"), str(path))
    endpoint = attrs.get("endpoint")
    if not endpoint:
        raise hinted(
            "this monitor has no endpoint, so a check needs current data",
            "pass --data FILE (a CSV or parquet file with the monitored features)",
        )
    return captured(clients, str(endpoint), list(attrs.get("features") or columns), columns)


def capture_prefixes(clients: Clients, endpoint: str) -> list[str]:
    """`s3://bucket/prefix/` per production variant of the endpoint's current config, where
    its data capture writes."""
    sm = clients.sagemaker
    described = found(sm.describe_endpoint, f"read endpoint {endpoint}", EndpointName=endpoint)
    if described is None:
        raise hinted(
            f"endpoint `{endpoint}` is not deployed, so it has captured nothing",
            "promote a version so that the endpoint serves, or pass --data FILE",
        )
    config = call(
        sm.describe_endpoint_config,
        f"read endpoint config {described['EndpointConfigName']}",
        EndpointConfigName=described["EndpointConfigName"],
    )
    capture = config.get("DataCaptureConfig") or {}
    if not capture.get("DestinationS3Uri"):
        raise hinted(f"endpoint `{endpoint}` does not capture its requests", "pass --data FILE")
    base = str(capture["DestinationS3Uri"]).rstrip("/")
    return [f"{base}/{endpoint}/{v['VariantName']}/" for v in config.get("ProductionVariants") or []]


def _capture_files(clients: Clients, prefix: str) -> list[tuple[str, str]]:
    bucket, _, key = prefix[5:].partition("/")
    out, token = [], None
    while True:
        page = call(
            clients.s3.list_objects_v2,
            f"list {prefix}",
            Bucket=bucket,
            Prefix=key,
            **({"ContinuationToken": token} if token else {}),
        )
        out += [(bucket, o["Key"]) for o in page.get("Contents") or [] if o["Key"].endswith(".jsonl")]
        token = page.get("NextContinuationToken")
        if not token:
            return sorted(out, key=lambda bk: bk[1])  # yyyy/mm/dd/hh/...: oldest first


def captured(clients: Clients, endpoint: str, names: list[str], columns: list[str]) -> CurrentData:
    """The inputs the endpoint captured, one column per name (CSV requests: by position),
    streamed file by file."""
    import pandas as pd

    merged: dict[str, list[Any]] = {name: [] for name in names}
    requests = 0
    for prefix in capture_prefixes(clients, endpoint):
        for bucket, key in _capture_files(clients, prefix):
            body = call(clients.s3.get_object, f"read s3://{bucket}/{key}", Bucket=bucket, Key=key)["Body"]
            got, n = captured_columns(body.iter_lines(), names)
            requests += n
            for name in names:
                merged[name] += got[name]
    if not requests:
        raise hinted(
            f"endpoint `{endpoint}` has no captured inputs yet",
            "score some rows first (`mlops-decl predict endpoint.NAME --data FILE`), or pass --data FILE",
        )
    frame = pd.DataFrame(merged)
    empty = [c for c in columns if c not in frame.columns or frame[c].isna().all()]
    if empty:
        raise hinted(
            f"the captured inputs of endpoint `{endpoint}` lack the feature(s) {', '.join(empty)}",
            "send those fields in requests, or pass --data FILE",
        )
    return CurrentData(frame[columns], f"captured inputs of endpoint {endpoint} ({requests} requests)")
