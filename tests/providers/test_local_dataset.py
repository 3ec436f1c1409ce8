"""dataset on the local provider: file facts, version diffs, bad files, out-of-band deletes."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from mlops_decl.provider import ConfigError


def test_lifecycle(local, project, spec, write_csv):
    write_csv(
        project / "data" / "tx.csv",
        ["customer_id", "ts", "spend"],
        [[1, "2024-01-01", 3.5], [2, "2024-01-02", 4]],
    )
    h = local.handler("dataset")
    desired = spec("dataset", "tx", uri="data/tx.csv", description="transactions")

    planned = h.plan(desired, None)
    assert planned["id"] == "tx" and "_name" not in planned
    assert planned["rows"] == 2 and planned["columns"] == ["customer_id", "ts", "spend"]
    full = hashlib.sha256((project / "data" / "tx.csv").read_bytes()).hexdigest()
    assert planned["version"] == full[:16]
    assert "path" not in planned  # recorded at apply, never diffed
    assert planned["format"] is None  # stays as configured, so it never diffs

    id, attrs = h.create(desired)
    assert id == "tx"
    assert attrs == {**planned, "path": "data/tx.csv"}  # project-relative: the project can move
    assert h.read(id, attrs) == attrs

    changed = dict(desired, description="all transactions", tags={"team": "growth"})
    updated = h.update(id, attrs, changed)
    assert updated["description"] == "all transactions" and updated["tags"] == {"team": "growth"}
    assert h.read(id, attrs) == updated

    h.delete(id, updated)
    assert h.read(id, updated) is None
    h.delete(id, updated)  # missing is fine


def test_changed_file_is_a_diff_on_the_next_plan(local, project, spec, write_csv):
    path = write_csv(project / "d.csv", ["a", "b"], [[1, 2]])
    h = local.handler("dataset")
    desired = spec("dataset", "d", uri="d.csv")
    id, attrs = h.create(desired)
    assert h.plan(desired, attrs)["version"] == attrs["version"]

    write_csv(path, ["a", "b"], [[1, 2], [3, 4]])
    # A rewrite within the same second must be seen too (no stale cache on racy files).
    planned = h.plan(desired, attrs)
    assert planned["version"] != attrs["version"] and planned["rows"] == 2
    assert h.read(id, attrs)["version"] == attrs["version"]  # read = what was recorded

    updated = h.update(id, attrs, desired)
    assert h.read(id, updated)["version"] == planned["version"]


def test_same_size_rewrite_with_old_mtime_is_seen(local, project, spec, write_csv):
    """The facts cache keys on ctime too, so restoring an old mtime does not hide a change."""
    path = write_csv(project / "d.csv", ["a"], [[1]])
    old = time.time() - 3600
    os.utime(path, (old, old))
    h = local.handler("dataset")
    desired = spec("dataset", "d", uri="d.csv")
    first = h.plan(desired, None)["version"]
    path.write_text("a\n2\n")
    os.utime(path, (old, old))
    assert h.plan(desired, None)["version"] != first


def test_formats_and_uris(local, project, spec, write_csv):
    import pandas as pd

    write_csv(project / "x.csv", ["a"], [[1]])
    pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).to_parquet(project / "p.parquet")
    (project / "noext").write_bytes((project / "x.csv").read_bytes())
    h = local.handler("dataset")

    p = h.plan(spec("dataset", "p", uri="p.parquet"), None)
    assert (p["rows"], p["columns"]) == (3, ["a", "b"])
    assert h.plan(spec("dataset", "f", uri=(project / "x.csv").as_uri()), None)["rows"] == 1
    assert h.plan(spec("dataset", "abs", uri=str(project / "x.csv")), None)["rows"] == 1
    assert h.plan(spec("dataset", "n", uri="noext", format="csv"), None)["rows"] == 1

    with pytest.raises(ConfigError) as err:
        h.plan(spec("dataset", "n", uri="noext"), None)
    assert err.value.field == ("format",) and err.value.hint


@pytest.mark.parametrize(
    ("content", "uri", "fmt", "words"),
    [
        (None, "missing.csv", None, "no such file"),
        (b"", "empty.csv", None, "empty"),
        (b"a,b\n1,2,3\n", "ragged.csv", None, "line 2 has 3 fields"),
        (b"a,b\n\xff\xfe\x00\x01\n", "binary.csv", None, "UTF-8"),
        (b"a,b\n1,2\n", "notparquet.parquet", None, "parquet"),
        (None, "s3://bucket/x.csv", None, "local files only"),
    ],
)
def test_unreadable_file_is_a_config_error_on_uri(local, project, spec, content, uri, fmt, words):
    if content is not None:
        (project / uri).write_bytes(content)
    h = local.handler("dataset")
    desired = spec("dataset", "bad", uri=uri, format=fmt)
    with pytest.raises(ConfigError) as err:
        h.plan(desired, None)
    assert err.value.field == ("uri",)
    assert words in str(err.value) and err.value.hint
    if "://" not in uri:
        assert str(project / uri) in str(err.value)
    with pytest.raises(ConfigError):
        h.create(desired)


def test_out_of_band_catalog_delete_makes_it_gone(local, project, spec, write_csv):
    write_csv(project / "d.csv", ["a"], [[1]])
    h = local.handler("dataset")
    id, attrs = h.create(spec("dataset", "d", uri="d.csv"))
    import sqlite3

    with sqlite3.connect(project / ".mlops" / "local" / "catalog.db") as conn:
        conn.execute("DELETE FROM objects WHERE kind = 'dataset' AND id = 'd'")
    assert h.read(id, attrs) is None


def test_fifty_creates_from_eight_threads(local, project, spec, write_csv):
    for i in range(50):
        write_csv(project / "data" / f"f{i}.csv", ["k", "v"], [[i, i * 2]] * (i + 1))
    h = local.handler("dataset")
    assert local.handler("dataset") is h  # shared
    errors: list[BaseException] = []
    work = list(range(50))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not work:
                    return
                i = work.pop()
            try:
                desired = spec("dataset", f"f{i}", uri=f"data/f{i}.csv")
                id, attrs = h.create(h.plan(desired, None) | {"_name": f"f{i}"})
                assert attrs["rows"] == i + 1
            except BaseException as exc:  # noqa: BLE001 - surfaced below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert local.env.catalog.ids("dataset") == sorted(f"f{i}" for i in range(50))
    for i in range(50):
        assert h.read(f"f{i}", {})["rows"] == i + 1


def test_create_adopts_an_existing_row(local, project, spec, write_csv):
    """A crash between create and the state write must not wedge the next apply."""
    write_csv(project / "d.csv", ["a"], [[1]])
    h = local.handler("dataset")
    h.create(spec("dataset", "d", uri="d.csv"))
    id, attrs = h.create(spec("dataset", "d", uri="d.csv", description="again"))
    assert h.read(id, {})["description"] == "again"


def test_unknown_local_field(local, project, spec, write_csv):
    write_csv(project / "d.csv", ["a"], [[1]])
    with pytest.raises(ConfigError) as err:
        local.handler("dataset").plan(spec("dataset", "d", uri="d.csv", local={"cache": True}), None)
    assert err.value.field == ("local", "cache")


@pytest.mark.parametrize("target", [1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 5])
def test_small_and_streamed_files_give_the_same_facts(local, project, spec, target):
    """Files up to 1 MiB are read in one go, bigger ones streamed: both hash every byte and
    count every row, also at the boundary."""
    header, row = b"a,b\n", b"12,34\n"
    n = (target - len(header)) // len(row)
    data = header + row * n
    data = data[: -len(row)] + b"7" * (target - len(data)) + row  # widen the last row to fit
    path = project / "big.csv"
    path.write_bytes(data)
    planned = local.handler("dataset").plan(spec("dataset", "big", uri="big.csv"), None)
    assert len(data) == target
    assert planned["version"] == hashlib.sha256(data).hexdigest()[:16]
    assert planned["rows"] == n and planned["columns"] == ["a", "b"]
