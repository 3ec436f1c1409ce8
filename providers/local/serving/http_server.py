"""The local endpoint's HTTP server on 127.0.0.1: POST /invocations, GET /health (or /ping).

Built to stay up under load: HTTP/1.1 keep-alive with a thread per connection (a long request
never holds up another), a body limit answered with 413 before the body is read, a socket
timeout so a slow or idle client frees its thread, captures written in batches by a
background writer, and the served version re-read only when the registry database changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mlops_decl.provider import Attributes, ConfigError, ProviderError, RuntimeContext

from ..client import LocalEnv
from ..endpoint import DEFAULT_PORT
from .app import App

DEFAULT_MAX_BODY_MB = 16.0
DEFAULT_TIMEOUT = 30.0  # seconds a connection may stay silent (mid-request or idle)
_DRAIN_MAX = 64 * 2**20  # read and drop at most this much of a refused body (see _refuse)


@dataclass(frozen=True)
class Limits:
    max_body: int  # bytes
    timeout: float  # seconds


def limits(attrs: Attributes, max_body_mb: float | None, timeout: float | None) -> Limits:
    """The flags, else the endpoint's `local.max_body_mb` / `local.timeout`, else the defaults."""
    local = attrs.get("local") or {}
    mb = max_body_mb if max_body_mb is not None else local.get("max_body_mb", DEFAULT_MAX_BODY_MB)
    secs = timeout if timeout is not None else local.get("timeout", DEFAULT_TIMEOUT)
    for key, value in (("max_body_mb", mb), ("timeout", secs)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ConfigError(
                f"`{value}` is not a positive number", field=("local", key), hint=f"e.g. {key}: 16"
            )
    return Limits(max_body=int(mb * 2**20), timeout=float(secs))


def port_of(attrs: Attributes, port: int | None) -> int:
    """The flag, else the endpoint's `local.port`, else 8080; 0 picks a free port."""
    chosen = port if port is not None else (attrs.get("local") or {}).get("port", DEFAULT_PORT)
    if isinstance(chosen, bool) or not isinstance(chosen, int) or not 0 <= chosen <= 65535:
        err = ProviderError(f"`{chosen}` is not a TCP port")
        err.hint = "give a port between 1 and 65535 (0: any free port)"  # type: ignore[attr-defined]
        raise err
    return chosen


class _Reply(Exception):
    """An answer decided before scoring: status, JSON payload, whether to close after it."""

    def __init__(self, status: int, error: str, hint: str | None = None, close: bool = False):
        super().__init__(error)
        self.status, self.payload, self.close = status, {"error": error, "hint": hint}, close


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client's requests share one connection
    server_version = "mlops-decl"
    disable_nagle_algorithm = True  # no 40 ms wait for the ACK of a previous answer
    server: Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.app.limits.timeout)  # http.server closes on timeout

    def _send(
        self, code: int, payload: dict[str, Any], close: bool = False, allow: str | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        head = [
            f"{self.protocol_version} {code} {self.responses[code][0]}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            "Content-Type: application/json",
            f"Content-Length: {len(data)}",
        ]
        if allow:
            head.append(f"Allow: {allow}")
        if close:
            head.append("Connection: close")
            self.close_connection = True
        # Status, headers and body in one write: each socket call releases the GIL, and taking
        # it back from a thread that scores a large request costs a switch interval (5 ms).
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)

    def _route(self) -> str:
        path = self.path.split("?", 1)[0]
        return {"/health": "health", "/ping": "health", "/invocations": "invocations"}.get(path, "")

    def _not_allowed(self) -> None:
        route = self._route()
        if not route:
            self._send(404, {"error": "not found: POST /invocations or GET /health"})
            return
        allowed = "GET" if route == "health" else "POST"
        self._send(
            405, {"error": f"{self.command} is not allowed on {self.path}: use {allowed}"}, allow=allowed
        )

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self._route() != "health":
            self._not_allowed()
            return
        self._send(*self.server.app.health())

    do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815

    def do_POST(self) -> None:  # noqa: N802
        if self._route() != "invocations":
            self._not_allowed()
            return
        try:
            body = self._body()
        except _Reply as reply:
            self._send(reply.status, reply.payload, close=reply.close)
            return
        except TimeoutError:
            self._send(408, {"error": "the request body did not arrive in time"}, close=True)
            return
        try:
            self._send(*self.server.app.invoke(body, self.headers.get("Content-Type")))
        except (ConnectionError, TimeoutError):  # the client went away mid-answer
            self.close_connection = True
        except Exception as exc:  # never drop the connection without an answer
            self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            raise _Reply(411, "chunked bodies are not supported", "send Content-Length", close=True)
        raw = self.headers.get("Content-Length")
        if raw is None:
            raise _Reply(411, "Content-Length is required", close=True)
        try:
            length = int(raw)
            if length < 0:
                raise ValueError(raw)
        except ValueError:
            raise _Reply(400, f"bad Content-Length `{raw}`", close=True) from None
        limit = self.server.app.limits.max_body
        if length > limit:
            self._refuse(length)
            raise _Reply(
                413,
                f"the body is {length} bytes, past this endpoint's limit of {limit} bytes",
                "send fewer rows per request, or raise `serve --max-body-mb` / local.max_body_mb",
                close=True,
            )
        body = self.rfile.read(length)
        if len(body) < length:  # the client closed mid-body
            raise _Reply(400, "the body ended before Content-Length bytes", close=True)
        return body

    def _refuse(self, length: int) -> None:
        """Read and drop what a refused body has sent, briefly: closing a socket with unread
        data resets the connection, and the client would see a reset instead of the 413."""
        self.connection.settimeout(min(1.0, self.server.app.limits.timeout))
        left = min(length, _DRAIN_MAX)
        try:
            while left > 0:
                chunk = self.rfile.read1(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:  # timeout or reset: answer anyway
            pass

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI owns stdout
        return


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps the process alive
    request_queue_size = 128  # a burst of connections waits in the backlog, not refused

    app: App  # set once the socket is bound

    def __init__(self, address: tuple[str, int]):
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Handlers answer every error themselves; what reaches here is a client that went away
        # (BrokenPipe, reset). socketserver would print a traceback; providers never print.
        return

    def close(self) -> int:
        """Stop listening, write the captures still queued, release the registry connection;
        returns how many scored rows were not captured."""
        self.server_close()
        self.app.version.close()
        if self.app.captures is None:
            return 0
        self.app.captures.close()
        return int(self.app.captures.stats()["dropped"])


def make_server(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext | None,
    port: int | None = None,
    max_body_mb: float | None = None,
    timeout: float | None = None,
    capture: bool = True,
) -> Server:
    """An HTTP server for the endpoint on 127.0.0.1, not yet serving (see `port_of`, `limits`)."""
    chosen = port_of(attrs, port)
    lim = limits(attrs, max_body_mb, timeout)
    try:
        server = Server(("127.0.0.1", chosen))
    except OSError as exc:
        err = ProviderError(f"cannot listen on 127.0.0.1:{chosen}: {exc.strerror or exc}")
        err.hint = "pick another --port, or stop what listens there"  # type: ignore[attr-defined]
        raise err from None
    server.app = App(env, id, attrs, rt, lim, capture)
    return server
