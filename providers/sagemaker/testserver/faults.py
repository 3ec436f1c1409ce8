"""Faults the double injects, per server: a share of calls answered as AWS answers a client
over its rate, the next n calls throttled, latency added to every call, and one call whose
answer is held back (the server acts on it, the client waits: a test kills the client
there, at a chosen step of a multi-call operation). Deterministic
with a seed: the i-th call is throttled or not whatever the calls' contents (a client that
sends its calls one after another sees the same answers every run).

Set from a test (`SageMakerServer.inject(...)`), from the command line (`--throttle 0.3
--latency-ms 50 --seed 7`), or while the server runs through its control route, in the style
of moto's own `/moto-api/`:

    POST /moto-api/mlops/faults  {"throttle": 0.3, "latency_ms": 50, "seed": 7, "next": 2}
    GET  /moto-api/mlops/faults  -> the settings and the counts (calls by action, throttled)

The throttled answers are what the services send: SageMaker (a JSON API) HTTP 400 with
`{"__type": "ThrottlingException"}`, which botocore parses as that error code; S3 HTTP 503
`SlowDown`, since a HEAD's answer has no body and only its status can say it was throttled.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ROUTE = "/moto-api/mlops/faults"
OPTIONS_HEADER = "X-Mlops-Double"  # set by the middleware: which server's options apply


@dataclass
class Decision:
    delay: float  # seconds to wait before answering
    throttled: bool
    held: bool = False  # acted on, then answered only once released


class Faults:
    """What to inject, and what was injected; thread-safe (the server answers in threads)."""

    def __init__(self, throttle: float = 0.0, latency: float = 0.0, seed: int = 0):
        self._lock = threading.Lock()
        self.share = 0.0
        self.latency = 0.0
        self.seed = seed
        self._rng = random.Random(seed)
        self._next = 0  # the next n calls are throttled whatever the share
        self.calls: Counter[str] = Counter()
        self.throttled = 0
        self._hold: list[Any] | None = None  # [action, calls of it still to let through]
        self.holding = threading.Event()  # set while a call's answer is held back
        self._released = threading.Event()
        self.set(throttle=throttle, latency=latency)

    def set(
        self,
        *,
        throttle: float | None = None,
        latency: float | None = None,
        seed: int | None = None,
        next: int | None = None,
    ) -> None:
        """Change what is injected from now on; a seed restarts the sequence of draws."""
        if throttle is not None and not 0.0 <= throttle <= 1.0:
            raise ValueError(f"throttle is a share of calls, from 0 to 1, not {throttle}")
        if latency is not None and latency < 0:
            raise ValueError(f"latency is seconds >= 0, not {latency}")
        if next is not None and next < 0:
            raise ValueError(f"next is a number of calls >= 0, not {next}")
        with self._lock:
            if throttle is not None:
                self.share = float(throttle)
            if latency is not None:
                self.latency = float(latency)
            if seed is not None:
                self.seed, self._rng = int(seed), random.Random(int(seed))
            if next is not None:
                self._next = int(next)

    def hold(self, action: str, nth: int = 1) -> None:
        """The nth call of `action` from now is acted on, and its answer held back until
        release(); `holding` is set meanwhile."""
        if nth < 1:
            raise ValueError(f"nth counts calls from 1, not {nth}")
        with self._lock:
            self._hold = [action, nth]
            self.holding.clear()
            self._released.clear()

    def release(self) -> None:
        """Answer the held call (to a client that may be gone) and hold nothing more."""
        with self._lock:
            self._hold = None
            self._released.set()

    def wait_released(self) -> None:
        self._released.wait()

    def decide(self, action: str) -> Decision:
        """Count one call and say what it gets."""
        with self._lock:
            self.calls[action] += 1
            # one draw per call, even when the share is 0, so the sequence follows the call index
            draw = self._rng.random()
            throttled = self._next > 0 or draw < self.share
            if self._next > 0:
                self._next -= 1
            self.throttled += throttled
            held = False
            if self._hold is not None and self._hold[0] == action and not throttled:
                self._hold[1] -= 1
                if self._hold[1] == 0:
                    held, self._hold = True, None
                    self.holding.set()
            return Decision(self.latency, throttled, held)

    def clear_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.throttled = 0

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {
                "throttle": self.share,
                "latency_ms": self.latency * 1000.0,
                "seed": self.seed,
                "next": self._next,
                "requests": sum(self.calls.values()),
                "throttled": self.throttled,
                "calls": dict(self.calls),
            }


class Traffic:
    """The server's WSGI middleware: counts every AWS call by action, injects the faults, and
    tells the extensions which server's options apply (the OPTIONS_HEADER)."""

    def __init__(self, app: WSGIApp, faults: Faults, key: str):
        self.app, self.faults, self.key = app, faults, key

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == ROUTE:
            return control(self.faults, environ, start_response)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        decision = self.faults.decide(action_of(environ))
        if decision.delay:
            time.sleep(decision.delay)
        if decision.throttled:
            return throttled(environ, start_response)
        environ["HTTP_" + OPTIONS_HEADER.upper().replace("-", "_")] = self.key
        if decision.held:
            answer = list(self.app(environ, start_response))  # done on the server...
            self.faults.wait_released()  # ...and the client not told until released
            return answer
        return self.app(environ, start_response)


def action_of(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # SageMaker.CreateEndpoint
        return str(target).rsplit(".", 1)[-1]
    return f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"


def throttled(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
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


def control(faults: Faults, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """GET: the settings and counts; POST a JSON object to change the settings."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method == "POST":
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(size) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body is a JSON object")
            unknown = set(body) - {"throttle", "latency_ms", "seed", "next"}
            if unknown:
                raise ValueError(f"unknown fields {sorted(unknown)}: throttle, latency_ms, seed, next")
            latency_ms = _number(body, "latency_ms")
            faults.set(
                throttle=_number(body, "throttle"),
                latency=None if latency_ms is None else latency_ms / 1000.0,
                seed=None if body.get("seed") is None else int(body["seed"]),
                next=None if body.get("next") is None else int(body["next"]),
            )
        except (ValueError, TypeError) as exc:
            return _json(start_response, "400 Bad Request", {"error": str(exc)})
    elif method != "GET":
        return _json(start_response, "405 Method Not Allowed", {"error": "GET or POST"})
    return _json(start_response, "200 OK", faults.report())


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} is a number, not {value!r}")
    return float(value)


def _json(start_response: StartResponse, status: str, payload: dict[str, Any]) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(payload).encode()]
