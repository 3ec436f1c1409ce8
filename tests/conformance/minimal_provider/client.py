"""The only place the minimal provider talks HTTP. One client per provider instance, safe to
share between threads: every request opens its own connection."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Collection
from typing import Any

from .errors import api_error, unreachable
from .settings import Settings


class Client:
    def __init__(self, settings: Settings):
        self.base = settings.endpoint + "/v1"
        self.timeout = settings.timeout

    def call(
        self, method: str, path: str, what: str, body: Any = None, allow: Collection[int] = ()
    ) -> tuple[int, Any]:
        """(status, JSON answer); an error status not in `allow` raises a ProviderError."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            answer = _json(raw)
            if exc.code in allow:
                return exc.code, answer
            message = answer.get("error") if isinstance(answer, dict) else raw.decode(errors="replace")
            raise api_error(exc.code, str(message), what, _seconds(exc.headers.get("Retry-After"))) from None
        except (urllib.error.URLError, OSError) as exc:
            raise unreachable(getattr(exc, "reason", exc), what) from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header is not None else None
    except ValueError:  # an HTTP date: let the engine's backoff decide
        return None
