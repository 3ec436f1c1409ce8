"""The extended moto server: one ThreadedMotoServer on 127.0.0.1, its WSGI app wrapped to count
calls, throttle or slow them on request (faults.py), and tell the extensions (extensions.py)
this server's timing options.

moto keeps its backends per process: two servers in one process share their objects. Each
server resets them when it starts, so a test that starts its own server starts empty.
"""

from __future__ import annotations

import itertools
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

from . import extensions
from .faults import OPTIONS_HEADER, Faults, Traffic

__all__ = ["OPTIONS_HEADER", "Options", "SageMakerServer"]
_ids = itertools.count(1)


@dataclass
class Options:
    """How the double behaves like the real service, per server."""

    endpoint_delay: float = 0.3  # seconds an endpoint is Creating / Updating before InService
    pipeline_delay: float = 0.3  # seconds a pipeline execution is Executing before it finishes
    latency: float = 0.0  # seconds added to every call (benchmarks)
    throttle: float = 0.0  # share of calls answered as throttled (faults.py)
    seed: int = 0  # of the throttled calls' draws


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per call is noise
        pass


class SageMakerServer(ThreadedMotoServer):
    """moto's threaded server with the SageMaker extensions, on 127.0.0.1 (port 0: any free)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", options: Options | None = None):
        super().__init__(ip_address=host, port=port, verbose=False)
        self.options = options or Options()
        self.key = f"double-{next(_ids)}"
        self.faults = Faults(self.options.throttle, self.options.latency, self.options.seed)
        self.traffic: Traffic | None = None

    def _server_entry(self) -> None:
        self.traffic = Traffic(DomainDispatcherApplication(create_backend_app), self.faults, self.key)
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
        self.faults.clear_counts()

    @property
    def requests(self) -> int:
        """API calls answered (or throttled) so far."""
        return int(self.faults.report()["requests"])

    def calls(self) -> Counter[str]:
        """API calls so far by action (`CreateEndpoint`, `GET /bucket/key`)."""
        return Counter(self.faults.report()["calls"])

    @property
    def throttled(self) -> int:
        """Calls answered as throttled so far."""
        return self.faults.throttled

    def throttle(self, n: int) -> None:
        """Answer the next n calls as AWS answers a client over its rate."""
        self.faults.set(next=n)

    def inject(
        self, throttle: float | None = None, latency: float | None = None, seed: int | None = None
    ) -> None:
        """From now on throttle a share of calls (0 to 1) and/or add `latency` seconds to
        each; a seed restarts the draws (faults.py)."""
        self.faults.set(throttle=throttle, latency=latency, seed=seed)
