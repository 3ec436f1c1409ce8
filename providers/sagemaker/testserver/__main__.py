"""`python -m mlops_decl.providers.sagemaker.testserver --port P`: the extended moto server on
its own, for trying examples/sagemaker offline. Prints the endpoint_url, serves until
interrupted."""

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
    args = parser.parse_args(argv)
    server = SageMakerServer(args.port, args.host, Options(args.endpoint_delay, args.pipeline_delay))
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


if __name__ == "__main__":
    sys.exit(main())
