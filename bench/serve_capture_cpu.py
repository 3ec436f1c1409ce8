"""What capture costs `mlops-decl serve` in CPU: the server's own CPU seconds per request,
capture on and off, which a busy machine does not blur as it blurs requests/s.

    python bench/serve_capture_cpu.py                      # 1,000-row requests, 500 a run, 3 rounds
    python bench/serve_capture_cpu.py --rows 1 --requests 2000 --project DIR

Setup as bench/serve_vs_mlflow.py (the quickstart trained and promoted, or --project reused).
Each run starts `mlops-decl serve endpoint.churn_api` (with `--no-capture` for the off runs),
sends 20 warm-up requests, waits for the capture writer's first write, then sends --requests
requests back to back on one keep-alive connection and waits 2.5 s for the writer's last
batch. The figure is the server process's user + system CPU (from /proc/PID/stat) over that
window, divided by the requests. Rounds alternate off and on, the order swapped every round;
the spread of the runs shows the noise.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import load_note, mlops_argv, print_machine  # noqa: E402
from serve_vs_mlflow import Server, body, free_port, setup  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(project: Path, data: bytes, requests: int, capture: bool) -> float:
    """Server CPU milliseconds a request."""
    port = free_port()
    argv = mlops_argv(
        "serve", "endpoint.churn_api", "--port", str(port), *([] if capture else ["--no-capture"])
    )
    server = Server("mlops-decl", argv, project, {}, port, "/health")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def send() -> None:
            conn.request("POST", "/invocations", data, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise SystemExit(f"the server answered {r.status}")

        for _ in range(20):
            send()
        time.sleep(1.5)  # the writer's first write (imports) falls outside the window
        before = cpu_seconds(server.proc.pid)
        for _ in range(requests):
            send()
        time.sleep(2.5)
        return 1000 * (cpu_seconds(server.proc.pid) - before) / requests
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000, help="rows a request")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--project", type=Path, help="a project directory to reuse (set up when empty)")
    args = ap.parse_args()
    print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        project = args.project or Path(tmp) / "quickstart"
        setup(project)
        data = body(args.rows)
        got: dict[bool, list[float]] = {False: [], True: []}
        for rnd in range(args.rounds):
            for capture in (False, True) if rnd % 2 == 0 else (True, False):
                got[capture].append(run(project, data, args.requests, capture))
    print(f"\nserver CPU ms a {args.rows}-row request, {args.requests} requests a run, {args.rounds} rounds")
    for capture in (False, True):
        runs = ", ".join(f"{v:.2f}" for v in got[capture])
        print(
            f"capture {'on ' if capture else 'off'}: {runs}  (mean {sum(got[capture]) / len(got[capture]):.2f})"
        )
    cost = sum(got[True]) / len(got[True]) - sum(got[False]) / len(got[False])
    print(f"capture's cost: {cost:+.2f} ms a request")
    for capture in (False, True):
        v = got[capture]
        print(
            f"capture {'on ' if capture else 'off'} runs vary {min(v):.2f}-{max(v):.2f} ms ({max(v) / min(v) - 1:.0%})"
        )
    print(f"{load_note()} at end")


if __name__ == "__main__":
    main()
