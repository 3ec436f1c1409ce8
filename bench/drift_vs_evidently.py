"""Drift check: the local provider against Evidently's DataDriftPreset on the same data.

    python bench/drift_vs_evidently.py                 # 1,000,000 rows x 20 numeric columns
    python bench/drift_vs_evidently.py --rows 100000   # a smaller size
    python bench/drift_vs_evidently.py --smoke         # 20,000 rows, no Evidently (CI)

Reference and current each have --rows rows; the first --shifted columns of the current data
are shifted (mean, scale or both), the rest drawn as the reference. Three processes:
  prepare    builds the seeded numpy data, writes reference and current parquet files, and
             applies a dataset and a monitor through the local provider's handlers: the
             profile, computed once (what `mlops-decl apply` does);
  check      a fresh process, as `mlops-decl monitor check` is: the engine's check on the
             current file the provider reads, timed end to end (reading the file, sorting,
             scoring, writing the JSON and HTML reports);
  evidently  in the Evidently venv (/tmp/evvenv; see tests/providers/record_evidently.py):
             reads the same two files (untimed), then Report([DataDriftPreset()]).run(...) and
             .dict(), timed.
Peak memory is getrusage's ru_maxrss of the check and Evidently processes; the profile's is the
peak while it ran (Linux VmHWM, reset before).
The anchor: the target is >= 30x faster than Evidently, with the same drifted columns.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

EVIDENTLY_PYTHON = "/tmp/evvenv/bin/python"
REPO = Path(__file__).resolve().parents[1]


def make_data(
    rows: int, cols: int, shifted: int, seed: int = 42
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    ref: dict[str, np.ndarray] = {}
    cur: dict[str, np.ndarray] = {}
    for i in range(cols):
        name = f"f{i:02d}"
        loc, scale = float(i), 1.0 + i / 10
        ref[name] = rng.normal(loc, scale, rows)
        if i < shifted:
            # a mix of mean shifts and scale changes, all past Wasserstein's 0.1
            kind = i % 3
            d_loc = 0.3 * scale if kind != 1 else 0.0
            d_scale = 1.4 if kind != 0 else 1.0
            cur[name] = rng.normal(loc + d_loc, scale * d_scale, rows)
        else:
            cur[name] = rng.normal(loc, scale, rows)
    return ref, cur


def _rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return kb / 1024


def _reset_phase_peak() -> bool:
    try:
        Path(f"/proc/{os.getpid()}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _phase_peak_mb() -> float | None:
    try:
        for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def worker_prepare(rows: int, cols: int, shifted: int, workdir: Path) -> dict[str, Any]:
    """`mlops-decl apply`'s share: write the data, apply a dataset and a monitor (the profile)."""
    import gc

    import pandas as pd

    ref, cur = make_data(rows, cols, shifted)
    pd.DataFrame(ref).to_parquet(workdir / "reference.parquet")
    pd.DataFrame(cur).to_parquet(workdir / "current.parquet")
    del ref, cur
    gc.collect()
    provider = make_provider(workdir)
    provider.handler("dataset").create(spec("dataset", "reference", uri="reference.parquet"))
    reset = _reset_phase_peak()
    t0 = time.perf_counter()
    _, attrs = provider.handler("monitor").create(spec("monitor", "bench", baseline="reference"))
    seconds = time.perf_counter() - t0
    provider.close()
    (workdir / "monitor.json").write_text(json.dumps(attrs))
    return {"profile_seconds": seconds, "profile_peak_mb": _phase_peak_mb() if reset else None}


def worker_check(workdir: Path) -> dict[str, Any]:
    """`mlops-decl monitor check`'s share, in a fresh process as the CLI runs it: the engine's
    check on the provider's current data."""
    from mlops_decl.ml import monitor
    from mlops_decl.ml.evidence import MonitorActions
    from mlops_decl.provider import RuntimeContext

    attrs = json.loads((workdir / "monitor.json").read_text())
    provider = make_provider(workdir)
    rt = RuntimeContext(project_dir=workdir, config_hash="bench", git_commit=None, who="bench")
    actions = MonitorActions(
        lambda action, **kw: provider.action("monitor", action)("bench", attrs, rt, **kw)
    )
    t0 = time.perf_counter()
    report = monitor.check(actions, "monitor.bench", attrs, workdir, data="current.parquet")
    seconds = time.perf_counter() - t0
    provider.close()
    return {
        "seconds": seconds,
        "peak_rss_mb": _rss_mb(),
        "drifted": sorted(n for n, f in report["features"].items() if f["drifted"]),
        "dataset_drift": report["dataset_drift"],
        "methods": sorted({f["method"] for f in report["features"].values()}),
    }


