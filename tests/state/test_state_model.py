from __future__ import annotations

import uuid

import pytest

from mlops_decl.state import FORMAT_VERSION, ResourceState, State, StateError, check_push, upgrade


def _rs(name: str = "transactions", **attrs: object) -> ResourceState:
    return ResourceState(f"dataset.{name}", "dataset", "local", f"id-{name}", dict(attrs), ["feature_set.f"])


def test_new_state_has_fresh_lineage() -> None:
    a, b = State.new(), State.new()
    assert uuid.UUID(a.lineage).version == 4
    assert a.lineage != b.lineage
    assert (a.serial, a.format_version, a.resources, a.outputs) == (0, 1, {}, {})


def test_json_shape_is_exactly_design_section_4() -> None:
    st = State.new()
    st.serial = 7
    st.resources["dataset.transactions"] = _rs(uri="s3://b/t.parquet")
    st.outputs["api_url"] = {"value": "http://x", "sensitive": False}
    data = st.to_json()
    assert list(data) == ["format_version", "serial", "lineage", "resources", "outputs"]
    assert data["resources"] == {
        "dataset.transactions": {
            "kind": "dataset",
            "provider": "local",
            "id": "id-transactions",
            "attributes": {"uri": "s3://b/t.parquet"},
            "dependencies": ["feature_set.f"],
        }
    }
    assert data["outputs"] == {"api_url": {"value": "http://x", "sensitive": False}}
    assert State.from_json(data) == st


def test_sensitive_paths_round_trip_only_when_used() -> None:
    st = State.new()
    rs = _rs(password="p")
    rs.sensitive_paths = ["password"]
    st.resources[rs.address] = rs
    data = st.to_json()
    assert data["resources"]["dataset.transactions"]["sensitive_paths"] == ["password"]
    assert State.from_json(data).resources[rs.address].sensitive_paths == ["password"]


def test_newer_format_version_is_refused_clearly() -> None:
    data = State.new().to_json()
    data["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(StateError, match="newer mlops-decl"):
        State.from_json(data)
    with pytest.raises(StateError, match="format_version"):
        upgrade({"serial": 1})


@pytest.mark.parametrize(
    "patch, match",
    [
        ({"serial": -1}, "serial"),
        ({"lineage": ""}, "lineage"),
        ({"resources": []}, "resources"),
        ({"resources": {"dataset.a": {"kind": "dataset"}}}, "provider"),
        ({"resources": {"dataset.a": {"kind": "d", "provider": "p", "id": 3, "attributes": {}}}}, "id"),
        ({"outputs": {"o": 1}}, "output `o`"),
    ],
)
def test_malformed_state_raises_state_error(patch: dict[str, object], match: str) -> None:
    data = {**State.new().to_json(), **patch}
    with pytest.raises(StateError, match=match):
        State.from_json(data)


def _written(serial: int, lineage: str | None = None) -> State:
    st = State.new()
    st.lineage = lineage or st.lineage
    st.serial = serial
    st.resources["dataset.a"] = _rs("a")
    return st


def test_push_refuses_other_lineage_unless_forced() -> None:
    current, incoming = _written(3), _written(9)
    with pytest.raises(StateError, match="lineage"):
        check_push(current, incoming, force=False)
    check_push(current, incoming, force=True)


def test_push_refuses_lower_serial_unless_forced() -> None:
    current = _written(5)
    with pytest.raises(StateError, match="serial 5"):
        check_push(current, _written(4, current.lineage), force=False)
    check_push(current, _written(4, current.lineage), force=True)
    check_push(current, _written(6, current.lineage), force=False)


def test_push_same_serial_must_be_identical() -> None:
    current = _written(5)
    same = State.from_json(current.to_json())
    check_push(current, same, force=False)
    same.resources["dataset.a"].id = "changed"
    with pytest.raises(StateError, match="same serial"):
        check_push(current, same, force=False)


def test_push_into_a_never_written_state_is_allowed() -> None:
    check_push(State.new(), _written(2), force=False)
