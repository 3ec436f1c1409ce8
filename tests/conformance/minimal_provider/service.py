"""The platform the minimal provider talks to: a small in-process REST service.

    POST   /v1/<collection>            {name, ...}  -> 201 object | 409 {error, id}
    GET    /v1/<collection>?name=N                  -> 200 {items: [...]}
    GET    /v1/<collection>/<id>                    -> 200 object | 404 (a model lists its versions)
    PATCH  /v1/<collection>/<id>       {fields}     -> 200 object | 404
    DELETE /v1/<collection>/<id>                    -> 204 | 404

Collections are `datasets` and `models`; ids are assigned by the service (`ds-1`, `m-3`), as
a cloud's ARNs are. Under load it answers 429 with Retry-After (`throttle(n)`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = {"datasets": "ds", "models": "m"}
FIELDS = {
    "datasets": ("uri", "format", "description", "tags"),
    "models": ("description", "tags"),
}


class Platform:
    """The service's data and its request counter, shared by the HTTP threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.objects: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in PREFIX}
        self.ids = itertools.count(1)
        self.requests = 0
        self.throttled = 0  # calls still to answer with 429
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- test hooks -------------------------------------------------------------------
    def throttle(self, n: int) -> None:
        with self.lock:
            self.throttled = n

    def register(self, model_id: str, run_id: str = "run-1") -> int:
        """A new version of a model, as a training job on the platform registers one."""
        with self.lock:
            model = self.objects["models"][model_id]
            number = len(model["versions"]) + 1
            created = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            model["versions"].append({"version": number, "run_id": run_id, "created": created})
            model["latest_version"] = number
            return number

    def remove(self, collection: str, id: str) -> None:
        """Delete behind the client's back (another team, the console)."""
        with self.lock:
            self.objects[collection].pop(id, None)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Platform:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- the API ------------------------------------------------------------------------
    def answer(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.requests += 1
            if self.throttled > 0:
                self.throttled -= 1
                return 429, {"error": "Rate exceeded"}
            parts = [p for p in path.split("/") if p]
            if len(parts) < 2 or parts[0] != "v1" or parts[1] not in PREFIX:
                return 404, {"error": f"no route {path}"}
            coll = self.objects[parts[1]]
            if len(parts) == 2:
                if method == "POST":
                    return self._create(parts[1], body)
                if method == "GET":
                    name = parse_qs(query).get("name", [None])[0]
                    return 200, {"items": [o for o in coll.values() if name is None or o["name"] == name]}
                return 405, {"error": f"{method} not allowed"}
            obj = coll.get(parts[2])
            if obj is None:
                return 404, {"error": f"{parts[1][:-1]} {parts[2]} not found"}
            if method == "GET":
                return 200, obj
            if method == "PATCH":
                if not isinstance(body, dict) or set(body) - set(FIELDS[parts[1]]):
                    return 400, {"error": f"can only change {', '.join(FIELDS[parts[1]])}"}
                obj.update(body)
                _stamp(parts[1], obj)
                return 200, obj
            if method == "DELETE":
                del coll[parts[2]]
                return 204, None
            return 405, {"error": f"{method} not allowed"}

    def _create(self, collection: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return 400, {"error": "a name is required"}
        unknown = set(body) - {"name", *FIELDS[collection]}
        if unknown:
            return 400, {"error": f"unknown field {sorted(unknown)[0]}"}
        for obj in self.objects[collection].values():
            if obj["name"] == body["name"]:
                return 409, {"error": f"{body['name']} already exists", "id": obj["id"]}
        obj = {field: body.get(field) for field in FIELDS[collection]}
        obj.update(
            id=f"{PREFIX[collection]}-{next(self.ids)}",
            name=body["name"],
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        obj["tags"] = obj["tags"] or {}
        _stamp(collection, obj)
        self.objects[collection][obj["id"]] = obj
        return 201, obj


def _stamp(collection: str, obj: dict[str, Any]) -> None:
    """What the service computes: a dataset's version, a model's (empty) version list."""
    if collection == "datasets":
        obj["version"] = hashlib.sha256(f"{obj['uri']}|{obj['format']}".encode()).hexdigest()[:16]
    else:
        obj.setdefault("latest_version", None)
        obj.setdefault("aliases", {})
        obj.setdefault("versions", [])


def _handler_for(platform: Platform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                status, data = 400, {"error": "the body is not JSON"}
            else:
                status, data = platform.answer(self.command, url.path, url.query, body)
            out = b"" if data is None else json.dumps(data).encode()
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests parse output
            return None

    return Handler
