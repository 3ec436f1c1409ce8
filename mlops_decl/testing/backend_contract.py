"""The contract every state backend meets, through its interfaces only (open_state_backend from
mlops.yaml's `backend:` settings; StateStore, Lock and the audit storage), with processes where
real users would have them. A backend's tests use it as

    from mlops_decl.testing.backend_contract import BackendCase, BackendContract

    class TestMyBackend(BackendContract):
        cases = [BackendCase("s3", lambda root: {"type": "s3", ...}, lock_dies_with_holder=False,
                             env={"AWS_ENDPOINT_URL": ...})]

`lock_dies_with_holder` is the one allowed difference: a local flock dies with its process; a
remote lock record outlives a killed holder (as Terraform's DynamoDB lock does) and is
cleared with force-unlock, which every backend supports.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mlops_decl.audit import AuditLog
from mlops_decl.state import (
    LockHeld,
    LockInfo,
    ResourceState,
    StateBackend,
    StateConflict,
    StateError,
    holding,
    open_state_backend,
)

__all__ = ["BackendCase", "BackendContract"]


@dataclass
class BackendCase:
    name: str
    settings: Callable[[Path], dict[str, Any]]  # the `backend:` mapping for a project at root
    lock_dies_with_holder: bool
    env: dict[str, str] = field(default_factory=dict)  # e.g. a test server's endpoint


@dataclass
class Setup:
    case: BackendCase
    root: Path
    settings: dict[str, Any]
    procs: list[subprocess.Popen[str]]

    def open(self) -> StateBackend:
        return open_state_backend(self.root, self.settings)

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        mode, rest = args[0], args[1:]
        p = subprocess.Popen(
            [sys.executable, "-m", "mlops_decl.testing.backend_worker", mode, str(self.root)]
            + [json.dumps(self.settings), *rest],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **self.case.env},
        )
        self.procs.append(p)
        return p

    def hold(self, host: str = "-", seconds: float = 3600, name: str | None = None) -> tuple[Any, str]:
        p = self.spawn("hold", host, str(seconds), *([name] if name else []))
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.startswith("held "), p.stderr.read() if p.stderr else line
        return p, line.split()[1]

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mlops_decl", *args],
            cwd=self.root,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **self.case.env, "NO_COLOR": "1"},
        )


def _rs(name: str, **attrs: object) -> ResourceState:
    return ResourceState(f"dataset.{name}", "dataset", "local", name, dict(attrs), [])


class BackendContract:
    """Subclass it (the name must start with `Test`) and set `cases`; each test runs per case."""

    cases: ClassVar[list[BackendCase]]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "case" in metafunc.fixturenames:
            metafunc.parametrize("case", self.cases, ids=[c.name for c in self.cases])

    @pytest.fixture
    def setup(self, case: BackendCase, tmp_path: Path) -> Iterator[Setup]:
        settings = case.settings(tmp_path)
        (tmp_path / "mlops.yaml").write_text(f"project: contract\nbackend: {json.dumps(settings)}\n")
        s = Setup(case, tmp_path, settings, [])
        yield s
        for p in s.procs:
            if p.poll() is None:
                p.kill()
            p.communicate()

    # -- locks ------------------------------------------------------------------------
    def test_exactly_one_of_two_racing_writers_gets_the_lock(self, setup: Setup) -> None:
        for _ in range(5):
            start = f"{time.time() + 1.0:.6f}"
            a, b = setup.spawn("race", start), setup.spawn("race", start)
            lines = {p.pid: p.stdout.readline().split() for p in (a, b) if p.stdout}
            won = [pid for pid, line in lines.items() if line[0] == "won"]
            refused = [line for line in lines.values() if line[0] == "refused"]
            assert len(won) == 1 and len(refused) == 1, lines
            assert int(refused[0][1]) == won[0]  # the refusal names the holder
            for p in (a, b):
                p.communicate("")
            assert all(p.returncode == 0 for p in (a, b))

    def test_a_killed_holders_lock(self, setup: Setup) -> None:
        p, lock_id = setup.hold()
        p.send_signal(signal.SIGKILL)
        p.wait()
        lock = setup.open().lock()
        info = LockInfo.new("apply", "t")
        if setup.case.lock_dies_with_holder:
            lock.acquire(info)  # taken over: nobody holds it any more
            lock.release()
        else:
            with pytest.raises(LockHeld):
                lock.acquire(info)
            lock.force_unlock(lock_id)
            lock.acquire(info)
            lock.release()

    def test_force_unlock_clears_a_lock_left_on_another_machine(self, setup: Setup) -> None:
        p, lock_id = setup.hold(host="build-agent-7")
        p.send_signal(signal.SIGKILL)
        p.wait()
        lock = setup.open().lock()
        with pytest.raises(LockHeld) as held:
            lock.acquire(LockInfo.new("apply", "t"))  # another machine's holder cannot be judged dead
        assert held.value.holder.id == lock_id and held.value.holder.who == "ci@build-agent-7"
        assert "force-unlock" in str(held.value)
        holder = lock.holder()
        assert holder is not None and holder.id == lock_id
        with pytest.raises(StateError, match="does not match"):
            lock.force_unlock("not-the-id")
        lock.force_unlock(lock_id)
        assert lock.holder() is None
        lock.acquire(LockInfo.new("apply", "t"))
        lock.release()
        with pytest.raises(StateError):
            lock.force_unlock(lock_id)  # nothing left to unlock

    def test_a_lock_wait_ends_when_the_holder_lets_go(self, setup: Setup) -> None:
        setup.hold(seconds=3)
        lock = setup.open().lock()
        holder = lock.holder()
        assert holder is not None and holder.operation == "apply"
        t0 = time.monotonic()
        with pytest.raises(LockHeld, match="waited 0.2s"):
            lock.acquire(LockInfo.new("apply", "t"), timeout=0.2)
        assert time.monotonic() - t0 >= 0.2
        with holding(lock, "apply", timeout=60) as info:
            assert lock.holder() == info
        assert lock.holder() is None

    def test_named_locks_are_separate_from_the_state_lock_and_each_other(self, setup: Setup) -> None:
        setup.hold(name="promotion/model.churn")
        backend = setup.open()
        with pytest.raises(LockHeld):
            backend.lock("promotion/model.churn").acquire(LockInfo.new("promote", "t"))
        with holding(backend.lock(), "apply"), holding(backend.lock("promotion/model.other"), "promote"):
            pass

    # -- writes -----------------------------------------------------------------------
    def test_no_write_is_lost_between_locked_writers(self, setup: Setup) -> None:
        writers, k = 4, 15
        ps = [setup.spawn("writer", f"w{i}", str(k)) for i in range(writers)]
        for p in ps:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0 and out.strip() == "done", err
        st = setup.open().store.read()
        assert st.resources["dataset.counter"].attributes["n"] == writers * k  # every increment kept
        for i in range(writers):
            assert st.resources[f"dataset.w{i}"].attributes["writes"] == k
        assert st.serial == 2 * writers * k  # two puts per turn, each one write

    def test_the_store_is_one_document_across_instances(self, setup: Setup) -> None:
        """Writers take turns (the lock) and read() at the start of each turn, as every command
        does after acquiring the lock: a store may serve writes from what it last read."""
        one, two = setup.open().store, setup.open().store
        assert one.read().serial == 0 and one.read().resources == {}
        s1 = one.put_resource(_rs("a", x=1))
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

    def test_a_force_unlocked_writers_next_write_is_refused(self, setup: Setup) -> None:
        a, b = setup.open(), setup.open()
        mine = LockInfo.new("apply", "a")
        a.lock().acquire(mine)
        a.store.read()
        a.store.put_resource(_rs("x", n=1))
        b.lock().force_unlock(mine.id)  # someone decides a is stuck
        with holding(b.lock(), "apply"):
            b.store.read()
            b.store.put_resource(_rs("x", n=2))
            with pytest.raises(StateConflict) as refused:
                a.store.put_resource(_rs("x", n=3))
            assert "changed by another writer" in str(refused.value)
            with pytest.raises(StateConflict):
                a.store.compact()
            b.store.compact()
        st = setup.open().store.read()
        assert st.resources["dataset.x"].attributes == {"n": 2} and st.serial == 2

    def test_a_write_from_a_stale_read_is_refused(self, setup: Setup) -> None:
        a, b = setup.open().store, setup.open().store
        a.put_resource(_rs("x"))
        b.read()
        b.put_resource(_rs("y"))
        b.compact()
        with pytest.raises(StateConflict):
            a.put_resource(_rs("z"))
        with pytest.raises(StateConflict):
            a.remove_resource("dataset.x")
        assert sorted(b.read().resources) == ["dataset.x", "dataset.y"]

    @pytest.mark.parametrize("trial", range(4))
    def test_a_killed_compaction_loses_no_acknowledged_write(self, setup: Setup, trial: int) -> None:
        p = setup.spawn("puts")
        acks: list[tuple[int, int]] = []
        assert p.stdout is not None
        first = p.stdout.readline()
        assert first.startswith("ack "), p.stderr.read() if p.stderr else first

        def drain() -> None:
            assert p.stdout is not None
            acks.extend((int(w[1]), int(w[2])) for w in map(str.split, p.stdout) if w[0] == "ack")

        reader = threading.Thread(target=drain)
        reader.start()
        time.sleep(random.Random(trial).uniform(0.05, 0.4))
        p.send_signal(signal.SIGKILL)  # puts compact every third write: often mid-compaction
        p.wait()
        reader.join()
        serial, i = max(acks) if acks else tuple(map(int, first.split()[1:3]))
        store = setup.open().store
        st = store.read()
        assert serial <= st.serial <= serial + 1  # at most the put in flight is extra
        assert st.resources[f"dataset.d{i % 7}"].attributes["i"] >= i
        assert store.put_resource(_rs("after")) == st.serial + 1  # and it stays writable
        store.compact()
        assert "dataset.after" in setup.open().store.read().resources

    # -- state push -------------------------------------------------------------------
    def test_state_push(self, setup: Setup) -> None:
        store = setup.open().store
        store.put_resource(_rs("a"))
        store.put_resource(_rs("b"))
        store.compact()
        pulled = setup.cli("state", "pull")
        assert pulled.returncode == 0, pulled.stderr
        doc = json.loads(pulled.stdout)
        del doc["resources"]["dataset.b"]
        doc["serial"] += 1  # an edited state must say it is newer
        stale = setup.open().store
        stale.read()
        pushed = setup.cli("state", "push", "-", stdin=json.dumps(doc))
        assert pushed.returncode == 0 and "State pushed." in pushed.stdout, pushed.stderr
        st = setup.open().store.read()
        assert sorted(st.resources) == ["dataset.a"] and st.serial == doc["serial"] + 1
        assert st.lineage == doc["lineage"]
        with pytest.raises(StateConflict):
            stale.put_resource(_rs("c"))  # it read the state before the push
        # the file pulled earlier is now older than the state: refused, the state untouched
        again = setup.cli("state", "push", "-", stdin=json.dumps(doc))
        assert again.returncode == 1 and "newer than the file" in again.stderr
        assert "Traceback" not in again.stderr
        other = {**doc, "lineage": "another-state"}
        refused = setup.cli("state", "push", "-", stdin=json.dumps(other))
        assert refused.returncode == 1 and "different states" in refused.stderr
        assert setup.open().store.read().to_json() == st.to_json()
        forced = setup.cli("state", "push", "--force", "-", stdin=json.dumps(other))
        assert forced.returncode == 0, forced.stderr
        assert setup.open().store.read().lineage == "another-state"

    # -- audit ------------------------------------------------------------------------
    def test_audit_appends_from_two_processes_keep_one_chain(self, setup: Setup) -> None:
        ps = [setup.spawn("audit", f"w{i}", "20") for i in range(2)]
        for p in ps:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0 and out.strip() == "done", err
        log = AuditLog(setup.open().audit)
        assert log.verify() == (40, [])
        seen = sorted((e["data"]["writer"], e["data"]["i"]) for e in log.entries())
        assert seen == sorted((f"w{w}", i) for w in range(2) for i in range(20))

    def test_the_audit_anchor_is_kept_with_the_state(self, setup: Setup) -> None:
        """The anchor `audit verify` checks the log against lives in the state document, and an
        anchor-only write leaves the serial saved plans compare (content_serial) where it was."""
        backend = setup.open()
        log = AuditLog(backend.audit)
        before = backend.store.put_resource(_rs("a", x=1))
        entry = log.append("run", {"i": 1})
        anchor = {"entries": entry["seq"], "head": entry["hash"]}
        after = backend.store.record_audit(anchor)
        assert after == before + 1 and backend.store.record_audit(anchor) == after  # once only
        backend.store.compact()
        st = setup.open().store.read()
        assert (st.audit or {})["entries"] == 1 and (st.audit or {})["head"] == entry["hash"]
        assert st.serial == after and st.content_serial() == before
        assert setup.open().store.put_resource(_rs("b")) == after + 1
        assert setup.open().store.read().content_serial() == after + 1
