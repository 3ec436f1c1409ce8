"""Serving: `mlops-decl serve` against `mlflow models serve --env-manager local`, same model version.

    python bench/serve_vs_mlflow.py                    # 1- and 1,000-row requests, 8 s a run, 2 rounds
    python bench/serve_vs_mlflow.py --seconds 4 --rounds 1 --clients 4
    python bench/serve_vs_mlflow.py --project DIR      # reuse a trained project (kept)

Setup (untimed): examples/quickstart copied to a temporary directory, then `mlops-decl apply`,
`run training_pipeline.churn_training` and `promote model.churn --version 1`, each a fresh
process. Three servers, each its own process, started in turn on the same project:
  mlops-decl           `mlops-decl serve endpoint.churn_api` (capture on: every scored row is
                       written to the capture store that monitors read);
  mlops-decl no-capture  the same with `--no-capture`, to show what capture costs;
  mlflow               `mlflow models serve -m models:/churn/1 --env-manager local`, the same
                       registry database (MLFLOW_TRACKING_URI), one uvicorn worker (its default).
Both answer the same `dataframe_split` JSON body (feature rows from the quickstart CSV); the
bench checks that their predictions agree before timing. The load generator is this process:
--clients threads, each one keep-alive http.client connection, sending requests back to back
for --seconds after a 1 s warm-up; requests/s is completed requests over the window, p50/p99
the latency of each. Rounds interleave the servers, in reverse order every other round, so a
busy machine weighs on all of them; each round's requests/s is printed with capture on against
off in that round, and the spread of the rounds shows the run-to-run noise.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import REPO, load_note, mlops_argv, print_machine, table  # noqa: E402

FEATURES = ["tenure_months", "monthly_spend", "plan"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(project: Path) -> None:
    if (project / ".mlops" / "local" / "mlflow.db").exists():
        return
    shutil.copytree(REPO / "examples" / "quickstart", project, dirs_exist_ok=True)
    for args in (
        ["apply", "--auto-approve"],
        ["run", "training_pipeline.churn_training"],
        ["promote", "model.churn", "--version", "1"],
    ):
        proc = subprocess.run(mlops_argv(*args), cwd=project, capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(
                f"`mlops-decl {' '.join(args)}` exited {proc.returncode}:\n{proc.stderr[-2000:]}"
            )


def body(n: int) -> bytes:
    rows = list(csv.DictReader((REPO / "examples" / "quickstart" / "data" / "customers.csv").open()))
    data = [[int(r["tenure_months"]), float(r["monthly_spend"]), r["plan"]] for r in rows]
    data = (data * (n // len(data) + 1))[:n]
    return json.dumps({"dataframe_split": {"columns": FEATURES, "data": data}}).encode()


class Server:
    """A server process in its own session (mlflow execs a uvicorn child: stop the group)."""

    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str], port: int, ready: str):
        self.name, self.port = name, port
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env={**os.environ, **env}, stdout=self.log, stderr=self.log, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"{name} exited {self.proc.returncode}:\n{self.log.read().decode()[-2000:]}")
            try:
                if request(port, "GET", ready)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{name} did not answer GET {ready} in 120 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def request(port: int, method: str, path: str, data: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, data, {"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def load(port: int, data: bytes, seconds: float, clients: int) -> dict[str, float]:
    """Requests back to back from `clients` keep-alive connections; after a 1 s warm-up."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.monotonic() + 1.0
    stop = start + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        while True:
            t0 = time.monotonic()
            if t0 >= stop:
                break
            conn.request("POST", "/invocations", data, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            t1 = time.monotonic()
            if r.status != 200:
                with lock:
                    errors[0] += 1
            elif t0 >= start and t1 <= stop:
                mine.append(t1 - t0)
            if r.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    n = len(latencies)
    return {
        "rps": n / seconds,
        "p50": latencies[n // 2] * 1000 if n else float("nan"),
        "p99": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan"),
        "requests": n,
        "errors": errors[0],
    }


def predictions(port: int, data: bytes) -> list[Any]:
    code, raw = request(port, "POST", "/invocations", data)
    if code != 200:
        raise SystemExit(f"port {port} answered {code}: {raw[:500]!r}")
    out = json.loads(raw)["predictions"]
    return [p["predictions"] if isinstance(p, dict) else p for p in out]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--sizes", default="1,1000", help="rows per request, comma-separated")
    ap.add_argument("--project", type=Path, help="a project directory to reuse (set up when empty)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print_machine()
    tmp = None if args.project else tempfile.TemporaryDirectory()
    project = args.project or Path(tmp.name) / "quickstart"  # type: ignore[union-attr]
    t0 = time.monotonic()
    setup(project)
    print(f"setup (apply, run, promote): {time.monotonic() - t0:.0f} s in {project}")
    mlflow_env = {"MLFLOW_TRACKING_URI": f"sqlite:///{project / '.mlops' / 'local' / 'mlflow.db'}"}
    kinds = {
        "mlops-decl": lambda p: Server(
            "mlops-decl",
            mlops_argv("serve", "endpoint.churn_api", "--port", str(p)),
            project,
            {},
            p,
            "/health",
        ),
        "mlops-decl no-capture": lambda p: Server(
            "mlops-decl no-capture",
            mlops_argv("serve", "endpoint.churn_api", "--port", str(p), "--no-capture"),
            project,
            {},
            p,
            "/health",
        ),
        "mlflow": lambda p: Server(
            "mlflow",
            [
                *[shutil.which("mlflow") or "mlflow"],
                "models",
                "serve",
                "-m",
                "models:/churn/1",
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(p),
            ],  # fmt: skip
            project,
            mlflow_env,
            p,
            "/ping",
        ),
    }
    bodies = {n: body(n) for n in sizes}
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    captured = 0
    for rnd in range(args.rounds):
        # capture on and off side by side, their order swapped every round, so a drift in the
        # machine's load weighs on both alike and the per-round spread shows the noise
        order = list(kinds) if rnd % 2 == 0 else list(reversed(kinds))
        for name in order:
            server = kinds[name](free_port())
            try:
                if rnd == 0:
                    got = predictions(server.port, bodies[max(sizes)])
                    results.setdefault(("check", 0), []).append({"preds": got})  # type: ignore[dict-item]
                for n in sizes:
                    results.setdefault((name, n), []).append(
                        load(server.port, bodies[n], args.seconds, args.clients)
                    )
                if name == "mlops-decl":
                    health = json.loads(request(server.port, "GET", "/health")[1])
                    captured = max(
                        captured, int(health["capture"]["written"]) + int(health["capture"]["pending"])
                    )
            finally:
                server.stop()
        print(f"round {rnd + 1}/{args.rounds} done ({load_note()})")
    checks = [r["preds"] for r in results.pop(("check", 0))]
    if any(c != checks[0] for c in checks):
        raise SystemExit("the servers disagree on the predictions: not the same model version?")

    def best(name: str, n: int) -> dict[str, float]:  # the round with the most requests/s
        return max(results[(name, n)], key=lambda r: r["rps"])

    rows = []
    for n in sizes:
        anchor = best("mlflow", n)
        for name in kinds:
            r = best(name, n)
            rows.append(
                [
                    f"{n:,} row{'s' if n > 1 else ''}",
                    name,
                    f"{r['rps']:.1f}",
                    f"{r['p50']:.1f}",
                    f"{r['p99']:.1f}",
                    f"{r['rps'] / anchor['rps']:.2f}x",
                    f"{anchor['p50'] / r['p50']:.2f}x",
                    f"{anchor['p99'] / r['p99']:.2f}x",
                    int(r["errors"]),
                ]
            )
    print(
        f"\n{args.clients} clients, keep-alive, {args.seconds:g} s a run, best of {args.rounds} round(s); "
        "ratios against mlflow in this run (higher is better)"
    )
    print(
        table(
            [
                "request",
                "server",
                "req/s",
                "p50 ms",
                "p99 ms",
                "req/s ratio",
                "p50 ratio",
                "p99 ratio",
                "errors",
            ],
            rows,
        )
    )
    print(f"mlops-decl captured {captured:,} scored rows in its last round (capture on)")
    print("\nreq/s each round (capture on, --no-capture, mlflow), and capture on against off that round")
    for n in sizes:
        on, off, ml = (results[(k, n)] for k in kinds)
        ratios = [a["rps"] / b["rps"] for a, b in zip(on, off, strict=True)]
        for i, (a, b, c) in enumerate(zip(on, off, ml, strict=True)):
            print(
                f"  {n:>5,} rows, round {i + 1}: {a['rps']:7.1f} {b['rps']:7.1f} {c['rps']:7.1f}   on/off {ratios[i]:.3f}"
            )
        offs = [b["rps"] for b in off]
        print(
            f"  {n:>5,} rows: on/off mean {sum(ratios) / len(ratios):.3f} (rounds {min(ratios):.3f}-{max(ratios):.3f}); "
            f"--no-capture alone varies {min(offs):.1f}-{max(offs):.1f} req/s ({max(offs) / min(offs) - 1:.0%})"
        )
    print(load_note() + " at end")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
