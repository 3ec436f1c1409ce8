"""Running mlops-decl as a user does, for the runtime tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def mlops(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_decl", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if check:
        assert proc.returncode == 0, (
            f"mlops-decl {' '.join(args)}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc
