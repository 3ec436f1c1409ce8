"""kill -9 while `mlops-decl apply` creates a SageMaker endpoint (Model + EndpointConfig +
Endpoint, serving a registered version), at 20 moments: with a call's answer held back by
the double (the server did it, the client never heard: after create_model, after
create_endpoint_config, after create_endpoint, while waiting for InService, once InService)
and at seeded delays into the create. The next apply converges, the state lists each
object once, the server holds one Model, one EndpointConfig and one Endpoint for the
resource (none made anew beside an orphan), and no "already exists" error surfaces.

One double serves every trial; each trial is its own project copy with its own endpoint,
sharing one model package group applied once."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import ROLE, client, register_version
from stress_common import popen_cli, read_state

from mlops_decl.cloud.naming import cloud_name
from mlops_decl.providers.sagemaker.model import ALIAS
from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.aws import FAKE_ENV
from mlops_decl.testing.project import cli

PROJECT = "kill"
# (action, nth call of it from the apply's start): its answer is held and the apply killed
HELD = [
    ("DescribeModelPackage", 1),  # nothing made yet
    ("CreateModel", 1),
    ("CreateEndpointConfig", 1),
    ("CreateEndpoint", 1),
    ("DescribeEndpoint", 2),  # the first wait: Creating (the first describe precedes the create)
    ("DescribeEndpoint", 3),  # InService, the apply not told
]
TRIALS = [("held", i) for i in range(len(HELD))] + [("delay", i) for i in range(20 - len(HELD))]


@pytest.fixture(scope="module")
def double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SageMakerServer, Path]]:
    """The double, and a project whose model is applied with version 1 under `champion`."""
    with pytest.MonkeyPatch.context() as mp:
        for k, v in FAKE_ENV.items():
            mp.setenv(k, v)
        with SageMakerServer(options=Options(endpoint_delay=0.3)) as server:
            client(server, "s3").create_bucket(Bucket="artifacts")
            root = tmp_path_factory.mktemp("template")
            (root / "mlops.yaml").write_text(
                f"project: {PROJECT}\ndefault_provider: sagemaker\nproviders:\n"
                f"  sagemaker: {{region: us-east-1, endpoint_url: '{server.url}',\n"
                f"    execution_role: '{ROLE}', artifacts: 's3://artifacts/mlops'}}\n"
                "resources:\n  model:\n    churn: {}\n"
            )
            applied = cli(root, "apply", "--auto-approve")
            assert applied.rc == 0, applied.output
            serve_version_1(server, cloud_name(f"{PROJECT}/model.churn"))
            yield server, root


def serve_version_1(server: SageMakerServer, group: str) -> None:
    """Version 1 in the group, as a pipeline run registers it, and the alias on it."""
    version = register_version(server, group, bucket="artifacts")
    sm = client(server, "sagemaker")
    group_arn = sm.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    sm.add_tags(ResourceArn=group_arn, Tags=[{"Key": ALIAS + "champion", "Value": str(version)}])


def wait_for(predicate: Any, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def kill_apply(server: SageMakerServer, root: Path, how: str, i: int) -> str:
    """Start `mlops-decl apply`, kill -9 it at trial i's moment; what it printed."""
    faults = server.faults
    started = server.calls()["DescribeModelPackage"]
    if how == "held":
        faults.hold(*HELD[i])
    proc = popen_cli(root, "apply", "--auto-approve", env={**FAKE_ENV, "PYTHONUNBUFFERED": "1"})
    try:
        if how == "held":
            wait_for(faults.holding.is_set, f"the apply to reach {HELD[i]}")
        else:  # a seeded moment after the endpoint's create began
            wait_for(lambda: server.calls()["DescribeModelPackage"] > started, "the endpoint's create")
            # within the create: its first wait for InService alone takes a second
            time.sleep(random.Random(2026 + i).uniform(0.0, 0.9))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        faults.release()
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate()
    return out + err


def named(items: list[str], name: str) -> list[str]:
    """The endpoint's own objects among SageMaker's: its name, or its name and a suffix."""
    return [n for n in items if n == name or n.startswith(name + "-")]


