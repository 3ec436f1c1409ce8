"""The extended moto server: one ThreadedMotoServer on 127.0.0.1, its WSGI app wrapped to count
calls, throttle or slow them on request, and tell the extensions (extensions.py) this
server's timing options.

moto keeps its backends per process: two servers in one process share their objects. Each
server resets them when it starts, so a test that starts its own server starts empty.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

from . import extensions

OPTIONS_HEADER = "X-Mlops-Double"  # set by the middleware: which server's options apply
_ids = itertools.count(1)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass
class Options:
    """How the double behaves like the real service, per server."""

    endpoint_delay: float = 0.3  # seconds an endpoint is Creating / Updating before InService
    pipeline_delay: float = 0.3  # seconds a pipeline execution is Executing before it finishes
    latency: float = 0.0  # seconds added to every call (benchmarks)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per call is noise
        pass


class Traffic:
    """The WSGI middleware: counts calls by action, throttles the next n, adds latency."""

    def __init__(self, app: WSGIApp, options: Options, key: str):
        self.app, self.options, self.key = app, options, key
        self._lock = threading.Lock()
        self._throttle = 0
        self.calls: Counter[str] = Counter()

    def throttle(self, n: int) -> None:
        with self._lock:
            self._throttle = n

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        action = _action(environ)
        with self._lock:
            self.calls[action] += 1
            throttled = self._throttle > 0
            self._throttle -= 1 if throttled else 0
        if self.options.latency:
            time.sleep(self.options.latency)
        if throttled:
            return _throttled(environ, start_response)
        environ["HTTP_" + OPTIONS_HEADER.upper().replace("-", "_")] = self.key
        return self.app(environ, start_response)


def _action(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # SageMaker.CreateEndpoint
        return str(target).rsplit(".", 1)[-1]
    return f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"


def _throttled(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """What AWS answers a client over its rate: JSON APIs a ThrottlingException, S3 SlowDown."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.1")])
        return [body]
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
        b"<Message>Please reduce your request rate.</Message></Error>"
    )
    start_response("503 Slow Down", [("Content-Type", "application/xml")])
    return [body]


class SageMakerServer(ThreadedMotoServer):
    """moto's threaded server with the SageMaker extensions, on 127.0.0.1 (port 0: any free)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", options: Options | None = None):
        super().__init__(ip_address=host, port=port, verbose=False)
        self.options = options or Options()
        self.key = f"double-{next(_ids)}"
        self.traffic: Traffic | None = None

    def _server_entry(self) -> None:
        self.traffic = Traffic(DomainDispatcherApplication(create_backend_app), self.options, self.key)
        self._server = make_server(
            self._ip_address, self._port, self.traffic, threaded=True, request_handler=_Quiet
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    def start(self) -> None:
        extensions.install()
        extensions.OPTIONS[self.key] = self.options
        super().start()
        self.reset()

    def stop(self) -> None:
        super().stop()
        extensions.OPTIONS.pop(self.key, None)

    def __enter__(self) -> SageMakerServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget every object (moto's own reset) and the counts."""
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")).close()
        if self.traffic is not None:
            self.traffic.calls.clear()

    @property
    def requests(self) -> int:
        """API calls answered (or throttled) so far."""
        return sum(self.traffic.calls.values()) if self.traffic else 0

    def calls(self) -> Counter[str]:
        """API calls so far by action (`CreateEndpoint`, `GET /bucket/key`)."""
        return Counter(self.traffic.calls) if self.traffic else Counter()

    def throttle(self, n: int) -> None:
        """Answer the next n calls as AWS answers a client over its rate."""
        assert self.traffic is not None, "start the server first"
        self.traffic.throttle(n)
