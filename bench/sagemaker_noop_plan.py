"""A no-op plan of N SageMaker resources: how many API calls it makes, and whether their
latency overlaps.

N resources on the sagemaker provider (datasets as S3 objects and models as Model Package
Groups, half each) against its test double (`python -m mlops_decl.providers.sagemaker.
testserver`, moto's server extended, in a process of its own), applied once; then a no-op
`plan` is timed in fresh processes: with `--no-refresh` (start-up, config, state and diff:
no API call), with no added latency (the anchor: the engine's, boto3's and the double's own
cost), and with `--latency-ms` added to every call by the double (its faults control
route). The plan's calls are counted on the client side with botocore's event hooks
(mlops_decl.providers.sagemaker.calls), which also time the API phase (the first call's
start to the last answer), and on the server side by the double. Bytecode is compiled
first, as a regular `pip install` does.

ideal = calls x latency / parallelism, where parallelism is the smaller of --parallelism and
the provider's own limit (SageMakerProvider.concurrency): one call at a time per parallel
slot. Targets: at most 2 calls per resource, and the whole command's wall time (and its API
phase) at latency within 20% of the ideal, i.e. at most 1.2x. A resource's independent calls
go out together (mlops_decl/cloud/overlap.py), so a plan can beat the ideal.

  python bench/sagemaker_noop_plan.py                  # N=200, 50 ms, parallelism 10
  python bench/sagemaker_noop_plan.py --parallelism 4,10,16 --runs 3
  python bench/sagemaker_noop_plan.py --smoke          # N=10, 20 ms, one run (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import ensure_bytecode, mlops_argv, print_machine, run_measured, table  # noqa: E402

CONCURRENCY = 16  # SageMakerProvider.concurrency: at most this many calls at once
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}
# `mlops-decl ARGS` in a process that counts its botocore calls into a JSON file
DRIVER = """
import json, sys
from mlops_decl.providers.sagemaker.calls import counting
from mlops_decl.cli.main import main
with counting() as counter:
    try:
        main(sys.argv[2:])
        rc = 0
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 1
with open(sys.argv[1], "w") as f:
    json.dump(counter.report(), f)
sys.exit(rc)
"""


def start_double() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl.providers.sagemaker.testserver", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **ENV},
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise RuntimeError("the SageMaker double did not start")
    return proc, url


def faults(url: str, body: dict[str, object] | None = None) -> dict[str, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/moto-api/mlops/faults", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request) as answer:
        got: dict[str, object] = json.loads(answer.read())
        return got


def make_project(root: Path, url: str, n: int) -> None:
    import boto3

    s3 = boto3.session.Session(region_name="us-east-1", **_keys()).client("s3", endpoint_url=url)
    s3.create_bucket(Bucket="bench")
    datasets = n // 2
    for i in range(datasets):
        s3.put_object(Bucket="bench", Key=f"d{i}.csv", Body=f"id,value\n{i},{i * 2}\n".encode())
    root.mkdir(parents=True)
    (root / "mlops.yaml").write_text(
        "project: bench\nbackend: {type: local}\ndefault_provider: sagemaker\n"
        f"providers:\n  sagemaker: {{region: us-east-1, endpoint_url: '{url}'}}\n"
    )
    lines = ["resources:", "  dataset:"]
    lines += [f"    d{i}: {{uri: 's3://bench/d{i}.csv', format: csv}}" for i in range(datasets)]
    lines += ["  model:"]
    lines += [f"    m{i}: {{description: model {i}}}" for i in range(n - datasets)]
    (root / "ml.yaml").write_text("\n".join(lines) + "\n")


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": ENV["AWS_SECRET_ACCESS_KEY"],
    }


def counted(root: Path, out: Path, *args: str) -> tuple[float, int, float]:
    """(wall seconds, botocore calls, seconds of the API phase) of `mlops-decl ARGS` in a
    fresh process."""
    run = run_measured([sys.executable, "-c", DRIVER, str(out), *args], root, ENV).check()
    got = json.loads(out.read_text())
    return run.wall, sum(got["calls"].values()), float(got["span"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200, help="resources, half datasets, half models (default 200)")
    ap.add_argument("--latency-ms", type=float, default=50.0, help="added to every call (default 50)")
    ap.add_argument("--parallelism", default="10", help="comma-separated (default 10)")
    ap.add_argument("--runs", type=int, default=3, help="runs per setting; the fastest counts (default 3)")
    ap.add_argument("--smoke", action="store_true", help="N=10, 20 ms, one run (CI)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.n, args.latency_ms, args.runs = 10, 20.0, 1
    levels = [int(p) for p in args.parallelism.split(",") if p.strip()]
    latency = args.latency_ms / 1000.0

    print_machine()
    print(f"{args.n} sagemaker resources (datasets and models), no-op plan, fastest of {args.runs}\n")
    ensure_bytecode(mlops_argv())
    work = Path(tempfile.mkdtemp(prefix="mlops-bench-sagemaker-"))
    proc, url = start_double()
    try:
        root = work / "proj"
        make_project(root, url, args.n)
        out = work / "calls.json"
        wall, calls, _ = counted(root, out, "apply", "--auto-approve", "--parallelism", str(max(levels)))
        print(f"apply (setup): {wall:.2f} s, {calls} calls")
        fixed = min(counted(root, out, "plan", "--no-refresh")[0] for _ in range(args.runs))
        print(f"plan --no-refresh (start-up, config, state, diff; no API call): {fixed:.2f} s")

        rows = []
        ok = True
        for p in levels:
            effective = min(p, CONCURRENCY)
            faults(url, {"latency_ms": 0})
            argv = ("plan", "--detailed-exitcode", "--parallelism", str(p))
            anchor = min(counted(root, out, *argv)[0] for _ in range(args.runs))
            faults(url, {"latency_ms": args.latency_ms})
            best = None
            for _ in range(args.runs):
                before = int(faults(url)["requests"])  # type: ignore[call-overload]
                got = counted(root, out, *argv)
                served = int(faults(url)["requests"]) - before  # type: ignore[call-overload]
                if best is None or got[2] < best[0][2]:
                    best = (got, served)
            assert best is not None
            (wall, calls, span), served = best
            ideal = calls * latency / effective
            per = calls / args.n
            met = per <= 2 and span <= 1.2 * ideal and wall <= 1.2 * ideal
            ok = ok and met
            rows.append(
                [
                    p,
                    effective,
                    calls,
                    served,
                    f"{per:.2f}",
                    f"{anchor:.2f}",
                    f"{wall:.2f}",
                    f"{span:.2f}",
                    f"{ideal:.2f}",
                    f"{span / ideal:.2f}x",
                    f"{wall / ideal:.2f}x",
                    f"{(wall - fixed) / ideal:.2f}x",
                    "met" if met else "missed",
                ]
            )
        print()
        print(
            table(
                [
                    "parallelism",
                    "effective",
                    "calls",
                    "served",
                    "calls/resource",
                    "anchor s",
                    f"{args.latency_ms:g} ms s",
                    "API phase s",
                    "ideal s",
                    "API/ideal",
                    "wall/ideal",
                    "(wall-no-refresh)/ideal",
                    "target",
                ],
                rows,
            )
        )
        print(
            "\ncalls: counted with botocore's event hooks in the plan's process; served: answered "
            "by the double.\nideal = calls x latency / effective parallelism; anchor = the same "
            "plan without latency;\nAPI phase = the first call's start to the last answer "
            "(botocore's event hooks).\ntargets (at most 2 calls per resource; wall time and API "
            f"phase at most 1.2x the ideal): {'met at every parallelism above' if ok else 'missed where the target column says'}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
