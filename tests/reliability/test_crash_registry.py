"""An apply killed while the local provider creates its MLflow registry (the first model):
the next apply must work. Killed half-way through MLflow's schema migrations, the database
used to stay half-made and every later apply failed on "index ... already exists"; it is now
built under a temporary name and linked into place."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from stress_common import cli, popen_cli


def test_apply_killed_while_creating_the_registry_recovers(tmp_path: Path) -> None:
    rng = random.Random(4)
    hits = 0
    for trial in range(3):
        root = tmp_path / f"t{trial}"
        root.mkdir()
        (root / "mlops.yaml").write_text("project: p\nresources:\n  model:\n    m: {description: d}\n")
        local = root / ".mlops" / "local"
        proc = popen_cli(root, "apply", "--auto-approve")
        deadline = time.time() + 120
        # wait for the migrations to start (the temporary database, or the database itself)
        while time.time() < deadline and proc.poll() is None:
            if local.is_dir() and any(
                p.name.startswith((".mlflow.db.", "mlflow.db")) for p in local.iterdir()
            ):
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.8))  # migrations take a second or two
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            hits += 1
        proc.communicate()
        res = cli(root, "apply", "--auto-approve")
        assert res.rc == 0, res.err
        assert cli(root, "plan", "--detailed-exitcode").rc == 0
        assert not [p.name for p in local.iterdir() if ".tmp" in p.name]  # nothing left behind
    assert hits >= 2, "the kills came too late to test anything"
