"""The shared cloud helpers (mlops_decl/cloud/): following a long-running operation, ranged
table reads, names and tokens from a stable identity, captured requests as columns."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time

import pytest

from mlops_decl.cloud.capture import captured_columns
from mlops_decl.cloud.naming import cloud_name, idempotency_token
from mlops_decl.cloud.objects import RangeFile, csv_facts, parquet_facts, read_table, table_facts
from mlops_decl.cloud.operations import Statuses, StillRunning, follow
from mlops_decl.operation import Operation
from mlops_decl.provider import Category, ProviderError

ENDPOINT = Statuses(
    status=lambda d: d["EndpointStatus"],
    done={"InService"},
    failed={"Failed"},
    reason=lambda d: d.get("FailureReason"),
)


def describer(*statuses: str, reason: str | None = None):
    seen = list(statuses)
    calls = []

    def describe() -> dict:
        calls.append(time.monotonic())
        status = seen.pop(0) if len(seen) > 1 else seen[0]
        return {"EndpointStatus": status, "FailureReason": reason}

    return describe, calls


def operation(deadline: float | None = None) -> tuple[Operation, list[str]]:
    lines: list[str] = []
    op = Operation("create", "endpoint.api", deadline=deadline, on_progress=lines.append)
    return op, lines


# -- following a long-running operation ------------------------------------------------------
def test_follow_polls_with_growing_delays_until_done_and_shows_progress() -> None:
    describe, calls = describer("Creating", "Creating", "Creating", "InService")
    op, lines = operation()
    got = follow(describe, ENDPOINT, op, "endpoint api", interval=0.02, factor=2.0, expected=600)
    assert got["EndpointStatus"] == "InService" and len(calls) == 4
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[2] > gaps[0] * 1.5, gaps  # backoff: 0.02, 0.04, 0.08
    assert lines[0].startswith("endpoint api: Creating, 0 s of ~600 s")
    assert lines[-1].startswith("endpoint api: InService after")


def test_follow_maps_a_failed_status_to_an_error_with_the_api_reason() -> None:
    describe, _ = describer("Creating", "Failed", reason="image not found")
    with pytest.raises(ProviderError) as info:
        follow(describe, ENDPOINT, operation()[0], "endpoint api", interval=0.01)
    assert info.value.category is Category.INVALID and not info.value.retryable
    assert str(info.value) == "endpoint api ended Failed: image not found"


def test_follow_stops_at_the_deadline_and_when_cancelled() -> None:
    describe, _ = describer("Creating")
    op, _ = operation(deadline=time.monotonic() + 0.15)
    t0 = time.monotonic()
    with pytest.raises(StillRunning) as late:
        follow(describe, ENDPOINT, op, "endpoint api", interval=0.05)
    assert time.monotonic() - t0 < 1.0 and late.value.status == "Creating"
    assert "the next apply waits for it" in str(late.value)
    op, _ = operation()
    threading.Timer(0.1, op.cancel.set).start()
    with pytest.raises(StillRunning):
        follow(describe, ENDPOINT, op, "endpoint api", interval=5.0)


def test_an_object_already_done_is_returned_at_once_without_progress() -> None:
    describe, calls = describer("InService")
    op, lines = operation()
    assert follow(describe, ENDPOINT, op, "endpoint api")["EndpointStatus"] == "InService"
    assert len(calls) == 1 and lines == []


# -- names and tokens -------------------------------------------------------------------------
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def test_a_name_keeps_what_is_readable_and_replaces_what_is_not_allowed() -> None:
    assert cloud_name("churn/endpoint.churn_api") == "churn-endpoint-churn-api"
    assert cloud_name("churn/endpoint.api", suffix="-c2") == "churn-endpoint-api-c2"
    assert cloud_name("Churn/Model.A", lower=True) == "churn-model-a"
    assert cloud_name("__x__", allowed="a-z0-9", separator="-") == "x"
    assert SAGEMAKER_NAME.match(cloud_name("-/-weird--name-/-"))


def test_a_long_name_is_cut_with_a_hash_so_two_long_names_stay_two() -> None:
    a = cloud_name("project-with-a-long-name/endpoint." + "a" * 80 + "-one", suffix="-c1")
    b = cloud_name("project-with-a-long-name/endpoint." + "a" * 80 + "-two", suffix="-c1")
    assert len(a) <= 63 and len(b) <= 63 and a != b
    assert a.endswith("-c1") and SAGEMAKER_NAME.match(a)
    assert a == cloud_name("project-with-a-long-name/endpoint." + "a" * 80 + "-one", suffix="-c1")
    assert len(cloud_name("p/" + "x" * 300, max_length=32)) == 32


def test_tokens_are_stable_per_identity_and_salt_and_fit_the_cloud() -> None:
    t = idempotency_token("churn/endpoint.api")
    assert t == idempotency_token("churn/endpoint.api") and len(t) == 32
    assert t != idempotency_token("churn/endpoint.api", salt="old-id")
    assert t != idempotency_token("churn/endpoint.web")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        idempotency_token("churn/model.m", alphabet="uuid"),
    )
    assert len(idempotency_token("x", length=64)) == 64
    with pytest.raises(ValueError):
        idempotency_token("x", length=65)


# -- ranged reads -----------------------------------------------------------------------------
class Store:
    """An object served by byte ranges, counting what was read."""

    def __init__(self, data: bytes):
        self.data, self.ranges = data, []

    def read(self, start: int, end: int) -> bytes:
        self.ranges.append((start, end))
        return self.data[start : end + 1]

    @property
    def bytes_read(self) -> int:
        return sum(e - s + 1 for s, e in self.ranges)


def big_csv(rows: int) -> bytes:
    return ("id,amount,note\n" + "".join(f'c{i},{i * 1.5},"a, {i}"\n' for i in range(rows))).encode()


def test_csv_columns_read_only_the_head_and_rows_stream_in_chunks() -> None:
    store = Store(big_csv(50_000))
    facts = table_facts(store.read, len(store.data), "csv", count_rows=False)
    assert facts.columns == ["id", "amount", "note"] and facts.rows is None
    assert store.bytes_read < 70_000 < len(store.data)
    counted = csv_facts(store.read, len(store.data), chunk=100_000)
    assert counted.rows == 50_000
    assert max(e - s + 1 for s, e in store.ranges) <= 100_000  # never one whole download


def test_csv_rows_respect_quoted_newlines_and_a_missing_final_newline() -> None:
    data = b'a,b\n1,"two\nlines"\n3,4'
    store = Store(data)
    assert csv_facts(store.read, len(data), chunk=5).rows == 2
    assert csv_facts(Store(b"").read, 0).columns == []


def test_parquet_columns_and_rows_come_from_the_footer() -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    buf = io.BytesIO()
    pd.DataFrame({"id": range(200_000), "amount": [i * 0.5 for i in range(200_000)]}).to_parquet(buf)
    store = Store(buf.getvalue())
    facts = parquet_facts(store.read, len(store.data))
    assert facts.columns == ["id", "amount"] and facts.rows == 200_000
    assert facts.bytes_read < len(store.data) / 4, (facts.bytes_read, len(store.data))


def test_read_table_reads_the_columns_asked_for() -> None:
    pytest.importorskip("pandas")
    store = Store(big_csv(100))
    frame = read_table(store.read, len(store.data), "csv", columns=["amount"])
    assert list(frame.columns) == ["amount"] and len(frame) == 100
    f = RangeFile(store.read, len(store.data), chunk=16)
    f.seek(-6, io.SEEK_END)
    assert f.read() == store.data[-6:] and f.read() == b""


# -- captured requests ------------------------------------------------------------------------
def capture(data: str, encoding: str, content_type: str = "text/csv") -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                }
            },
            "eventMetadata": {"eventId": "e1", "inferenceTime": "2026-12-03T10:00:00Z"},
            "eventVersion": "0",
        }
    )


def test_captured_requests_become_columns_whatever_their_encoding() -> None:
    lines = [
        capture("3,12.5,gold\n4,1.0,free", "CSV"),
        capture(
            json.dumps({"instances": [{"tenure": 7, "spend": 3.5, "plan": "gold"}]}),
            "JSON",
            "application/json",
        ),
        capture(
            base64.b64encode(json.dumps([{"tenure": 1, "plan": "free"}]).encode()).decode(),
            "BASE64",
            "application/json",
        ),
        "{not json",  # a line cut by a crash
        "",
    ]
    columns, requests = captured_columns(lines, ["tenure", "spend", "plan"])
    assert requests == 3
    assert columns == {
        "tenure": [3, 4, 7, 1],
        "spend": [12.5, 1.0, 3.5, None],
        "plan": ["gold", "free", "gold", "free"],
    }
