"""A no-op plan of SageMaker datasets and models: at most two API calls a resource, counted
with botocore's event hooks, and a resource's two reads in one round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sagemaker_helpers import REGION, client

from mlops_decl.providers.sagemaker.calls import counting
from mlops_decl.providers.sagemaker.testserver import SageMakerServer
from mlops_decl.testing.project import cli

N = 4  # of each kind
LATENCY = 1.0  # seconds the double adds to every call


def _project(root: Path, server: SageMakerServer) -> None:
    s3 = client(server, "s3")
    s3.create_bucket(Bucket="noop")
    for i in range(N):
        s3.put_object(Bucket="noop", Key=f"d{i}.csv", Body=f"id,value\n{i},{i * 2}\n".encode())
    config = {
        "project": "noop",
        "backend": {"type": "local"},
        "default_provider": "sagemaker",
        "providers": {"sagemaker": {"region": REGION, "endpoint_url": server.url}},
        "resources": {
            "dataset": {f"d{i}": {"uri": f"s3://noop/d{i}.csv", "format": "csv"} for i in range(N)},
            "model": {f"m{i}": {"description": f"model {i}"} for i in range(N)},
        },
    }
    root.mkdir(parents=True)
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2) + "\n")


def test_a_no_op_plan_reads_each_resource_in_one_round_trip(tmp_path: Path, server: Any) -> None:
    root = tmp_path / "noop"
    _project(root, server)
    made = cli(root, "apply", "--auto-approve")
    assert made.rc == 0, made.output
    server.inject(latency=LATENCY)
    try:
        with counting() as counter:
            planned = cli(root, "plan", "--detailed-exitcode", "--parallelism", str(2 * N))
    finally:
        server.inject(latency=0.0)
    assert planned.rc == 0 and "No changes" in planned.output, planned.output
    calls = counter.snapshot()["calls"]
    assert sum(calls.values()) == 2 * (2 * N), calls  # two a resource, no more
    assert calls == {
        "s3.HeadObject": N,
        "s3.GetObjectTagging": N,
        "sagemaker.DescribeModelPackageGroup": N,
        "sagemaker.ListTags": N,
    }
    # every resource of a kind at once, each with its two calls together: about one round trip
    # a service (one after the other, the two calls would take twice the latency). A service's
    # span leaves out the building of the other service's client, which a plan does on first
    # use and which a loaded machine makes slow.
    for service in ("s3", "sagemaker"):
        assert counter.span(service) < 1.75 * LATENCY, (service, counter.span(service))
