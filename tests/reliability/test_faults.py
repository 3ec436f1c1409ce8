"""Provider faults (docs/reliability.md): transient errors retried with backoff and jitter up to a
limit; a permanent failure keeps independent branches and skips dependents; a hung call times
out with a clear message and the process still exits promptly; Ctrl-C lets running calls
finish, saves state and releases the lock."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from pathlib import Path

import networkx as nx
import pytest
from stress_common import catalog_rows, cli, popen_cli, read_state

from mlops_decl.provider import ProviderError
from mlops_decl.retry import MAX_ATTEMPTS, MAX_DELAY, CallTimeout, call_with_retry, call_with_timeout
from mlops_decl.walk import walk


def project(
    root: Path, names: list[str], deps: dict[str, list[str]] | None = None, faults: list[str] = ()
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    lines = ["project: t"]
    if faults:
        lines += ["providers:", "  local:", "    faults:"] + [f"      - {f}" for f in faults]
    lines += ["resources:", "  dataset:"]
    for n in names:
        (root / "data" / f"{n}.csv").write_text(f"id,value\n1,{n}\n")
        lines += [f"    {n}:", f"      uri: data/{n}.csv"]
        if (deps or {}).get(n):
            lines.append(f"      depends_on: [{', '.join('dataset.' + d for d in deps[n])}]")  # type: ignore[index]
    (root / "mlops.yaml").write_text("\n".join(lines) + "\n")
    return root


def lock_file(root: Path) -> Path:
    return root / ".mlops" / "state.lock.json"


def audit_entries(root: Path) -> list[dict]:
    path = root / ".mlops" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- retries --------------------------------------------------------------------------------


def test_backoff_is_exponential_with_full_jitter_up_to_a_limit() -> None:
    sleeps: list[float] = []
    calls = [0]

    def flaky() -> str:
        calls[0] += 1
        if calls[0] < 4:
            raise ProviderError("throttled", retryable=True)
        return "ok"

    assert call_with_retry(flaky, sleep=sleeps.append, rng=random.Random(1), base=0.2, timeout=None) == "ok"
    assert calls[0] == 4 and len(sleeps) == 3
    for attempt, delay in enumerate(sleeps, 1):
        assert 0 <= delay <= min(MAX_DELAY, 0.2 * 2 ** (attempt - 1))
    # full jitter: the delays spread over [0, cap], they are not the caps themselves
    spread = []
    for seed in range(200):
        got: list[float] = []
        calls[0] = 0
        call_with_retry(flaky, sleep=got.append, rng=random.Random(seed), base=1.0, timeout=None)
        spread.append(got[2])  # third wait: cap 4.0
    assert min(spread) < 1.0 and max(spread) > 3.0

    # the limit: MAX_ATTEMPTS calls in all, then the error
    calls[0] = -100
    sleeps.clear()
    with pytest.raises(ProviderError, match="throttled"):
        call_with_retry(flaky, sleep=sleeps.append, rng=random.Random(1), timeout=None)
    assert calls[0] == -100 + MAX_ATTEMPTS and len(sleeps) == MAX_ATTEMPTS - 1


def test_permanent_errors_and_timeouts_are_not_retried() -> None:
    calls = [0]

    def broken() -> None:
        calls[0] += 1
        raise ProviderError("no such bucket")

    with pytest.raises(ProviderError):
        call_with_retry(broken, sleep=lambda s: None, timeout=None)
    assert calls[0] == 1

    def hangs() -> None:
        calls[0] += 1
        time.sleep(5)

    calls[0] = 0
    t0 = time.perf_counter()
    with pytest.raises(CallTimeout, match=r"create timed out after 0.2s"):
        call_with_retry(hangs, sleep=lambda s: None, timeout=0.2, what="create")
    assert time.perf_counter() - t0 < 2 and calls[0] == 1


def test_call_with_timeout_passes_values_and_errors_through() -> None:
    assert call_with_timeout(lambda: 42, 5) == 42
    with pytest.raises(KeyError):
        call_with_timeout(lambda: {}["x"], 5)


def test_transient_faults_through_the_cli(tmp_path: Path) -> None:
    # two failures then success: retried, applied
    root = project(tmp_path / "ok", ["a"], faults=["{op: create, kind: dataset, mode: transient, times: 2}"])
    res = cli(root, "apply", "--auto-approve")
    assert res.rc == 0, res.err
    assert "1 added" in res.out
    # more failures than attempts: the limit is reached and the error named
    root = project(
        tmp_path / "bad", ["a"], faults=["{op: create, kind: dataset, mode: transient, times: 99}"]
    )
    res = cli(root, "apply", "--auto-approve")
    assert res.rc == 1 and "Traceback" not in res.err
    assert f"dataset.a: injected transient fault on create dataset.a ({MAX_ATTEMPTS}/99)" in res.err
    assert read_state(root).resources == {}


def test_bad_faults_are_one_error_at_their_line(tmp_path: Path) -> None:
    root = project(tmp_path, ["a"], faults=["{op: create, mode: sometimes}"])
    res = cli(root, "plan")
    assert res.rc == 1 and "Traceback" not in res.err
    assert "fault mode must be one of transient, permanent, hang" in res.err
    assert "mlops.yaml:5:" in res.err  # the fault's `mode`, under providers.local.faults[0]
    res = cli(project(tmp_path / "env", ["a"]), "plan", env={"MLOPS_LOCAL_FAULTS": "[{op"})
    assert res.rc == 1 and "MLOPS_LOCAL_FAULTS is not JSON" in res.err and "Traceback" not in res.err


# -- permanent failure ------------------------------------------------------------------------


def test_permanent_failure_keeps_independent_branches_and_skips_dependents(tmp_path: Path) -> None:
    # a -> b -> c, a -> d, b -> e, and x independent; b fails for good
    deps = {"b": ["a"], "c": ["b"], "d": ["a"], "e": ["b", "d"]}
    root = project(
        tmp_path, ["a", "b", "c", "d", "e", "x"], deps, faults=["{op: create, name: b, mode: permanent}"]
    )
    res = cli(root, "apply", "--auto-approve")
    assert res.rc == 1 and "Traceback" not in res.err
    assert "failed:    dataset.b" in res.err
    assert "dataset.c (needs dataset.b)" in res.err and "dataset.e (needs dataset.b)" in res.err
    assert sorted(read_state(root).resources) == ["dataset.a", "dataset.d", "dataset.x"]
    assert {i for _, i in catalog_rows(root)} == {"a", "d", "x"}  # nothing made that state lacks
    entry = audit_entries(root)[-1]
    assert entry["event"] == "apply" and entry["data"]["failed"] == ["dataset.b"]
    assert entry["data"]["skipped"] == ["dataset.c", "dataset.e"] and entry["data"]["ok"] is False
    assert not lock_file(root).exists()
    # the fault gone, the next apply does the rest and converges
    project(tmp_path, ["a", "b", "c", "d", "e", "x"], deps)
    assert cli(root, "apply", "--auto-approve").rc == 0
    assert cli(root, "plan", "--detailed-exitcode").rc == 0


# -- hung calls -------------------------------------------------------------------------------


def test_a_hung_create_times_out_and_the_process_exits_promptly(tmp_path: Path) -> None:
    root = project(
        tmp_path, ["a", "b", "c", "x"], {"b": ["a"], "c": ["b"]}, faults=["{op: create, name: b, mode: hang}"]
    )  # hangs for an hour
    res = cli(root, "apply", "--auto-approve", "--call-timeout", "1", timeout=60)
    assert res.rc == 1 and "Traceback" not in res.err
    assert res.seconds < 20, f"took {res.seconds:.1f}s: a hung call kept the process alive"
    assert "dataset.b: create timed out after 1s" in res.err
    assert "--call-timeout" in res.err  # the hint says how to change the limit
    assert "skipped:   dataset.c (needs dataset.b)" in res.err
    assert sorted(read_state(root).resources) == ["dataset.a", "dataset.x"]
    assert not lock_file(root).exists()


def test_a_create_that_hangs_after_making_the_object_is_adopted_next_time(tmp_path: Path) -> None:
    root = project(tmp_path, ["a", "b"], faults=["{op: create, name: b, mode: hang, after: true}"])
    log = tmp_path / "calls.log"
    env = {"MLOPS_LOCAL_FAULT_LOG": str(log)}
    res = cli(root, "apply", "--auto-approve", "--call-timeout", "1", env=env, timeout=60)
    assert res.rc == 1 and "dataset.b: create timed out after 1s" in res.err
    made = catalog_rows(root)[("dataset", "b")]  # the provider made it before the hang
    project(tmp_path, ["a", "b"])  # the fault gone
    assert cli(root, "apply", "--auto-approve", env=env).rc == 0
    assert cli(root, "plan", "--detailed-exitcode").rc == 0
    rows = catalog_rows(root)
    assert sorted(rows) == [("dataset", "a"), ("dataset", "b")] and rows[("dataset", "b")] == made
    # b was in state as `creating`: the second apply read it and finished it with an update
    calls = log.read_text().splitlines()
    assert calls.count("create dataset b") == 1 and calls.count("update dataset b") == 1


def test_a_hung_refresh_times_out_from_the_environment(tmp_path: Path) -> None:
    root = project(tmp_path, ["a"])
    assert cli(root, "apply", "--auto-approve").rc == 0
    res = cli(
        root,
        "plan",
        env={"MLOPS_CALL_TIMEOUT": "1", "MLOPS_LOCAL_FAULTS": '[{"op": "read", "mode": "hang"}]'},
        timeout=60,
    )
    assert res.rc == 1 and "Traceback" not in res.err and res.seconds < 20
    assert "dataset.a: the provider call timed out after 1s" in res.err
    assert not lock_file(root).exists()
    bad = cli(root, "plan", env={"MLOPS_CALL_TIMEOUT": "soon"})
    assert bad.rc == 1 and "MLOPS_CALL_TIMEOUT must be a number of seconds" in bad.err
    bad = cli(root, "apply", "--auto-approve", "--call-timeout", "-3")
    assert bad.rc == 2 and "--call-timeout" in bad.err and "Traceback" not in bad.err


# -- Ctrl-C -----------------------------------------------------------------------------------


def _wait_for(proc, pattern: str, count: int, lines: list[str], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    seen = 0
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if pattern in line:
            seen += 1
            if seen >= count:
                return
    raise AssertionError(f"never saw {count}x {pattern!r}:\n{''.join(lines)}")


def test_ctrl_c_lets_running_calls_finish_saves_state_and_unlocks(tmp_path: Path) -> None:
    names = [f"n{i}" for i in range(8)]
    root = project(tmp_path, names, faults=["{op: create, kind: dataset, mode: hang, seconds: 2}"])
    proc = popen_cli(root, "apply", "--auto-approve", "--parallelism", "3", env={"PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    try:
        _wait_for(proc, "Creating...", 3, lines)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(lines) + out
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert "Interrupt received" in err and "Apply interrupted" in err
    # the three running creates finished (they hang 2 s each, then succeed) and were saved
    assert out.count("Creation complete") == 3
    assert time.perf_counter() - t0 < 30
    state = read_state(root)  # parses
    assert len(state.resources) == 3
    assert {f"dataset.{i}" for _, i in catalog_rows(root)} == set(state.resources)
    assert "not started (interrupted): " in err
    not_started = err.split("not started (interrupted): ")[1].splitlines()[0].split(", ")
    assert sorted(not_started + list(state.resources)) == sorted(f"dataset.{n}" for n in names)
    assert not lock_file(root).exists()
    assert audit_entries(root)[-1]["data"]["interrupted"] == sorted(not_started)
    # and the next apply finishes the job
    project(tmp_path, names)
    assert cli(root, "apply", "--auto-approve").rc == 0
    assert cli(root, "plan", "--detailed-exitcode").rc == 0


def test_second_ctrl_c_stops_waiting_but_still_unlocks(tmp_path: Path) -> None:
    root = project(tmp_path, ["a", "b", "c"], faults=["{op: create, mode: hang, seconds: 600}"])
    proc = popen_cli(root, "apply", "--auto-approve", "--parallelism", "2", env={"PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    try:
        _wait_for(proc, "Creating...", 2, lines)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.perf_counter() - t0 < 10
    assert proc.returncode == 1 and "Traceback" not in err
    assert (
        "Second interrupt" in err
        and "abandoned while running (may still finish): dataset.a, dataset.b" in err
    )
    assert read_state(root).resources == {}
    assert not lock_file(root).exists()


# -- the walk itself ------------------------------------------------------------------------


def test_walk_abandons_running_nodes_and_skips_their_descendants() -> None:
    g = nx.DiGraph([("a", "b"), ("x", "y")])
    g.add_node("z")
    release = threading.Event()
    abandon = threading.Event()

    def fn(node: str) -> None:
        if node == "a":
            abandon.set()
            release.wait(10)

    result = walk(g, fn, parallelism=1, stop=abandon, abandon=abandon, poll=0.01)
    release.set()
    assert result.abandoned == ["a"] and result.skipped == {"b": "a"}
    assert "a" in result.failed and not result.ok
    assert set(result.cancelled) == {"x", "y", "z"}
