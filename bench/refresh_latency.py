"""Refresh under API latency: does a no-op plan overlap its provider reads?

N independent dataset resources on the local provider with `delay_ms` of added latency on
every provider call (`providers: {local: {delay_ms: 50}}`). Apply once, then time a no-op
`plan` at each --parallelism. The ideal is N x latency / parallelism; the anchor measured in
the same run is the same no-op plan with delay_ms 0 (the engine's own cost), so
ideal + anchor is what a perfect overlap would take.

  python bench/refresh_latency.py                      # N=500, 50 ms, parallelism 10,20,50
  python bench/refresh_latency.py --smoke              # N=40, 20 ms, parallelism 5,10 (CI)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import median_run, mlops_argv, print_machine, run_measured, table  # noqa: E402


def make_project(root: Path, n: int, delay_ms: int) -> None:
    (root / "data").mkdir(parents=True)
    (root / "mlops.yaml").write_text(
        "project: refresh\nbackend: {type: local}\ndefault_provider: local\n"
        f"providers:\n  local: {{delay_ms: {delay_ms}}}\n"
    )
    lines = ["resources:", "  dataset:"]
    for i in range(n):
        (root / "data" / f"d{i}.csv").write_text(f"id,value\n{i},{i * 2}\n")
        lines.append(f"    d{i}: {{uri: data/d{i}.csv, format: csv}}")
    (root / "ml.yaml").write_text("\n".join(lines) + "\n")


def set_delay(root: Path, delay_ms: int) -> None:
    text = (root / "mlops.yaml").read_text()
    head, _, _ = text.partition("providers:")
    (root / "mlops.yaml").write_text(head + f"providers:\n  local: {{delay_ms: {delay_ms}}}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=500, help="resources (default 500)")
    ap.add_argument("--delay-ms", type=int, default=50, help="latency per provider call (default 50)")
    ap.add_argument("--parallelism", default="10,20,50", help="comma-separated (default 10,20,50)")
    ap.add_argument("--runs", type=int, default=3, help="runs per setting; the median is reported")
    ap.add_argument("--smoke", action="store_true", help="N=40, 20 ms, parallelism 5,10, one run (CI)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.n, args.delay_ms, args.parallelism, args.runs = 40, 20, "5,10", 1
    levels = [int(p) for p in args.parallelism.split(",") if p.strip()]

    print_machine()
    print(
        f"{args.n} datasets, delay_ms {args.delay_ms}, no-op plan at parallelism {levels}, median of {args.runs}\n"
    )
    work = Path(tempfile.mkdtemp(prefix="mlops-bench-refresh-"))
    try:
        root = work / "proj"
        make_project(root, args.n, args.delay_ms)
        setup = run_measured(
            mlops_argv("apply", "--auto-approve", "--parallelism", str(max(levels))), root
        ).check()
        print(f"apply (setup, parallelism {max(levels)}): {setup.wall:.2f} s")

        # anchor: the engine alone, no latency
        set_delay(root, 0)
        base = median_run(
            mlops_argv("plan", "--detailed-exitcode", "--parallelism", str(max(levels))), root, args.runs
        )
        set_delay(root, args.delay_ms)

        rows = [["0 ms (anchor)", max(levels), f"{base.wall:.2f}", "-", "-", "-", f"{base.rss_mb:.0f}"]]
        latency = args.delay_ms / 1000.0
        for p in levels:
            r = median_run(
                mlops_argv("plan", "--detailed-exitcode", "--parallelism", str(p)), root, args.runs
            )
            ideal = args.n * latency / p
            rows.append(
                [
                    f"{args.delay_ms} ms",
                    p,
                    f"{r.wall:.2f}",
                    f"{ideal:.2f}",
                    f"{r.wall / ideal:.2f}x",
                    f"{r.wall / (ideal + base.wall):.2f}x",
                    f"{r.rss_mb:.0f}",
                ]
            )
        print()
        print(
            table(
                [
                    "latency",
                    "parallelism",
                    "wall s",
                    "ideal s",
                    "wall/ideal",
                    "wall/(ideal+anchor)",
                    "peak MiB",
                ],
                rows,
            )
        )
        print("\nideal = N x latency / parallelism; anchor = the same no-op plan without latency.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
