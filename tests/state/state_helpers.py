"""Shared by the state tests: start state_worker.py in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).with_name("state_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def spawn(*args: str, stdin: bool = False) -> subprocess.Popen[str]:
    """Run state_worker.py with the repository importable, whatever the cwd."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        text=True,
        env=env,
    )
