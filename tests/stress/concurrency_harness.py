"""Concurrency on the local backend, through the CLI as users run it.

    python -m tests.stress.concurrency_harness --trials 20 --resources 40 --seed 1

Each trial:
  1. race: two `apply --auto-approve` processes start at (nearly) the same moment on one
     project, each setting a different value of a variable every resource's description uses
     (a fresh project on even trials, an applied one on odd trials). Exactly one proceeds; the
     other exits 1 naming the holder (its pid and `force-unlock`). No write is lost: the state
     equals what the provider holds, resource by resource, and carries the winner's value
     everywhere; running the loser again then applies its value everywhere.
  2. killed holder: an apply hanging in a provider call is SIGKILLed while it holds the lock;
     the next apply takes the lock over without help, and converges.
  3. another machine: a lock record left by a holder on another host (a killed process that
     took the lock as `ci@build-agent-7`) is not taken over: apply exits 1 naming it;
     `force-unlock ID` clears it; apply then succeeds.

Exit status 0 when every trial passed; a JSON summary with the figures is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stress_common import catalog_rows, cli, cli_env, percentile, popen_cli, read_state  # noqa: E402

WORKER = Path(__file__).resolve().parent / "backend_worker.py"


@dataclass
class Trial:
    trial: int
    fresh: bool
    offset_ms: float = 0.0
    winner: str = ""
    loser_seconds: float = 0.0  # how long the refused apply took to say so
    takeover_ok: bool = False
    foreign_ok: bool = False
    ok: bool = False
    problems: list[str] = field(default_factory=list)


def make_project(root: Path, n: int, delay_ms: int) -> list[str]:
    (root / "data").mkdir(parents=True, exist_ok=True)
    lines = [
        "project: conc",
        "variables:",
        "  who: {type: string, default: nobody}",
        "providers:",
        f"  local: {{delay_ms: {delay_ms}}}",
        "resources:",
        "  dataset:",
    ]
    for i in range(n):
        (root / "data" / f"d{i}.csv").write_text(f"id,v\n{i},1\n")
        lines += [f"    d{i}:", f"      uri: data/d{i}.csv", '      description: "written by ${var.who}"']
    (root / "mlops.yaml").write_text("\n".join(lines) + "\n")
    return [f"dataset.d{i}" for i in range(n)]


def check_consistent(root: Path, addresses: list[str], who: str, p: list[str], when: str) -> None:
    """State == what the provider holds, every resource written by `who`."""
    state = read_state(root)
    if sorted(state.resources) != sorted(addresses):
        p.append(f"{when}: state holds {len(state.resources)} of {len(addresses)} resources")
        return
    import sqlite3

    db = root / ".mlops" / "local" / "catalog.db"
    with sqlite3.connect(db) as conn:
        live = {
            i: json.loads(a)
            for i, a in conn.execute("SELECT id, attributes FROM objects WHERE kind='dataset'")
        }
    for address, rs in state.resources.items():
        want = f"written by {who}"
        if rs.attributes.get("description") != want:
            p.append(f"{when}: {address} in state says {rs.attributes.get('description')!r}, not {want!r}")
            return
        if live.get(rs.id, {}).get("description") != want:
            p.append(f"{when}: {address} live says {live.get(rs.id, {}).get('description')!r}, not {want!r}")
            return
    if len(catalog_rows(root)) != len(addresses):
        p.append(f"{when}: the provider holds {len(catalog_rows(root))} objects, not {len(addresses)}")


def race(root: Path, addresses: list[str], rng: random.Random, t: Trial) -> None:
    p = t.problems
    offset = rng.uniform(0, 0.15)
    t.offset_ms = round(offset * 1000, 1)
    first, second = ("A", "B") if rng.random() < 0.5 else ("B", "A")
    procs: dict[str, subprocess.Popen[str]] = {}
    started: dict[str, float] = {}
    procs[first] = popen_cli(root, "apply", "--auto-approve", "-var", f"who={first}")
    started[first] = time.perf_counter()
    time.sleep(offset)
    procs[second] = popen_cli(root, "apply", "--auto-approve", "-var", f"who={second}")
    started[second] = time.perf_counter()
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        results[name] = (proc.returncode, out, err, time.perf_counter() - started[name])
    ok = [n for n, r in results.items() if r[0] == 0]
    refused = [n for n, r in results.items() if r[0] == 1 and "the state is locked" in r[2]]
    if len(ok) == 2:
        p.append("both applies ran: they did not overlap (raise --delay-ms)")
        return
    if len(ok) != 1 or len(refused) != 1:
        p.append(
            f"expected one apply to proceed and one refused: {[(n, r[0], r[2][-300:]) for n, r in results.items()]}"
        )
        return
    winner, loser = ok[0], refused[0]
    t.winner = winner
    err = results[loser][2]
    t.loser_seconds = round(results[loser][3], 2)
    if f"(pid {procs[winner].pid})" not in err or "force-unlock" not in err or "for `apply`" not in err:
        p.append(f"the refusal does not name the holder (pid {procs[winner].pid}): {err[-400:]}")
    if "Traceback" in err:
        p.append("the refusal printed a traceback")
    check_consistent(root, addresses, winner, p, "after the race")
    # the loser, run again, now proceeds and its writes land everywhere
    again = cli(root, "apply", "--auto-approve", "-var", f"who={loser}")
    if again.rc != 0:
        p.append(f"re-running the refused apply failed: {again.err[-400:]}")
        return
    check_consistent(root, addresses, loser, p, "after re-running the loser")


def killed_holder(root: Path, t: Trial) -> None:
    p = t.problems
    hang = json.dumps([{"op": "update", "mode": "hang", "name": "d0", "seconds": 600}])
    proc = popen_cli(
        root,
        "apply",
        "--auto-approve",
        "-var",
        "who=killed",
        env={"MLOPS_LOCAL_FAULTS": hang, "PYTHONUNBUFFERED": "1"},
    )
    lock = root / ".mlops" / "state.lock.json"
    deadline = time.time() + 60
    # wait until it is inside the apply (holding the lock, updating)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Modifying..." in line or time.time() > deadline:
            break
    if not lock.exists():
        p.append("the hanging apply holds no lock file")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    res = cli(root, "apply", "--auto-approve", "-var", "who=after-kill")
    if res.rc != 0:
        p.append(f"the lock of a killed holder was not taken over: {res.err[-400:]}")
        return
    if cli(root, "plan", "--detailed-exitcode", "-var", "who=after-kill").rc != 0:
        p.append("no convergence after the killed holder")
    check_consistent(
        root, [a for a in read_state(root).resources], "after-kill", p, "after the killed holder"
    )
    t.takeover_ok = not p


def foreign_lock(root: Path, t: Trial) -> None:
    p = t.problems
    before = len(p)
    settings = json.dumps({"type": "local"})
    hold = subprocess.Popen(
        [sys.executable, str(WORKER), "hold", str(root), settings, "build-agent-7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert hold.stdout is not None
    line = hold.stdout.readline()
    hold.kill()
    hold.communicate()
    if not line.startswith("held "):
        p.append(f"could not take the lock as another machine: {line!r}")
        return
    lock_id = line.split()[1]
    res = cli(root, "apply", "--auto-approve", "-var", "who=foreign")
    if res.rc != 1 or "ci@build-agent-7" not in res.err or lock_id not in res.err:
        p.append(f"a lock from another machine was not reported ({res.rc}): {res.err[-400:]}")
    wrong = cli(root, "force-unlock", "0000-not-it")
    if wrong.rc != 1:
        p.append("force-unlock with a wrong id did not fail")
    res = cli(root, "force-unlock", lock_id)
    if res.rc != 0:
        p.append(f"force-unlock failed: {res.err[-400:]}")
    res = cli(root, "apply", "--auto-approve", "-var", "who=foreign")
    if res.rc != 0:
        p.append(f"apply after force-unlock failed: {res.err[-400:]}")
    t.foreign_ok = len(p) == before


def run_trial(base: Path, n: int, seed: int, trial: int, delay_ms: int) -> Trial:
    rng = random.Random(f"{seed}:{trial}")
    root = base / f"trial{trial:02d}"
    shutil.rmtree(root, ignore_errors=True)
    addresses = make_project(root, n, delay_ms)
    t = Trial(trial, fresh=trial % 2 == 0)
    if not t.fresh:
        res = cli(root, "apply", "--auto-approve", "-var", "who=setup")
        if res.rc != 0:
            t.problems.append(f"setup apply failed: {res.err[-400:]}")
            return t
    race(root, addresses, rng, t)
    if not t.problems:
        killed_holder(root, t)
    if not t.problems:
        foreign_lock(root, t)
    t.ok = not t.problems
    return t


def run(
    trials: int, resources: int, seed: int, delay_ms: int = 50, workdir: Path | None = None
) -> dict[str, Any]:
    base = Path(workdir or tempfile.mkdtemp(prefix="mlops-conc-"))
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = []
    for i in range(trials):
        r = run_trial(base, resources, seed, i, delay_ms)
        results.append(r)
        print(
            f"trial {i:2d}: {'ok' if r.ok else 'FAIL':4s} {'fresh  ' if r.fresh else 'applied'} "
            f"offset {r.offset_ms:5.1f}ms  winner {r.winner or '-'}  refused in {r.loser_seconds:.2f}s  "
            f"killed-holder takeover {'ok' if r.takeover_ok else '-'}  force-unlock {'ok' if r.foreign_ok else '-'}",
            flush=True,
        )
        for problem in r.problems:
            print(f"          - {problem}", flush=True)
        if r.ok:
            shutil.rmtree(base / f"trial{i:02d}", ignore_errors=True)
    summary = {
        "trials": trials,
        "resources": resources,
        "seed": seed,
        "passed": sum(r.ok for r in results),
        "exactly_one_proceeded": sum(1 for r in results if r.winner),
        "killed_holder_taken_over": sum(r.takeover_ok for r in results),
        "foreign_lock_force_unlocked": sum(r.foreign_ok for r in results),
        "refusal_seconds_p50": percentile([r.loser_seconds for r in results if r.winner], 50),
        "refusal_seconds_max": max((r.loser_seconds for r in results), default=0.0),
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "failures": [asdict(r) for r in results if not r.ok],
    }
    if not summary["failures"]:
        shutil.rmtree(base, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--resources", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--delay-ms", type=int, default=50, help="latency per provider call, so applies overlap")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)
    summary = run(args.trials, args.resources, args.seed, args.delay_ms, args.workdir)
    print(json.dumps(summary, indent=2))
    return 0 if summary["passed"] == summary["trials"] else 1


if __name__ == "__main__":
    sys.exit(main())
