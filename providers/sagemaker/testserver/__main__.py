"""`python -m mlops_decl.providers.sagemaker.testserver --port P`: the extended moto server on
its own, for trying examples/sagemaker offline. Prints the endpoint_url, serves until
interrupted. `--bucket NAME` makes an empty versioned bucket and `--put FILE=s3://bucket/key`
uploads a file (into a bucket it makes if need be), as a team's buckets and data would already
be in S3. `--throttle 0.3 --latency-ms 50` injects
faults (faults.py), for drills and benchmarks."""

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
    parser.add_argument(
        "--bucket", action="append", default=[], metavar="NAME", help="make this bucket first (repeatable)"
    )
    parser.add_argument(
        "--put",
        action="append",
        default=[],
        type=_upload,
        metavar="FILE=s3://BUCKET/KEY",
        help="upload FILE to that key once the server is up (repeatable)",
    )
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
    try:
        for bucket in args.bucket:
            _put(server.url, None, bucket, None)
        for path, bucket, key in args.put:
            _put(server.url, path, bucket, key)
    except OSError as exc:
        server.stop()
        print(f"error: cannot upload {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # botocore's answer, e.g. an invalid bucket name
        server.stop()
        print(f"error: cannot prepare S3: {exc}", file=sys.stderr)
        return 1
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _upload(text: str) -> tuple[str, str, str]:
    path, sep, uri = text.partition("=")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not sep or not uri.startswith("s3://") or not bucket or not key:
        raise argparse.ArgumentTypeError(f"FILE=s3://BUCKET/KEY, not {text!r}")
    return path, bucket, key


def _put(url: str, path: str | None, bucket: str, key: str | None) -> None:
    """Make `bucket` (versioned) unless it exists; then upload `path` to `key`, if given."""
    import boto3

    from mlops_decl.testing.aws import FAKE_ENV

    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if path is not None and key is not None:
        with open(path, "rb") as f:
            s3.put_object(Bucket=bucket, Key=key, Body=f.read())


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
