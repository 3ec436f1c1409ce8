"""Crash safety: SIGKILL an apply at random points and check what is left.

    python -m tests.stress.crash_harness --trials 20 --resources 200 --seed 1

Each trial makes a fresh local project of N resources (datasets, feature groups and a few
MLflow models, with dependency chains), starts `apply --auto-approve`, and kills it with SIGKILL at a random
point: during start-up and planning, after the k-th resource completed (k uniform over the
apply) plus a random few milliseconds, or near the end (journal compaction, outputs, audit).
Then it checks, for that trial:

  1. the state parses (state.json as JSON, and snapshot + journal through the store);
  2. every live object (catalog row, feature-store table) is in the state, or is in the
     configuration and the next plan creates it (the local provider's create adopts it);
  3. nothing is created twice: the next plan touches only what the state lacks (no update,
     replace or delete of a recorded object), and adopted rows keep their creation time;
  4. the next apply converges (exit 0, then `plan --detailed-exitcode` exits 0) and leaves
     exactly the configured objects, no more;
  5. the audit log's hash chain verifies.

Exit status 0 when every trial passed; a JSON summary with the figures is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stress_common import (  # noqa: E402
    catalog_rows,
    cli,
    percentile,
    plan_actions,
    popen_cli,
    raw_state,
    read_state,
    registered_models,
    store_tables,
)
from stress_common import (  # noqa: E402
    make_project as _make_project,
)


@dataclass
class Trial:
    trial: int
    kill: str  # where we aimed: "startup+0.43s", "after 57/200 +12ms", "end"
    killed_rc: int | None = None
    in_state_at_kill: int = 0
    live_at_kill: int = 0
    orphans_at_kill: int = 0  # live objects the state did not know: the next plan must adopt them
    next_plan_creates: int = 0
    recovery_seconds: float = 0.0
    ok: bool = False
    problems: list[str] = field(default_factory=list)


def _live(root: Path) -> dict[str, str]:
    """address -> creation time of every object the local provider holds."""
    live = {f"{kind}.{id}": created for (kind, id), created in catalog_rows(root).items()}
    for table in store_tables(root):
        name = table.removesuffix("__online")
        live.setdefault(f"feature_group.{name}", "(table only)")
    for name, created in registered_models(root).items():
        live[f"model.{name}"] = str(created)
    return live


def _kill_after(proc: Any, rng: random.Random, n: int) -> str:
    """Wait for a random point of the apply and SIGKILL it; returns where."""
    lines: list[str] = []
    done = threading.Event()
    count = [0]
    target_hit = threading.Event()
    choice = rng.random()
    if choice < 0.15:
        target, aim = None, f"startup+{(delay := rng.uniform(0.05, 1.2)):.2f}s"
    elif choice < 0.25:
        target, aim = n, f"end+{(delay := rng.uniform(0.0, 0.15)) * 1000:.0f}ms"
    else:
        k = rng.randint(1, n - 1)
        target, aim = k, f"after {k}/{n}+{(delay := rng.uniform(0.0, 0.03)) * 1000:.0f}ms"

    def reader() -> None:
        for line in proc.stdout:
            lines.append(line)
            if "complete after" in line:
                count[0] += 1
                if target is not None and count[0] >= target:
                    target_hit.set()
        done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    if target is None:
        time.sleep(delay)
    else:
        target_hit.wait(timeout=120)
        time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    done.wait(timeout=10)
    return aim


def run_trial(base: Path, n: int, seed: int, trial: int, parallelism: int = 10, models: int = 0) -> Trial:
    rng = random.Random(f"{seed}:{trial}")
    root = base / f"trial{trial:02d}"
    if root.exists():
        shutil.rmtree(root)
    addresses = set(_make_project(root, n, seed=seed * 1000 + trial, models=models))
    env = {"PYTHONUNBUFFERED": "1"}
    proc = popen_cli(root, "apply", "--auto-approve", "--parallelism", str(parallelism), env=env)
    try:
        aim = _kill_after(proc, rng, n)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    t = Trial(trial, aim, killed_rc=proc.returncode)
    p = t.problems

    # 1. the state parses
    try:
        raw_state(root)
        state = read_state(root)
    except Exception as exc:
        p.append(f"state does not parse: {type(exc).__name__}: {exc}")
        return t
    recorded = set(state.resources)
    t.in_state_at_kill = len(recorded)
    live = _live(root)
    t.live_at_kill = len(live)
    orphans = set(live) - recorded
    t.orphans_at_kill = len(orphans)
    if recorded - addresses:
        p.append(f"state holds addresses not in the config: {sorted(recorded - addresses)[:5]}")
    # A create records its object's id before it returns: a half-made object is in state as
    # `creating` (or `tainted`), whether or not the provider got to make it.
    half = {a for a, rs in state.resources.items() if rs.status}
    missing_live = {a for a in recorded - half if a not in live}
    if missing_live:
        p.append(f"state records objects that do not exist: {sorted(missing_live)[:5]}")

    # 2./3. what the next plan does
    try:
        actions = plan_actions(root)
    except AssertionError as exc:
        p.append(str(exc)[:500])
        return t
    t.next_plan_creates = sum(1 for a in actions.values() if a == ["create"])
    not_adopted = {a for a in orphans if actions.get(a) != ["create"] or a not in addresses}
    if not_adopted:
        p.append(f"live objects neither in state nor adopted by the next plan: {sorted(not_adopted)[:5]}")
    touched = {a: act for a, act in actions.items() if a in recorded - half}
    if touched:
        p.append(
            f"the next plan changes recorded objects (would create twice?): {dict(list(touched.items())[:5])}"
        )
    # a half-made object that exists is finished in place (or replaced when tainted), one that
    # does not is created: never a second object beside the first
    expected = {
        a: (["update"] if state.resources[a].status == "creating" else ["delete", "create"])
        if a in live
        else ["create"]
        for a in half
    }
    wrong = {a for a, act in actions.items() if act != expected.get(a, ["create"])}
    if wrong:
        p.append(f"the next plan does more than create what is missing: {sorted(wrong)[:5]}")
    if set(actions) != (addresses - recorded) | half:
        p.append(
            f"the next plan changes {len(actions)} but {len((addresses - recorded) | half)} are missing "
            "from the state or half-made"
        )

    # 4. the next apply converges
    res = cli(root, "apply", "--auto-approve", "--parallelism", str(parallelism))
    t.recovery_seconds = round(res.seconds, 2)
    if res.rc != 0:
        p.append(f"the next apply failed ({res.rc}): {res.err[-800:]}")
        return t
    again = cli(root, "plan", "--detailed-exitcode")
    if again.rc != 0:
        p.append(f"not converged: plan --detailed-exitcode exited {again.rc}: {again.out[-500:]}")
    after = _live(root)
    if set(after) != addresses:
        extra, lacking = set(after) - addresses, addresses - set(after)
        p.append(
            f"live objects differ from the config: extra {sorted(extra)[:5]}, missing {sorted(lacking)[:5]}"
        )
    recreated = [a for a, c in live.items() if c != "(table only)" and after.get(a) not in (None, c)]
    if recreated:
        p.append(f"objects created twice (creation time changed): {recreated[:5]}")
    final = read_state(root)
    if set(final.resources) != addresses:
        p.append("state after recovery does not hold exactly the configured addresses")

    # 5. the audit log
    audit = cli(root, "audit", "verify")
    if audit.rc != 0:
        p.append(f"audit verify failed: {audit.text[-500:]}")
    t.ok = not p
    return t


def run(
    trials: int, resources: int, seed: int, workdir: Path | None = None, keep: bool = False, models: int = 0
) -> dict[str, Any]:
    base = Path(workdir or tempfile.mkdtemp(prefix="mlops-crash-"))
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = []
    for i in range(trials):
        r = run_trial(base, resources, seed, i, models=models)
        results.append(r)
        status = "ok" if r.ok else "FAIL"
        killed = "killed" if r.killed_rc == -9 else f"exit {r.killed_rc}"
        print(
            f"trial {i:2d}: {status:4s} {killed} {r.kill:>22s}  state {r.in_state_at_kill:3d}/{resources}  "
            f"live {r.live_at_kill:3d}  orphans adopted {r.orphans_at_kill:2d}  "
            f"recovery {r.recovery_seconds:.1f}s",
            flush=True,
        )
        for problem in r.problems:
            print(f"          - {problem}", flush=True)
        if r.ok and not keep:
            shutil.rmtree(base / f"trial{i:02d}", ignore_errors=True)
    summary = {
        "trials": trials,
        "resources": resources,
        "models": models,
        "seed": seed,
        "passed": sum(r.ok for r in results),
        "killed_by_sigkill": sum(1 for r in results if r.killed_rc == -9),
        "in_state_at_kill": [r.in_state_at_kill for r in results],
        "orphans_adopted": sum(r.orphans_at_kill for r in results),
        "trials_with_orphans": sum(1 for r in results if r.orphans_at_kill),
        "recovery_seconds_p50": percentile([r.recovery_seconds for r in results], 50),
        "recovery_seconds_max": max((r.recovery_seconds for r in results), default=0.0),
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "failures": [asdict(r) for r in results if not r.ok],
    }
    if not keep and not summary["failures"]:
        shutil.rmtree(base, ignore_errors=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--resources", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--models", type=int, default=5, help="how many of the resources are MLflow models")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the trial directories")
    args = ap.parse_args(argv)
    summary = run(args.trials, args.resources, args.seed, args.workdir, args.keep, args.models)
    print(json.dumps(summary, indent=2))
    return 0 if summary["passed"] == summary["trials"] else 1


if __name__ == "__main__":
    sys.exit(main())
