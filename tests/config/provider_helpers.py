"""Helpers for the provider tests: a project on disk, the test-only `probe` provider on the
path, and the one error a command should print."""

from __future__ import annotations

import os
import re
from pathlib import Path

PLUGIN = Path(__file__).parent / "plugin"
WITH_PROBE = {"PYTHONPATH": os.pathsep.join([str(PLUGIN), os.environ.get("PYTHONPATH", "")])}


def write_project(root: Path, mlops: str, ml: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(mlops)
    (root / "ml.yaml").write_text(ml)
    return root


def one_error(err: str) -> re.Match[str]:
    assert "Traceback" not in err, err
    found = re.findall(r"^Error: .*$", err, re.M)
    assert len(found) == 1, err
    m = re.match(r"Error: (?P<file>[\w./-]+):(?P<line>\d+):(?P<col>\d+): (?P<summary>.*)", found[0])
    assert m, f"no file:line:column in {found[0]!r}"
    return m
