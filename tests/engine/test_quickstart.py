"""The issue's acceptance path, as a new user runs it on a copy of examples/quickstart."""

from __future__ import annotations

from engine_helpers import Project


def test_quickstart_lifecycle(quickstart: Project) -> None:
    plan = quickstart.ok("plan")
    assert "Plan: 7 to add, 0 to change, 0 to replace, 0 to destroy." in plan.out
    for address in [
        'resource "dataset" "customers"',
        'resource "feature_group" "customer_features"',
        'resource "model" "churn"',
        'resource "training_pipeline" "churn_training"',
        'resource "registry_policy" "churn_gates"',
        'resource "endpoint" "churn_api"',
        'resource "monitor" "churn_drift"',
    ]:
        assert address in plan.out

    applied = quickstart.ok("apply", "--auto-approve")
    assert "Apply complete! Resources: 7 added, 0 changed, 0 destroyed." in applied.out
    assert 'api_url = "http://127.0.0.1:8080/invocations"' in applied.out

    # converged: nothing to do, and --detailed-exitcode says so
    assert quickstart.run("plan", "--detailed-exitcode").rc == 0

    # the endpoint was created before its model had a version: it waits for one
    shown = quickstart.ok("state", "show", "endpoint.churn_api").out
    assert '"pending_model"' in shown

    # one attribute changed: exactly one in-place change
    ml = quickstart.root / "ml.yaml"
    ml.write_text(ml.read_text().replace('replicas: "${var.replicas}"', "replicas: 3"))
    assert quickstart.actions() == {"endpoint.churn_api": ["update"]}
    res = quickstart.run("plan", "--detailed-exitcode")
    assert res.rc == 2
    assert "~ replicas" in res.out and "1 -> 3" in res.out
    assert "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy." in res.out

    # editing the dataset's CSV is a diff on the dataset's version
    csv = quickstart.root / "data" / "customers.csv"
    csv.write_text(csv.read_text() + "1999,2026-09-01T00:00:00,3,50.0,pro,1\n")
    changes = {rc["address"]: rc for rc in quickstart.plan_json()["resource_changes"]}
    ds = changes["dataset.customers"]["change"]
    assert ds["actions"] == ["update"]
    assert ds["before"]["version"] != ds["after"]["version"]
    assert ds["after"]["rows"] == ds["before"]["rows"] + 1

    quickstart.ok("apply", "--auto-approve")
    assert quickstart.run("plan", "--detailed-exitcode").rc == 0

    destroyed = quickstart.ok("destroy", "--auto-approve")
    assert "Destroy complete! Resources: 7 destroyed." in destroyed.out
    assert quickstart.ok("state", "list").out == ""
    assert quickstart.actions() == {a: ["create"] for a in quickstart.actions()}
    assert len(quickstart.actions()) == 7