@pytest.mark.parametrize(("how", "i"), TRIALS, ids=[f"{how}-{i}" for how, i in TRIALS])
def test_kill_9_during_endpoint_creation_leaves_nothing_made_twice(
    double: tuple[SageMakerServer, Path], tmp_path: Path, how: str, i: int
) -> None:
    server, template = double
    root = tmp_path / "p"
    shutil.copytree(template, root)
    address = f"endpoint.api{i}{how[0]}"
    resource = {"model": "${model.churn}", "instance_type": "ml.m5.large", "replicas": 1}
    endpoint = {"resources": {"endpoint": {address.split(".")[1]: resource}}}
    (root / "endpoint.yaml").write_text(json.dumps(endpoint))

    killed = kill_apply(server, root, how, i)
    assert "Traceback" not in killed
    # the endpoint's name is recorded before anything is made: the state points at it
    assert read_state(root).resources[address].status == "creating", killed

    again = cli(root, "apply", "--auto-approve")
    assert again.rc == 0, again.output
    assert "already exist" not in again.output.lower(), again.output
    planned = cli(root, "plan", "--detailed-exitcode")
    assert planned.rc == 0, planned.output

    listed = cli(root, "state", "list").output.split()
    assert sorted(listed) == sorted({"model.churn", address}), listed
    state = read_state(root)
    assert {a: rs.status for a, rs in state.resources.items()} == {"model.churn": None, address: None}
    name = state.resources[address].id
    assert name == cloud_name(f"{PROJECT}/{address}")

    sm = client(server, "sagemaker")
    live = sm.describe_endpoint(EndpointName=name)
    assert live["EndpointStatus"] == "InService", live.get("FailureReason")
    endpoints = named([e["EndpointName"] for e in sm.list_endpoints(MaxResults=100)["Endpoints"]], name)
    configs = named(
        [c["EndpointConfigName"] for c in sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]], name
    )
    models = named([m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]], name)
    assert endpoints == [name]
    assert configs == [live["EndpointConfigName"]], configs
    config = sm.describe_endpoint_config(EndpointConfigName=configs[0])
    assert models == [config["ProductionVariants"][0]["ModelName"]], models
    assert state.resources[address].attributes["serving_version"] == 1


def test_an_endpoint_killed_before_its_create_then_removed_leaves_no_model_or_config(
    double: tuple[SageMakerServer, Path], tmp_path: Path
) -> None:
    """Killed once its Model and EndpointConfig exist but before CreateEndpoint, then taken out
    of the configuration: the apply that deletes it deletes what it had made, and nothing of
    anyone else's that shares the name's prefix."""
    server, template = double
    root = tmp_path / "p"
    shutil.copytree(template, root)
    address = "endpoint.gone"
    resource = {"model": "${model.churn}", "instance_type": "ml.m5.large", "replicas": 1}
    (root / "endpoint.yaml").write_text(json.dumps({"resources": {"endpoint": {"gone": resource}}}))
    name = cloud_name(f"{PROJECT}/{address}")
    sm = client(server, "sagemaker")
    other = sm.create_model(  # someone else's, named like a leftover
        ModelName=f"{name}-v9", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"}
    )["ModelArn"]

    killed = kill_apply(server, root, "held", HELD.index(("CreateEndpointConfig", 1)))
    assert "Traceback" not in killed
    assert read_state(root).resources[address].status == "creating", killed
    configs = named([c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]], name)
    models = named([m["ModelName"] for m in sm.list_models()["Models"]], name)
    assert len(configs) == 1 and sorted(models) == [f"{name}-v1", f"{name}-v9"]
    assert named([e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]], name) == []

    (root / "endpoint.yaml").unlink()
    again = cli(root, "apply", "--auto-approve")
    assert again.rc == 0, again.output
    assert address not in read_state(root).resources
    assert named([c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]], name) == []
    assert named([m["ModelName"] for m in sm.list_models()["Models"]], name) == [f"{name}-v9"]
    sm.delete_model(ModelName=f"{name}-v9")
    assert other.endswith(f"{name}-v9")
