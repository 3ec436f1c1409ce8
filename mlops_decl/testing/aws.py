"""moto's server as the AWS test double (S3, DynamoDB, SageMaker): boto3 talks HTTP to it, so
botocore itself runs unmocked.

    with moto_server() as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="state-bucket")
        ...                       # subprocesses get aws.env: fake credentials and the endpoint
        aws.reset()               # POST /moto-api/reset: every service empty again

The server answers one request at a time: S3 and DynamoDB apply a conditional write (If-None-
Match, If-Match, a ConditionExpression) atomically, while moto checks the condition and then
writes in two steps, so two racing requests on a threaded server could both pass. Services
moto lacks are added to the same in-process server by giving moto's response classes the
action (moto looks the method up per request), before or after start.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["MotoServer", "moto_server"]

REGION = "us-east-1"
# Fake credentials, and no shared config files, so a developer's own AWS profile is never used.
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}


@dataclass
class MotoServer:
    endpoint_url: str

    @property
    def env(self) -> dict[str, str]:
        """Environment for a process using the server: fake credentials, region, endpoint."""
        return {**FAKE_ENV, "AWS_ENDPOINT_URL": self.endpoint_url}

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client of the server. One attempt per call: a call moto lacks answers HTTP
        500, which botocore would otherwise retry for seconds."""
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        config = Config(retries={"max_attempts": 1, "mode": "standard"})
        return session.client(service, endpoint_url=self.endpoint_url, config=config, **kwargs)

    def reset(self) -> None:
        """Forget every bucket, table and SageMaker object."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()


def _one_at_a_time(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    mu = threading.Lock()

    def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with mu:
            return list(app(environ, start_response))  # the whole body, inside the lock

    return serialised


@contextlib.contextmanager
def moto_server() -> Iterator[MotoServer]:
    """A moto server on 127.0.0.1 at a free port, stopped on exit."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass  # one line per request on stderr otherwise

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _one_at_a_time(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=Quiet)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoServer(f"http://{host}:{port}")
    finally:
        server.stop()
