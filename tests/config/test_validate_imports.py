"""`validate` stays fast: no provider SDK, no data-science stack, no rich, no networkx on its path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("mlflow", "pandas", "sklearn", "rich", "networkx", "numpy", "boto3", "google", "databricks")


def test_validate_imports_nothing_heavy(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mlops_decl", "validate"],
        cwd=project,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    modules = {
        line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")
    }
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert not heavy, f"validate imports {heavy}"
