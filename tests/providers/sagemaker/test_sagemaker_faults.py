"""Faults the SageMaker double injects (a share of calls throttled, latency per call), as
botocore and the provider see them, and the provider's calls counted with botocore's hooks."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sagemaker_helpers import REGION, client, fake_credentials

from mlops_decl.provider import Category
from mlops_decl.providers.sagemaker.calls import counting
from mlops_decl.providers.sagemaker.client import Clients
from mlops_decl.providers.sagemaker.errors import provider_error
from mlops_decl.providers.sagemaker.settings import parse
from mlops_decl.providers.sagemaker.testserver import SageMakerServer
from mlops_decl.providers.sagemaker.testserver.faults import ROUTE


def outcomes(sm: Any, n: int) -> list[bool]:
    """n calls one after another: True where the call was throttled."""
    out = []
    for _ in range(n):
        try:
            sm.list_models()
            out.append(False)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ThrottlingException"
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            out.append(True)
    return out


@pytest.fixture(autouse=True)
def credentials() -> Iterator[None]:
    with fake_credentials():  # the provider's own clients find them in the environment
        yield


def test_a_share_of_calls_is_throttled_the_same_way_for_the_same_seed(server: Any, sm: Any) -> None:
    server.inject(throttle=0.3, seed=11)
    first = outcomes(sm, 100)
    server.inject(seed=11)
    again = outcomes(sm, 100)
    server.inject(seed=12)
    other = outcomes(sm, 100)
    assert first == again and first != other
    assert 15 <= sum(first) <= 45  # about 30 of 100
    assert server.throttled == sum(first) + sum(again) + sum(other)
    server.inject(throttle=0.0)
    assert not any(outcomes(sm, 20))


def test_throttles_are_what_botocore_retries_and_the_provider_calls_throttled(
    server: Any, sm: Any, s3: Any
) -> None:
    s3.create_bucket(Bucket="bucket")
    server.inject(throttle=1.0)
    with pytest.raises(ClientError) as sagemaker:
        sm.list_models()
    with pytest.raises(ClientError) as storage:
        s3.head_object(Bucket="bucket", Key="k")
    assert provider_error(sagemaker.value, "list").category is Category.THROTTLED
    assert storage.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert provider_error(storage.value, "head").category is Category.THROTTLED
    # botocore's standard retry mode (the provider's clients) sees throttles and tries again
    clients = Clients(parse({"region": REGION, "endpoint_url": server.url, "max_attempts": 4}))
    server.inject(throttle=0.5, seed=3)
    answers = [clients.sagemaker.list_models()["ResponseMetadata"]["RetryAttempts"] for _ in range(8)]
    clients.close()
    assert any(answers)


def test_latency_is_added_to_every_call(server: Any, sm: Any) -> None:
    sm.list_models()  # the connection is open
    server.inject(latency=0.2)
    t0 = time.perf_counter()
    sm.list_models()
    sm.list_endpoints()
    assert time.perf_counter() - t0 >= 0.4


def control(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + ROUTE, data=data, method="GET" if data is None else "POST")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_control_route_sets_faults_and_reports_counts(server: Any, sm: Any) -> None:
    status, got = control(server.url, {"throttle": 1, "latency_ms": 10, "seed": 5})
    assert status == 200 and got["throttle"] == 1.0 and got["latency_ms"] == 10.0
    assert outcomes(sm, 2) == [True, True]
    status, got = control(server.url, {"throttle": 0, "next": 1})
    assert outcomes(sm, 2) == [True, False]
    status, got = control(server.url)
    assert got["calls"]["ListModels"] == 4 and got["throttled"] == 3 and got["requests"] == 4
    assert control(server.url, {"throttle": 2})[0] == 400
    status, got = control(server.url, {"throtle": 0.5})
    assert status == 400 and "throtle" in got["error"]


def test_the_server_on_its_own_takes_faults_from_its_command_line() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops_decl.providers.sagemaker.testserver",
            "--throttle",
            "1",
            "--latency-ms",
            "50",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()

        class Handle:
            pass

        handle = Handle()
        handle.url = url  # type: ignore[attr-defined]
        assert outcomes(client(handle, "sagemaker"), 1) == [True]
        _, got = control(url)
        assert got["throttle"] == 1.0 and got["latency_ms"] == 50.0 and got["throttled"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = subprocess.run(
        [sys.executable, "-m", "mlops_decl.providers.sagemaker.testserver", "--throttle", "1.5"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "from 0 to 1" in bad.stderr


def test_the_provider_calls_are_counted_with_botocore_event_hooks(server: SageMakerServer) -> None:
    clients = Clients(parse({"region": REGION, "endpoint_url": server.url, "max_attempts": 3}))
    with counting() as counter:
        clients.sagemaker.list_models()
        clients.s3.list_buckets()
        server.throttle(1)
        clients.sagemaker.list_endpoints()  # throttled once, then answered by botocore's retry
        server.throttle(3)
        with pytest.raises(ClientError):
            clients.sagemaker.list_endpoints()
    clients.close()
    got = counter.snapshot()
    assert got["calls"] == {"sagemaker.ListModels": 1, "s3.ListBuckets": 1, "sagemaker.ListEndpoints": 2}
    assert got["attempts"]["sagemaker.ListEndpoints"] == 5
    assert got["errors"] == {"sagemaker.ListEndpoints": 1}
    assert server.requests == sum(got["attempts"].values())


def test_a_held_call_is_done_on_the_server_before_its_client_hears(server: SageMakerServer, sm: Any) -> None:
    import threading

    server.faults.hold("CreateModelPackageGroup", nth=2)
    sm.create_model_package_group(ModelPackageGroupName="first")  # the first one passes
    answers: list[str] = []
    caller = threading.Thread(
        target=lambda: answers.append(
            sm.create_model_package_group(ModelPackageGroupName="second")["ModelPackageGroupArn"]
        )
    )
    caller.start()
    assert server.faults.holding.wait(30)
    other = client(server, "sagemaker")  # another connection sees it made, its caller not told
    assert other.describe_model_package_group(ModelPackageGroupName="second")["ModelPackageGroupStatus"]
    assert answers == [] and caller.is_alive()
    server.faults.release()
    caller.join(30)
    assert answers and answers[0].endswith("/second")
    sm.create_model_package_group(ModelPackageGroupName="third")  # nothing held any more
