"""The inspector's facts cache kept in the catalog: an unchanged data file is not read again by
a later run; a changed one always is; facts about a file still in its timestamp tick are never
kept; and a plan of a project that was never applied creates nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mlops_decl.providers.local.stores import files


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the inspector actually opens and hashes."""
    seen: list[Path] = []
    real = files._inspect_csv

    def counting(path: Path) -> tuple[str, int, list[str]]:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(files, "_inspect_csv", counting)
    return seen


def _age(path: Path, seconds: float = 5.0) -> None:
    """Move a file's mtime into the past; its ctime (now) must also be old enough, so wait."""
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_a_later_run_does_not_read_an_unchanged_file(project, spec, write_csv, reads, make_provider):
    path = write_csv(project / "d.csv", ["a", "b"], [[1, 2], [3, 4]])
    _age(path)
    time.sleep(0.15)  # past the racy window of the ctime utime() just set
    desired = spec("dataset", "d", uri="d.csv")

    first = make_provider(project)
    id, attrs = first.handler("dataset").create(desired)
    first.close()
    assert reads == [path]

    second = make_provider(project)  # a new process: an empty memory cache
    planned = second.handler("dataset").plan(desired, attrs)
    second.close()
    assert planned["version"] == attrs["version"] and planned["rows"] == 2
    assert reads == [path], "the second run hashed the file again"


def test_a_changed_file_is_read_again_even_with_the_same_size(project, spec, write_csv, reads, make_provider):
    path = write_csv(project / "d.csv", ["a", "b"], [[1, 2]])
    _age(path)
    time.sleep(0.15)
    desired = spec("dataset", "d", uri="d.csv")
    first = make_provider(project)
    _, attrs = first.handler("dataset").create(desired)
    first.close()

    size = path.stat().st_size
    write_csv(path, ["a", "b"], [[7, 9]])
    assert path.stat().st_size == size
    later = make_provider(project)
    planned = later.handler("dataset").plan(desired, attrs)
    later.close()
    assert planned["version"] != attrs["version"]
    assert len(reads) == 2


def test_facts_of_a_file_in_its_timestamp_tick_are_not_kept(project, spec, write_csv, reads, make_provider):
    write_csv(project / "d.csv", ["a"], [[1]])  # just written: racy
    desired = spec("dataset", "d", uri="d.csv")
    provider = make_provider(project)
    provider.handler("dataset").create(desired)
    assert provider.env.catalog.file_facts() == []
    provider.close()

    again = make_provider(project)
    again.handler("dataset").plan(desired, None)
    again.close()
    assert len(reads) == 2


def test_plan_of_a_new_project_creates_no_catalog(project, spec, write_csv, reads, make_provider):
    path = write_csv(project / "d.csv", ["a"], [[1]])
    _age(path)
    time.sleep(0.15)
    provider = make_provider(project)
    provider.handler("dataset").plan(spec("dataset", "d", uri="d.csv"), None)
    provider.close()
    assert not (project / ".mlops" / "local" / "catalog.db").exists()


def test_racy_window_depends_on_timestamp_precision() -> None:
    now = time.time_ns()

    def st(ns: int) -> os.stat_result:
        sec = ns // 10**9
        return os.stat_result(
            (0o100644, 1, 1, 1, 0, 0, 10, sec, sec, sec, ns / 1e9, ns / 1e9, ns / 1e9, ns, ns, ns)
        )

    fine = now - 500_000_000 + 123  # nanosecond timestamps, half a second old
    assert not files._racy(now, st(fine))
    assert files._racy(now, st(now - 50_000_000 + 7))  # 50 ms old: within the tick
    coarse = (now // 10**9 - 1) * 10**9  # whole seconds: a coarse file system, up to 2 s racy
    assert files._racy(now, st(coarse))
    assert not files._racy(now, st(coarse - 3 * 10**9))
