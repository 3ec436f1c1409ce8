"""endpoint on the local provider: pending_model until its alias points at a version."""

from __future__ import annotations

import sqlite3

import pytest

from mlops_decl.provider import ConfigError


@pytest.fixture
def model(local_mlflow, spec):
    return local_mlflow.handler("model").create(spec("model", "churn"))


def test_lifecycle_pending_until_alias(local_mlflow, spec, model, project, register_version):
    h = local_mlflow.handler("endpoint")
    assert h.force_new == {"model"}
    desired = spec("endpoint", "api", model="churn", version="champion", local={"port": 9001})
    plan = h.plan(desired, None)
    assert plan.requires_replace == [("local", "port")]  # a new port is a new URL: a new endpoint
    planned = plan.attributes
    assert planned["id"] == "api" and planned["url"] == "http://127.0.0.1:9001/invocations"
    assert "status" not in planned  # known after apply

    id, attrs = h.create(desired)
    assert id == "api"
    assert attrs["status"] == "pending_model" and attrs["serving_version"] is None
    assert h.read(id, attrs) == attrs

    version = register_version(local_mlflow, "churn", project)
    assert h.read(id, attrs)["status"] == "pending_model"  # a version, but no alias yet
    local_mlflow.env.registry.client().set_registered_model_alias("churn", "champion", str(version))
    live = h.read(id, attrs)
    assert live["status"] == "ready" and live["serving_version"] == version
    assert h.plan(desired, live).attributes["status"] == "ready"  # carried from refresh

    updated = h.update(id, live, dict(desired, replicas=2, local=None))
    assert updated["replicas"] == 2 and updated["url"] == "http://127.0.0.1:8080/invocations"
    assert updated["status"] == "ready"

    h.delete(id, updated)
    assert h.read(id, updated) is None
    h.delete(id, updated)


def test_version_numbers_and_latest(local_mlflow, spec, model, project, register_version):
    h = local_mlflow.handler("endpoint")
    _, by_number = h.create(spec("endpoint", "n", model="churn", version=1))
    _, by_string = h.create(spec("endpoint", "s", model="churn", version="2"))
    _, latest = h.create(spec("endpoint", "l", model="churn", version="latest"))
    assert {a["status"] for a in (by_number, by_string, latest)} == {"pending_model"}
    register_version(local_mlflow, "churn", project)
    assert h.read("n", by_number)["serving_version"] == 1
    assert h.read("s", by_string)["status"] == "pending_model"
    assert h.read("l", latest)["serving_version"] == 1


def test_model_not_registered_yet(local, spec):
    """Before any model exists (no registry database even) the endpoint is pending."""
    _, attrs = local.handler("endpoint").create(spec("endpoint", "api", model="nope"))
    assert attrs["status"] == "pending_model"
    assert not local.env.registry.exists()


def test_out_of_band_delete(local, spec, project):
    h = local.handler("endpoint")
    id, attrs = h.create(spec("endpoint", "api", model="m"))
    with sqlite3.connect(project / ".mlops" / "local" / "catalog.db") as conn:
        conn.execute("DELETE FROM objects WHERE kind = 'endpoint'")
    assert h.read(id, attrs) is None


@pytest.mark.parametrize("local_block", [{"port": 0}, {"port": "80"}, {"host": "0.0.0.0"}])
def test_bad_local_block(local, spec, local_block):
    with pytest.raises(ConfigError) as err:
        local.handler("endpoint").plan(spec("endpoint", "api", model="m", local=local_block), None)
    assert err.value.field[0] == "local"
