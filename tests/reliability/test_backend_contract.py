"""The contract every state backend meets, through its interfaces only (StateStore and Lock
from mlops_decl.state.store, opened by open_backend from mlops.yaml's `backend:` settings).

A new backend (s3 with a DynamoDB or conditional-write lock) joins by adding a BackendCase to
BACKENDS: the same tests then run against it, in separate processes as real users would.
`lock_dies_with_holder` is the one allowed difference: a local flock dies with its process;
a remote lock record outlives a killed holder (as Terraform's DynamoDB lock does) and is
cleared with force-unlock, which every backend must support.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mlops_decl.state import LockHeld, LockInfo, ResourceState, StateError, open_backend

WORKER = Path(__file__).resolve().parents[1] / "stress" / "backend_worker.py"


@dataclass
class BackendCase:
    name: str
    settings: Callable[[Path], dict[str, Any]]  # the `backend:` mapping for a project at root
    lock_dies_with_holder: bool
    env: dict[str, str] = field(default_factory=dict)  # e.g. a moto server's endpoint for s3


BACKENDS = [
    BackendCase("local", lambda root: {"type": "local"}, lock_dies_with_holder=True),
    BackendCase("local-custom-path", lambda root: {"type": "local", "path": "state/prod.json"}, True),
]


@pytest.fixture(params=BACKENDS, ids=lambda c: c.name)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[BackendCase, Path, str]]:
    case: BackendCase = request.param
    yield case, tmp_path, json.dumps(case.settings(tmp_path))


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.communicate()


def _spawn(procs: list, case: BackendCase, *args: str) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **case.env},
    )
    procs.append(p)
    return p


def _hold(
    procs: list, case: BackendCase, root: Path, settings: str, host: str | None = None
) -> tuple[Any, str]:
    p = _spawn(procs, case, "hold", str(root), settings, *([host] if host else []))
    line = p.stdout.readline()
    assert line.startswith("held "), p.stderr.read()
    return p, line.split()[1]


def test_exactly_one_of_two_racing_writers_gets_the_lock(backend, procs) -> None:
    case, root, settings = backend
    for _ in range(5):
        start = f"{time.time() + 1.0:.6f}"
        a = _spawn(procs, case, "race", str(root), settings, start)
        b = _spawn(procs, case, "race", str(root), settings, start)
        lines = {p.pid: p.stdout.readline().split() for p in (a, b)}
        won = [pid for pid, line in lines.items() if line[0] == "won"]
        refused = [line for line in lines.values() if line[0] == "refused"]
        assert len(won) == 1 and len(refused) == 1, lines
        assert int(refused[0][1]) == won[0]  # the refusal names the holder
        for p in (a, b):
            p.communicate("")
        assert all(p.returncode == 0 for p in (a, b))


def test_no_write_is_lost_between_locked_writers(backend, procs) -> None:
    case, root, settings = backend
    writers, k = 4, 15
    ps = [_spawn(procs, case, "writer", str(root), settings, f"w{i}", str(k)) for i in range(writers)]
    for p in ps:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "done", err
    store, _ = open_backend(root, json.loads(settings))
    st = store.read()
    assert st.resources["dataset.counter"].attributes["n"] == writers * k  # every increment kept
    for i in range(writers):
        assert st.resources[f"dataset.w{i}"].attributes["writes"] == k
    assert st.serial == 2 * writers * k  # two puts per turn, each one write


def test_a_killed_holders_lock(backend, procs) -> None:
    case, root, settings = backend
    p, lock_id = _hold(procs, case, root, settings)
    p.send_signal(signal.SIGKILL)
    p.wait()
    _, lock = open_backend(root, json.loads(settings))
    info = LockInfo.new("apply", "t")
    if case.lock_dies_with_holder:
        lock.acquire(info)  # taken over: nobody holds it any more
        lock.release()
    else:
        with pytest.raises(LockHeld):
            lock.acquire(info)
        lock.force_unlock(lock_id)
        lock.acquire(info)
        lock.release()


def test_force_unlock_clears_a_lock_left_on_another_machine(backend, procs) -> None:
    case, root, settings = backend
    p, lock_id = _hold(procs, case, root, settings, host="build-agent-7")
    p.send_signal(signal.SIGKILL)
    p.wait()
    _, lock = open_backend(root, json.loads(settings))
    with pytest.raises(LockHeld) as held:
        lock.acquire(LockInfo.new("apply", "t"))  # another machine's holder cannot be judged dead
    assert held.value.holder.id == lock_id and held.value.holder.who == "ci@build-agent-7"
    assert "force-unlock" in str(held.value)
    with pytest.raises(StateError, match="does not match"):
        lock.force_unlock("not-the-id")
    lock.force_unlock(lock_id)
    lock.acquire(LockInfo.new("apply", "t"))
    lock.release()
    with pytest.raises(StateError):
        lock.force_unlock(lock_id)  # nothing left to unlock


def test_the_store_is_one_document_across_instances(backend) -> None:
    """Writers take turns (the lock) and read() at the start of each turn, as every command
    does after acquiring the lock: a store may serve writes from what it last read."""
    case, root, settings = backend
    one, _ = open_backend(root, json.loads(settings))
    two, _ = open_backend(root, json.loads(settings))
    assert one.read().serial == 0 and one.read().resources == {}
    s1 = one.put_resource(ResourceState("dataset.a", "dataset", "local", "a", {"x": 1}, []))
    assert two.read().resources["dataset.a"].attributes == {"x": 1}
    s2 = two.put_resource(ResourceState("dataset.b", "dataset", "local", "b", {"x": 2}, ["dataset.a"]))
    assert s2 == s1 + 1
    assert two.remove_resource("dataset.zzz") == s2  # nothing to forget: no write
    assert one.read().serial == s2
    s3 = one.set_outputs({"o": {"value": 1, "sensitive": False}})
    one.compact()
    st = two.read()
    assert st.serial == s3 == s2 + 1 and sorted(st.resources) == ["dataset.a", "dataset.b"]
    assert st.lineage == one.read().lineage
    # a whole-state replace bumps the serial past both, so saved plans go stale
    st.resources.pop("dataset.a")
    one.read()
    one.write(st)
    again = two.read()
    assert again.serial == s3 + 1 and sorted(again.resources) == ["dataset.b"]
