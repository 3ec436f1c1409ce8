"""A model's versions on the SageMaker provider, through the engine's typed action calls:
evidence from the model package and its evaluation report, approvals, and the alias moved by
compare-and-set (and the package approved with it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sagemaker_helpers import client, fake_credentials, register_version

from mlops_decl.actions.invoke import invoke
from mlops_decl.diagnostics import DiagnosticError
from mlops_decl.provider import RuntimeContext
from mlops_decl.providers.sagemaker.provider import SageMakerProvider
from mlops_decl.providers.sagemaker.testserver import SageMakerServer
from mlops_decl.testing.case import ProviderCase, Sample
from mlops_decl.testing.harness import Harness


@pytest.fixture
def model(tmp_path: Path) -> Iterator[tuple[SageMakerServer, Any, str]]:
    with fake_credentials(), SageMakerServer() as server:
        client(server, "s3").create_bucket(Bucket="data")
        case = ProviderCase(
            provider=SageMakerProvider,
            settings=lambda s: {"region": "us-east-1", "endpoint_url": s.url},
            samples=[Sample("model", "churn", {}, in_place={})],
        )
        harness = Harness(case, tmp_path, server)
        id, _ = harness.create(case.sample("model"))  # the model made as apply makes it
        yield server, harness.provider, id
        harness.close()


def call(provider: Any, id: str, name: str, **arguments: Any) -> Any:
    rt = RuntimeContext(Path("."), "hash", None, "test")
    return invoke(provider, "sagemaker", "model.churn", "model", name, id, {}, rt, **arguments)


def test_evidence_reads_the_package_and_its_evaluation_report(model: Any) -> None:
    server, provider, id = model
    register_version(server, id, {"auc": 0.91, "f1": 0.7})
    evidence = call(provider, id, "version_evidence", version=1)
    assert evidence.metrics == {"auc": 0.91, "f1": 0.7}
    assert evidence.run_id == "exec-1" and evidence.dataset_versions == {"dataset.sales": "v1"}
    assert evidence.params == {"C": "0.5"} and evidence.source.endswith("/1/model.tar.gz")
    assert call(provider, id, "list_versions").versions[0].version == 1


def test_approvals_accumulate_and_the_alias_moves_only_from_what_the_gates_saw(model: Any) -> None:
    server, provider, id = model
    for _ in range(2):
        register_version(server, id)
    assert call(provider, id, "add_approval", version=2, by="ana").approvals == ["ana"]
    assert call(provider, id, "add_approval", version=2, by="bo;b").approvals == ["ana", "bo_b"]
    assert call(provider, id, "version_evidence", version=2).approvals == ["ana", "bo_b"]
    moved = call(provider, id, "set_alias", alias="champion", version=1, expected_current=None)
    assert (moved.version, moved.previous) == (1, None)
    # a second promotion that compared against "no champion": refused, as the engine reports it
    with pytest.raises(DiagnosticError, match="moved while the gates ran: it points at version 1"):
        call(provider, id, "set_alias", alias="champion", version=2, expected_current=None)
    call(provider, id, "set_alias", alias="champion", version=2, expected_current=1)
    assert call(provider, id, "list_versions").aliases == {"champion": 2}
    sm = client(server, "sagemaker")
    package = sm.list_model_packages(ModelPackageGroupName=id)["ModelPackageSummaryList"][1]
    assert package["ModelApprovalStatus"] == "Approved"
    assert call(provider, id, "version_evidence", version=2).aliases == ["champion"]
