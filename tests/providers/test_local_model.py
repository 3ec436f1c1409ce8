"""model on the local provider: a registered model in MLflow on SQLite."""

from __future__ import annotations

import time


def test_lifecycle(local_mlflow, spec):
    h = local_mlflow.handler("model")
    desired = spec("model", "churn", description="Churn classifier", tags={"team": "growth"})
    planned = h.plan(desired, None)
    assert planned["id"] == planned["name"] == "churn" and "_name" not in planned

    id, attrs = h.create(desired)
    assert id == "churn"
    assert attrs["description"] == "Churn classifier" and attrs["tags"] == {"team": "growth"}
    assert attrs["latest_version"] is None and attrs["aliases"] == {}
    assert h.read(id, attrs) == attrs
    assert set(attrs) == set(planned) | {"latest_version", "aliases"}

    changed = spec("model", "churn", description=None, tags={"owner": "ml"})
    replanned = h.plan(changed, attrs)
    assert replanned["latest_version"] is None and replanned["aliases"] == {}  # carried, not unknown
    updated = h.update(id, attrs, changed)
    assert updated["description"] is None and updated["tags"] == {"owner": "ml"}
    assert h.read(id, updated) == updated

    h.delete(id, updated)
    assert h.read(id, updated) is None
    h.delete(id, updated)  # missing is fine


def test_read_keeps_config_mlflow_does_not_store(local_mlflow, spec):
    h = local_mlflow.handler("model")
    id, attrs = h.create(spec("model", "m", local={}))
    assert h.read(id, attrs)["local"] == {}
    imported = h.read(id, {})  # `import model.m m`: what MLflow keeps
    assert "local" not in imported and imported["tags"] == {} and imported["description"] is None


def test_out_of_band_delete_and_adopt(local_mlflow, spec):
    h = local_mlflow.handler("model")
    id, attrs = h.create(spec("model", "m"))
    client = local_mlflow.env.registry.client()
    client.delete_registered_model("m")
    assert h.read(id, attrs) is None

    client.create_registered_model("m", tags={"stray": "x"})  # left by a crashed apply
    _, adopted = h.create(spec("model", "m", description="d"))
    assert adopted["description"] == "d" and adopted["tags"] == {}


def test_versions_and_aliases_are_read_live(local_mlflow, spec, project, register_version):
    h = local_mlflow.handler("model")
    id, attrs = h.create(spec("model", "m"))
    register_version(local_mlflow, "m", project)
    register_version(local_mlflow, "m", project)
    local_mlflow.env.registry.client().set_registered_model_alias("m", "champion", "1")
    live = h.read(id, attrs)
    assert live["latest_version"] == 2 and live["aliases"] == {"champion": 1}


def test_no_registry_database_means_no_model(local, spec):
    h = local.handler("model")
    assert h.read("m", {}) is None
    h.delete("m", {})
    assert not local.env.registry.exists()  # neither made the database


def test_first_call_on_a_new_database(local, spec, capfd):
    """Creating the registry database (migrations) is the slow first call. MLflow must keep
    quiet (users parse stdout) and keep its artifacts under the provider's data dir."""
    started = time.perf_counter()
    local.handler("model").create(spec("model", "m"))
    elapsed = time.perf_counter() - started
    out, err = capfd.readouterr()
    assert out == "" and "INFO" not in err
    assert elapsed < 30
    artifacts = (local.env.data_dir / "mlartifacts").as_uri()
    client = local.env.registry.client()
    assert client.get_experiment("0").artifact_location.startswith(artifacts)
    assert client.get_experiment(local.env.registry.experiment_id("runs")).artifact_location.startswith(
        artifacts
    )
