"""feature_group on the local provider: column checks against the source, the DuckDB table."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from mlops_decl.provider import ConfigError

FEATURES = [
    {"name": "tenure_months", "dtype": "int"},
    {"name": "monthly_spend", "dtype": "float"},
    {"name": "plan", "dtype": "string"},
]


@pytest.fixture
def source(local, project, spec, write_csv):
    write_csv(
        project / "tx.csv",
        ["customer_id", "ts", "tenure_months", "monthly_spend", "plan", "churned"],
        [[1, "2024-01-01", 3, 9.5, "basic", 0]],
    )
    return local.handler("dataset").create(spec("dataset", "tx", uri="tx.csv"))


def table(project, name):
    con = duckdb.connect(str(project / ".mlops" / "local" / "features.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [name],
        ).fetchall()
    finally:
        con.close()


def test_lifecycle(local, project, spec, source):
    h = local.handler("feature_group")
    assert h.force_new == {"source", "entity"}
    desired = spec(
        "feature_group", "cf", source="tx", entity=["customer_id"], event_time="ts", features=FEATURES
    )
    planned = h.plan(desired, None)
    assert planned["id"] == "cf"
    assert planned["source_version"] == source[1]["version"]
    assert planned["store"].endswith("features.duckdb#cf")

    id, attrs = h.create(desired)
    assert id == "cf" and attrs == planned
    assert h.read(id, attrs) == attrs

    updated = h.update(id, attrs, dict(desired, features=FEATURES[:2], online=True))
    assert updated["online"] is True and len(updated["features"]) == 2
    assert h.read(id, attrs) == updated

    local.close()  # release the store so this test can open it
    assert table(project, "cf") == [  # materialised: entity keeps the data's type
        ("customer_id", "BIGINT"),
        ("ts", "TIMESTAMP"),
        ("tenure_months", "BIGINT"),
        ("monthly_spend", "DOUBLE"),
    ]
    h.delete(id, updated)
    assert h.read(id, updated) is None
    local.close()
    assert table(project, "cf") == []
    h.delete(id, updated)  # missing is fine


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"entity": ["client"]}, ("entity", 0)),
        ({"event_time": "when"}, ("event_time",)),
        ({"features": FEATURES + [{"name": "age", "dtype": "int"}]}, ("features", 3, "name")),
    ],
)
def test_name_not_in_source_is_a_config_error(local, spec, source, change, field):
    h = local.handler("feature_group")
    fields = {"source": "tx", "entity": ["customer_id"], "event_time": "ts", "features": FEATURES} | change
    desired = spec("feature_group", "cf", **fields)
    for call in (lambda: h.plan(desired, None), lambda: h.create(desired)):
        with pytest.raises(ConfigError) as err:
            call()
        assert err.value.field == field
        assert "customer_id, ts, tenure_months" in (err.value.hint or "")


def test_source_not_yet_in_catalog(local, spec):
    h = local.handler("feature_group")
    desired = spec(
        "feature_group", "cf", source="later", entity=["k"], features=[{"name": "x", "dtype": "int"}]
    )
    planned = h.plan(desired, None)  # the dataset is created in the same apply: no check yet
    assert "source_version" not in planned
    with pytest.raises(ConfigError) as err:
        h.create(desired)
    assert err.value.field == ("source",)


def test_changed_source_file_shows_on_plan(local, project, spec, source, write_csv):
    h = local.handler("feature_group")
    desired = spec("feature_group", "cf", source="tx", entity=["customer_id"], features=FEATURES[:1])
    _, attrs = h.create(desired)
    write_csv(project / "tx.csv", ["customer_id", "tenure_months"], [[1, 3], [2, 4]])
    assert h.plan(desired, attrs)["source_version"] != attrs["source_version"]


def test_out_of_band_deletes(local, project, spec, source):
    h = local.handler("feature_group")
    desired = spec("feature_group", "cf", source="tx", entity=["customer_id"], features=FEATURES)
    id, attrs = h.create(desired)
    with sqlite3.connect(project / ".mlops" / "local" / "catalog.db") as conn:
        conn.execute("DELETE FROM objects WHERE kind = 'feature_group'")
    assert h.read(id, attrs) is None

    id, attrs = h.create(desired)
    local.env.store.drop_table("cf")  # the table gone behind our back: gone too
    assert h.read(id, attrs) is None
    h.create(desired)
    assert h.read(id, attrs) is not None


def test_refresh_while_another_process_holds_the_store(local, project, spec, source):
    import subprocess
    import sys

    h = local.handler("feature_group")
    id, attrs = h.create(spec("feature_group", "cf", source="tx", entity=["customer_id"], features=FEATURES))
    local.close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(project / ".mlops" / "local" / "features.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert h.read(id, attrs) == attrs
    finally:
        holder.communicate("")
