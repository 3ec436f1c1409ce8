"""Two runners sharing one state backend fire the same monitor's on_drift at once: the cooldown
is decided under a named lock on the backend and read from the backend's audit log, so exactly
one of them retrains."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from runtime_helpers import mlops

REPO = Path(__file__).resolve().parents[2]

# `monitor check` as the CLI runs it, with the race made certain: both processes enter on_drift
# together (a barrier of files), and each waits a second between reading the last retrain and
# recording its own, a window two runners without the lock would both pass through.
RUNNER = """
import sys, time
from pathlib import Path
from mlops_decl import runtime
from mlops_decl.cli.main import main

barrier = Path(sys.argv[1])
on_drift, cooling = runtime.Runtime._on_drift, runtime.Runtime._cooling

def together(self, *args, **kwargs):
    (barrier / str(time.time_ns())).touch()
    deadline = time.monotonic() + 120
    while len(list(barrier.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return on_drift(self, *args, **kwargs)

def slowly(self, *args, **kwargs):
    left = cooling(self, *args, **kwargs)
    time.sleep(1.0)
    return left

runtime.Runtime._on_drift, runtime.Runtime._cooling = together, slowly
main(sys.argv[2:])
"""


def test_two_concurrent_drift_checks_retrain_once(tmp_path: Path) -> None:
    churn = tmp_path / "churn"
    shutil.copytree(REPO / "examples" / "churn", churn, ignore=shutil.ignore_patterns(".mlops"))
    mlops(churn, "apply", "--auto-approve")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    args = ["monitor", "check", "monitor.churn_drift", "--data", "data/customers_shifted.csv", "--json"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(barrier), *args],
            cwd=churn,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=900) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    decisions = [json.loads(out)["on_drift"] for out, _ in outs]
    assert sorted(d["retrained"] for d in decisions) == [False, True], decisions
    assert next(d for d in decisions if not d["retrained"])["reason"].startswith("cooldown")
    entries = [json.loads(line) for line in mlops(churn, "audit", "--json").stdout.splitlines()]
    retrains = [e["data"] for e in entries if e["event"] == "retrain"]
    assert sorted(str(r["skipped"]) for r in retrains) == ["None", "cooldown"]
    assert [e["event"] for e in entries].count("run") == 1
    assert mlops(churn, "audit", "verify").returncode == 0
