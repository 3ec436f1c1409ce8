"""Feature data on the local provider: materialisation (offline + online), online lookups, and
point-in-time correct training sets that never see a feature value from after the label."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from mlops_decl.actions.results import Materialized, OnlineRow
from mlops_decl.provider import ProviderError, RuntimeContext
from mlops_decl.providers.local.actions.features import materialize, online
from mlops_decl.providers.local.stores.feature_data import online_table, training_set

FEATURES = [{"name": "spend", "dtype": "float"}, {"name": "plan", "dtype": "string"}]


def rt(project: Path, messages: list[str] | None = None) -> RuntimeContext:
    sink = messages if messages is not None else []
    return RuntimeContext(project, "confighash", "abc123", "tester", emit=sink.append)


def apply(local, spec, kind: str, name: str, **fields):  # type: ignore[no-untyped-def]
    """Create through the handler, as `apply` does; the attributes state would record."""
    return local.handler(kind).create(spec(kind, name, **fields))[1]


@pytest.fixture
def events(local, project, spec, write_csv):  # type: ignore[no-untyped-def]
    """Customer 1 has three rows, the latest by time in the middle of the file; customer 2 has
    two rows at the same time (the later in the file wins); customer 3 one row."""
    write_csv(
        project / "events.csv",
        ["customer_id", "ts", "spend", "plan", "extra"],
        [
            [1, "2026-01-01T00:00:00", 10.0, "basic", "x"],
            [1, "2026-03-01T00:00:00", 30.0, "pro", "x"],
            [2, "2026-02-01T00:00:00", 5.0, "basic", "x"],
            [1, "2026-02-01T00:00:00", 20.0, "plus", "x"],
            [2, "2026-02-01T00:00:00", 6.0, "plus", "x"],
            [3, "2026-01-15T00:00:00", 7.5, "basic", "x"],
        ],
    )
    apply(local, spec, "dataset", "events", uri="events.csv")
    return apply(
        local,
        spec,
        "feature_group",
        "fg",
        source="events",
        entity=["customer_id"],
        event_time="ts",
        features=FEATURES,
        online=True,
    )


def test_apply_materialises_offline_and_latest_online(local, project, spec, events):
    env = local.env
    # create materialised already: the online lookup answers without an explicit call
    row = online(env, "fg", events, rt(project), entity="1")
    assert row == OnlineRow(
        entity={"customer_id": 1}, features={"spend": 30.0, "plan": "pro"}, event_time="2026-03-01T00:00:00"
    )
    assert online(env, "fg", events, rt(project), entity=" 2 ").features == {"spend": 6.0, "plan": "plus"}

    messages: list[str] = []
    result = materialize(env, "fg", events, rt(project, messages))
    assert result == Materialized(offline_rows=6, online_rows=3, source_version=events["source_version"])
    assert messages == ["materialised feature_group.fg: 6 rows offline, 3 online"]

    local.close()  # release the store so the test can read it
    con = duckdb.connect(str(project / ".mlops" / "local" / "features.duckdb"), read_only=True)
    try:
        cols = con.execute("SELECT * FROM fg LIMIT 0").description
        assert [c[0] for c in cols] == ["customer_id", "ts", "spend", "plan"]  # no `extra`
        assert con.execute("SELECT count(*) FROM fg__online").fetchone() == (3,)
    finally:
        con.close()


def test_missing_key_names_the_key_and_the_group(local, project, events):
    with pytest.raises(ProviderError) as err:
        online(local.env, "fg", events, rt(project), entity="42")
    assert str(err.value) == "no online row for customer_id=42 in feature_group.fg"
    assert "latest row per entity" in err.value.hint  # type: ignore[attr-defined]


def test_update_rematerialises_and_delete_drops_both_tables(local, project, spec, events, write_csv):
    write_csv(
        project / "events.csv",
        ["customer_id", "ts", "spend", "plan", "extra"],
        [[9, "2026-05-01", 1.0, "basic", "x"]],
    )
    ds = local.handler("dataset")
    ds.update("events", {}, spec("dataset", "events", uri="events.csv"))
    h = local.handler("feature_group")
    desired = spec(
        "feature_group",
        "fg",
        source="events",
        entity=["customer_id"],
        event_time="ts",
        features=FEATURES,
        online=True,
    )
    attrs = h.update("fg", events, desired)
    assert attrs["source_version"] != events["source_version"]
    assert online(local.env, "fg", attrs, rt(project), entity="9").features["spend"] == 1.0
    with pytest.raises(ProviderError, match="customer_id=1 "):
        online(local.env, "fg", attrs, rt(project), entity="1")

    h.delete("fg", attrs)
    assert not local.env.store.has_table("fg") and not local.env.store.has_table(online_table("fg"))


def test_online_false_keeps_no_online_store(local, project, spec, events):
    attrs = local.handler("feature_group").update(
        "fg",
        events,
        spec(
            "feature_group",
            "fg",
            source="events",
            entity=["customer_id"],
            event_time="ts",
            features=FEATURES,
            online=False,
        ),
    )
    assert not local.env.store.has_table(online_table("fg"))
    with pytest.raises(ProviderError, match="no online store") as err:
        online(local.env, "fg", attrs, rt(project), entity="1")
    assert "online: true" in err.value.hint  # type: ignore[attr-defined]


def test_composite_string_keys(local, project, spec, write_csv):
    write_csv(
        project / "s.csv",
        ["store", "sku", "ts", "price"],
        [
            ["north", "A-1", "2026-01-01", 2.5],
            ["north", "A-1", "2026-01-02", 3.0],
            ["south", "A-1", "2026-01-01", 9.0],
        ],
    )
    apply(local, spec, "dataset", "s", uri="s.csv")
    attrs = apply(
        local,
        spec,
        "feature_group",
        "prices",
        source="s",
        entity=["store", "sku"],
        event_time="ts",
        features=[{"name": "price", "dtype": "float"}],
        online=True,
    )
    row = online(local.env, "prices", attrs, rt(project), entity="north, A-1")
    assert row.entity == {"store": "north", "sku": "A-1"} and row.features == {"price": 3.0}
    with pytest.raises(ProviderError, match="2 entity columns"):
        online(local.env, "prices", attrs, rt(project), entity="north")


# -- point-in-time training sets ----------------------------------------------------------


@pytest.fixture
def leaky(local, project, spec, write_csv):  # type: ignore[no-untyped-def]
    """Labels on day 10 of each month. Feature rows on day 1 (spend 10 + month) and on day 20,
    after the label, with the tell-tale spend 999. Customer 5's first feature row is on the
    label's exact time (it counts: known at that moment). Customer 6 has a label before any
    feature row."""
    labels, feats = [], []
    for c in range(1, 5):
        for month in (1, 2, 3):
            labels.append([c, f"2026-0{month}-10T00:00:00", c % 2])
            feats.append([c, f"2026-0{month}-01T00:00:00", 10.0 + month, "basic"])
            feats.append([c, f"2026-0{month}-20T00:00:00", 999.0, "pro"])
    labels.append([5, "2026-01-10T00:00:00", 1])
    feats.append([5, "2026-01-10T00:00:00", 55.0, "plus"])
    labels.append([6, "2026-01-10T00:00:00", 0])
    feats.append([6, "2026-02-01T00:00:00", 999.0, "pro"])
    write_csv(project / "labels.csv", ["customer_id", "ts", "churned"], labels)
    write_csv(project / "feats.csv", ["customer_id", "ts", "spend", "plan"], feats)
    apply(local, spec, "dataset", "labels", uri="labels.csv")
    apply(local, spec, "dataset", "feats", uri="feats.csv")
    fg = apply(
        local,
        spec,
        "feature_group",
        "activity",
        source="feats",
        entity=["customer_id"],
        event_time="ts",
        features=FEATURES,
        online=True,
    )
    pipeline = spec(
        "training_pipeline",
        "train",
        inputs=["activity"],
        labels="labels",
        label="churned",
        estimator="sklearn.linear_model.LogisticRegression",
        registers="m",
    )
    return fg, pipeline


def test_point_in_time_join_never_sees_a_later_value(local, project, leaky):
    fg, pipeline = leaky
    frame, features = training_set(local.env, pipeline)
    assert features == ["spend", "plan"]
    assert len(frame) == 14
    assert not (frame["spend"] == 999.0).any(), "a feature value from after the label's time leaked in"
    assert not (frame["plan"] == "pro").any()
    three = frame[frame["customer_id"] == 3]
    assert dict(zip(three["ts"].dt.month, three["spend"], strict=True)) == {1: 11.0, 2: 12.0, 3: 13.0}
    assert frame.loc[frame["customer_id"] == 5, "spend"].tolist() == [55.0]  # at the label's time: in
    assert frame.loc[frame["customer_id"] == 6, "spend"].isna().all()  # nothing known yet: missing

    # The test can fail: a naive join on the latest value per customer (what the online store
    # serves) would have put 999 into every one of these rows.
    latest = {
        c: online(local.env, "activity", fg, rt(project), entity=str(c)).features["spend"]
        for c in range(1, 5)
    }
    naive = frame[frame["customer_id"] <= 4]["customer_id"].map(latest)
    assert (naive == 999.0).all()


def test_spine_defaults_to_the_first_inputs_source(local, project, spec, events):
    pipeline = spec("training_pipeline", "t", inputs=["fg"], label="churned", estimator="x.Y", registers="m")
    with pytest.raises(ProviderError, match="has no label column churned"):
        training_set(local.env, pipeline)
    frame, features = training_set(local.env, dict(pipeline, label="extra"))
    # each source row joins its own feature row (same entity, same time); customer 2's two rows
    # share a time, so both see the later one in the file
    assert len(frame) == 6 and features == ["spend", "plan"]
    assert sorted(frame["spend"].tolist()) == [6.0, 6.0, 7.5, 10.0, 20.0, 30.0]


def test_two_inputs_each_as_of_the_label_and_key_types_normalised(local, project, spec, write_csv, leaky):
    _, pipeline = leaky
    # customer ids as text with a gap, so pandas reads them as floats: 1.0 must still be key 1
    write_csv(
        project / "tickets.csv",
        ["customer_id", "at", "open_tickets"],
        [[1, "2026-01-05", 2], ["", "2026-01-05", 9], [1, "2026-02-15", 4], [2, "2026-03-09", 1]],
    )
    apply(local, spec, "dataset", "tickets", uri="tickets.csv")
    apply(
        local,
        spec,
        "feature_group",
        "support",
        source="tickets",
        entity=["customer_id"],
        event_time="at",
        features=[{"name": "open_tickets", "dtype": "int"}],
    )
    frame, features = training_set(local.env, dict(pipeline, inputs=["activity", "support"]))
    assert features == ["spend", "plan", "open_tickets"]
    one = frame[frame["customer_id"] == 1].sort_values("ts")["open_tickets"].tolist()
    assert one == [2, 2, 4]  # Jan 10 sees Jan 5; Feb 10 still Jan 5; Mar 10 sees Feb 15
    two = frame[frame["customer_id"] == 2].sort_values("ts")["open_tickets"]
    assert two.isna().tolist() == [True, True, False]

    with pytest.raises(ProviderError, match="spend, plan of feature_group.activity are in another input"):
        training_set(local.env, dict(pipeline, inputs=["activity", "activity"]))


def test_missing_label_column_is_a_clear_error(local, project, leaky):
    _, pipeline = leaky
    with pytest.raises(ProviderError) as err:
        training_set(local.env, dict(pipeline, label="cancelled"))
    assert str(err.value) == "the label spine, dataset `labels`, has no label column cancelled"
    assert "customer_id, ts, churned" in err.value.hint  # type: ignore[attr-defined]
