"""The sagemaker feature_group kind through the CLI: the Feature Group's schema generated from
the resource, its stores, and its columns checked against the source dataset."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import REGION, ROLE, client, fake_credentials

from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import cli

DATA = "customer_id,ts,amount,plan,churned\nc1,2024-01-01T00:00:00Z,10.5,basic,0\n"


@pytest.fixture
def double() -> Iterator[SageMakerServer]:
    with fake_credentials(), SageMakerServer(options=Options(endpoint_delay=0.2, pipeline_delay=0.1)) as s:
        s3 = client(s, "s3")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="customers.csv", Body=DATA.encode())
        yield s


def write(root: Path, server: SageMakerServer, settings: dict[str, Any] | None = None, **group: Any) -> None:
    body = {
        "source": "${dataset.customers}",
        "entity": ["customer_id"],
        "event_time": "ts",
        "features": [{"name": "amount", "dtype": "float"}, {"name": "plan", "dtype": "string"}],
        "sagemaker": {"role": ROLE},
        **group,
    }
    config = {
        "project": "fg",
        "default_provider": "sagemaker",
        "providers": {"sagemaker": {"region": REGION, "endpoint_url": server.url, **(settings or {})}},
        "resources": {
            "dataset": {"customers": {"uri": "s3://data/customers.csv"}},
            "feature_group": {"features": body},
        },
    }
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2) + "\n")


def test_a_block_that_spells_out_the_defaults_applies_and_replans_to_no_change(
    double: SageMakerServer, tmp_path: Path
) -> None:
    # the role is the provider's execution_role and the offline store is where it goes anyway
    write(
        tmp_path,
        double,
        settings={"execution_role": ROLE},
        sagemaker={"role": ROLE, "offline_uri": "s3://data/feature-store"},
    )
    applied = cli(tmp_path, "apply", "--auto-approve")
    assert applied.rc == 0, applied.output
    assert cli(tmp_path, "plan", "--detailed-exitcode").rc == 0
    write(tmp_path, double, settings={"execution_role": ROLE})  # the same group, defaults implied
    assert cli(tmp_path, "plan", "--detailed-exitcode").rc == 0


def test_the_group_is_made_from_the_resource_with_both_stores(
    double: SageMakerServer, tmp_path: Path
) -> None:
    write(
        tmp_path,
        double,
        online=True,
        features=[{"name": "amount", "dtype": "float"}, {"name": "churned", "dtype": "bool"}],
    )
    applied = cli(tmp_path, "apply", "--auto-approve")
    assert applied.rc == 0, applied.output
    sm = client(double, "sagemaker")
    [summary] = sm.list_feature_groups()["FeatureGroupSummaries"]
    got = sm.describe_feature_group(FeatureGroupName=summary["FeatureGroupName"])
    assert got["RecordIdentifierFeatureName"] == "customer_id" and got["EventTimeFeatureName"] == "ts"
    assert {d["FeatureName"]: d["FeatureType"] for d in got["FeatureDefinitions"]} == {
        "customer_id": "String",
        "ts": "String",
        "amount": "Fractional",
        "churned": "Integral",
    }
    assert got["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] == "s3://data/feature-store"
    assert got["OnlineStoreConfig"]["EnableOnlineStore"] is True
    assert cli(tmp_path, "plan", "--detailed-exitcode").rc == 0  # bool read back as declared


def test_a_feature_the_source_lacks_is_refused_naming_the_columns(
    double: SageMakerServer, tmp_path: Path
) -> None:
    write(
        tmp_path, double, features=[{"name": "amount", "dtype": "float"}, {"name": "tenure", "dtype": "int"}]
    )
    applied = cli(tmp_path, "apply", "--auto-approve")
    assert applied.rc == 1
    assert "`tenure` is not a column of the source s3://data/customers.csv" in applied.output
    assert "customer_id, ts, amount, plan, churned" in applied.output
    assert "mlops.yaml:" in applied.output and "Traceback" not in applied.output
    assert client(double, "sagemaker").list_feature_groups()["FeatureGroupSummaries"] == []


def test_two_entity_columns_are_refused_before_anything_is_made(
    double: SageMakerServer, tmp_path: Path
) -> None:
    write(tmp_path, double, entity=["customer_id", "plan"])
    applied = cli(tmp_path, "apply", "--auto-approve")
    assert applied.rc == 1
    assert "one record identifier" in applied.output and "mlops.yaml:" in applied.output
    assert client(double, "sagemaker").list_feature_groups()["FeatureGroupSummaries"] == []
