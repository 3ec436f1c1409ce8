"""The extended moto server: one ThreadedMotoServer on 127.0.0.1, its WSGI app wrapped to count
calls, throttle or slow them on request (faults.py), and tell the extensions (extensions.py)
this server's timing options.

moto keeps its backends per process: two servers in one process share their objects. Each
server resets them when it starts, so a test that starts its own server starts empty.
"""

from __future__ import annotations

import io
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


def _lighter_routing() -> None:
    """moto's per-request work that never changes while a server runs, done once: routing a
    request lists moto's package folders (about 180 stat calls a request), and dispatching it
    lists the response class's methods. A third of the double's CPU per call, otherwise
    spent on the same machine as the client it is measured against."""
    import moto.backends
    import moto.core.responses

    if getattr(moto.backends.list_of_moto_modules, "_cached", False):
        return
    modules = tuple(moto.backends.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    names = moto.core.responses.method_names_from_class
    known: dict[tuple[type, int], list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        key = (clazz, len(vars(clazz)))  # a method added to the class makes a new key
        found = known.get(key)
        if found is None:
            found = known[key] = names(clazz)
        return found

    list_of_moto_modules._cached = True  # type: ignore[attr-defined]
    moto.backends.list_of_moto_modules = list_of_moto_modules
    moto.core.responses.method_names_from_class = method_names_from_class


class _Quiet(WSGIRequestHandler):
    """werkzeug's handler, quiet, and keeping connections open as AWS does: werkzeug closes
    each one (it cannot tell where a request's body ends), so a client would pay a connect
    and the server a thread per call. Here a request with a Content-Length is read through
    a reader that stops at its end, and the connection stays open for the next request."""

    _keep = False
    disable_nagle_algorithm = True  # an answer's headers and body go out at once, kept alive

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per call is noise
        pass

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length", "0")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        self._keep = not chunked and length.isdigit()
        if not self._keep:
            return super().run_wsgi()
        raw, self.rfile = self.rfile, _Body(self.rfile, int(length))  # type: ignore[assignment]
        try:
            return super().run_wsgi()
        finally:
            self.rfile.read()  # the rest of this body, never the next request
            self.rfile = raw

    def send_header(self, keyword: str, value: str) -> None:
        if self._keep and keyword.lower() == "connection" and value.lower() == "close":
            return
        super().send_header(keyword, value)


class _Body(io.RawIOBase):
    """A request's body: `length` bytes of the connection, then end of file."""

    def __init__(self, raw: Any, length: int):
        self.raw, self.left = raw, length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        n = self.left if size is None or size < 0 else min(size, self.left)
        data: bytes = self.raw.read(n) if n else b""
        self.left -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        n = self.left if size is None or size < 0 else min(size, self.left)
        data: bytes = self.raw.readline(n) if n else b""
        self.left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


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
        _lighter_routing()
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
