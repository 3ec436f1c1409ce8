"""`python -m mlops_decl.providers.sagemaker.testserver --port P`: the extended moto server on
its own, for trying examples/sagemaker offline. Prints the endpoint_url, serves until
interrupted. `--throttle 0.3 --latency-ms 50` injects faults (faults.py), for drills and
benchmarks."""

from __future__ import annotations

import argparse
import sys
import threading

from .server import Options, SageMakerServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_decl.providers.sagemaker.testserver",
        description="A local SageMaker and S3 (moto, extended) for offline examples and tests.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--endpoint-delay", type=float, default=2.0, help="seconds an endpoint is Creating or Updating"
    )
    parser.add_argument(
        "--pipeline-delay", type=float, default=2.0, help="seconds a pipeline execution is Executing"
    )
    parser.add_argument(
        "--throttle",
        type=_share,
        default=0.0,
        help="share of calls answered as throttled, 0 to 1 (default 0)",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="milliseconds added to every call")
    parser.add_argument("--seed", type=int, default=0, help="of the throttled calls' draws (default 0)")
    args = parser.parse_args(argv)
    if args.latency_ms < 0:
        parser.error("--latency-ms must be >= 0")
    options = Options(
        args.endpoint_delay,
        args.pipeline_delay,
        latency=args.latency_ms / 1000.0,
        throttle=args.throttle,
        seed=args.seed,
    )
    server = SageMakerServer(args.port, args.host, options)
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a share of calls from 0 to 1, not {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