def make_provider(project: Path) -> Any:
    sys.path.insert(0, str(REPO / "tests" / "providers"))
    from conftest import make_provider as make  # the tests' way to stand up the local provider

    return make(project)


def spec(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    from conftest import spec as make_spec

    return dict(make_spec(kind, name, **fields))


def worker_evidently(workdir: Path) -> dict[str, Any]:
    """Evidently on the same files, read into DataFrames before the clock starts."""
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref = pd.read_parquet(workdir / "reference.parquet")
    cur = pd.read_parquet(workdir / "current.parquet")
    t0 = time.perf_counter()
    metrics = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref).dict()["metrics"]
    seconds = time.perf_counter() - t0
    drifted, share, methods = [], None, set()
    for m in metrics:
        config = m["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            share = m["value"]["share"]
            continue
        methods.add(config["method"])
        if float(m["value"]) >= float(config["threshold"]):  # distances (Wasserstein at this size)
            drifted.append(config["column"])
    return {
        "seconds": seconds,
        "peak_rss_mb": _rss_mb(),
        "drifted": sorted(drifted),
        "dataset_drift": share is not None and share >= 0.5,
        "methods": sorted(methods),
    }


def run_worker(python: str, which: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    cmd = [python, __file__, "--worker", which, "--workdir", str(workdir)]
    cmd += ["--rows", str(args.rows), "--cols", str(args.cols), "--shifted", str(args.shifted)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"{which} worker failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in reference and in current")
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--shifted", type=int, default=5)
    parser.add_argument("--evidently-python", default=EVIDENTLY_PYTHON)
    parser.add_argument("--worker", choices=["prepare", "check", "evidently"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="20,000 rows, no Evidently (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.evidently_python = 20_000, ""
    if args.worker == "prepare":
        print(json.dumps(worker_prepare(args.rows, args.cols, args.shifted, args.workdir)))
        return
    if args.worker:
        print(json.dumps((worker_check if args.worker == "check" else worker_evidently)(args.workdir)))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _util import print_machine

    print_machine()
    print(
        f"drift check: {args.rows:,} rows x {args.cols} numeric columns ({args.shifted} shifted), reference and current"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        prep = run_worker(sys.executable, "prepare", args, workdir)
        ours = run_worker(sys.executable, "check", args, workdir)
        print(
            f"mlops-decl local: profile at apply {prep['profile_seconds']:.2f} s (peak {prep['profile_peak_mb']:.0f} MB); "
            f"check {ours['seconds']:.2f} s, check process peak RSS {ours['peak_rss_mb']:.0f} MB; methods {ours['methods']}"
        )
        if not args.evidently_python or not Path(args.evidently_python).exists():
            why = "--smoke" if args.smoke else f"no {args.evidently_python}"
            print(f"Evidently skipped: {why} (make the venv: see tests/providers/record_evidently.py)")
            return
        theirs = run_worker(args.evidently_python, "evidently", args, workdir)
    print(
        f"Evidently DataDriftPreset: {theirs['seconds']:.2f} s, process peak RSS {theirs['peak_rss_mb']:.0f} MB; "
        f"methods {theirs['methods']}"
    )
    ratio = theirs["seconds"] / ours["seconds"]
    with_profile = theirs["seconds"] / (ours["seconds"] + prep["profile_seconds"])
    print(
        f"ratio: {ratio:.1f}x faster per check ({with_profile:.1f}x counting the one-off profile); target >= 30x"
    )
    print(
        f"peak memory: {ours['peak_rss_mb']:.0f} MB vs {theirs['peak_rss_mb']:.0f} MB "
        f"({theirs['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x less)"
    )
    verdict = "the same" if ours["drifted"] == theirs["drifted"] else "DIFFERENT"
    print(f"drifted columns: {verdict}: ours {ours['drifted']}, Evidently {theirs['drifted']}")
    print(f"dataset drift: ours {ours['dataset_drift']}, Evidently {theirs['dataset_drift']}")


if __name__ == "__main__":
    main()
