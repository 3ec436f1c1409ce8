"""Endpoints that score: `predict`, and a real HTTP server on 127.0.0.1 that follows the alias.

The version is resolved on every call (one SQLite read), so a promotion reaches a running
server on its next request; loaded models are cached by (model, version).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from . import capture
from .base import LocalEnv
from .endpoint import resolve_version as live_version
from .versions import load_model, model_version, versions


class PendingModel(ProviderError):
    """The endpoint's alias points at no version yet: train, then promote."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def _address(rt: RuntimeContext | None, kind: str, id: str) -> str:
    found = rt.find(kind, id) if rt is not None else None
    return found[0] if found else f"{kind}.{id}"


def resolve_version(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None) -> int:
    """The version the endpoint serves now, or an error saying what to run first."""
    name, wanted = str(attrs["model"]), attrs.get("version", "champion")
    number = live_version(env, name, wanted)
    if number is not None:
        return number
    if isinstance(wanted, int) or str(wanted).isdigit():
        model_version(env, name, wanted)  # raises, naming the versions that exist
    model = _address(rt, "model", name)
    known = sorted(versions(env, name))
    if known:  # trained but never promoted
        hint = f"run `mlops-decl promote {model} --version {known[-1]}`"
    else:
        pipeline = next(
            (
                address
                for address, (kind, _, a) in (rt.resources.items() if rt is not None else [])
                if kind == "training_pipeline" and a.get("registers") == name
            ),
            None,
        )
        first = f"mlops-decl run {pipeline}" if pipeline else "mlops-decl run training_pipeline.NAME"
        hint = f"run `{first}` then `mlops-decl promote {model} --version N`"
    if str(wanted).lower() == "latest":
        message = f"pending_model: model `{name}` has no versions yet"
    else:
        message = f"pending_model: no version of model `{name}` holds alias `{wanted}` yet"
    raise PendingModel(message, hint)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _predictions(raw: Any) -> list[Any]:
    """Model output as JSON-able values: a scalar per row (a list when the model gives several)."""
    import numpy as np

    out = np.asarray(raw)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    return [_plain(v) if out.ndim == 1 else [_plain(x) for x in v] for v in out]


def score(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Score raw rows with the version the endpoint points at now, and capture them."""
    import pandas as pd

    if not isinstance(rows, list) or not rows:
        raise ProviderError("no rows to score")
    bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict)), None)
    if bad is not None:
        raise ProviderError(f"row {bad} is not an object of column: value pairs ({type(rows[bad]).__name__})")
    version = resolve_version(env, id, attrs, rt)
    name = str(attrs["model"])
    model = load_model(env, name, version)
    frame = pd.DataFrame.from_records(rows)
    # A scikit-learn Pipeline fitted on a DataFrame knows its input columns: select them, so
    # extra columns are ignored and missing ones are named.
    expected = [str(c) for c in getattr(model, "feature_names_in_", [])]
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        err = ProviderError(
            f"the rows lack column(s) {', '.join(missing)} that model `{name}` version {version} needs"
        )
        err.hint = f"version {version} takes: {', '.join(expected)}"  # type: ignore[attr-defined]
        raise err
    from .training import prepare

    X = prepare(frame[expected]) if expected else frame
    try:
        preds = _predictions(model.predict(X))
        scores = None
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(X)
            if proba.shape[1] == 2:  # binary: the positive class's probability
                scores = [float(p) for p in proba[:, 1]]
    except (ValueError, TypeError, KeyError) as exc:
        raise ProviderError(f"model `{name}` version {version} cannot score these rows: {exc}") from exc
    outputs = [{"prediction": p, **({"score": scores[i]} if scores else {})} for i, p in enumerate(preds)]
    capture.record(env, id, version, rows, outputs)
    return {
        "endpoint": _address(rt, "endpoint", id),
        "model": name,
        "version": version,
        "predictions": preds,
        "scores": scores,
    }


def predict(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    return score(env, id, attrs, rt, rows)


def rows_of(body: Any) -> list[dict[str, Any]]:
    """Rows from a request body: a list of objects, {"instances": [...]},
    {"dataframe_records": [...]} or MLflow's {"dataframe_split": {"columns", "data"}}."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("instances", "dataframe_records", "inputs", "rows"):
            if isinstance(body.get(key), list):
                return list(body[key])
        split = body.get("dataframe_split")
        if isinstance(split, dict) and isinstance(split.get("columns"), list):
            return [dict(zip(split["columns"], r, strict=False)) for r in split.get("data") or []]
    raise ValueError('send a JSON list of objects, {"instances": [...]} or {"dataframe_records": [...]}')


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client never keeps the process alive

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Handlers answer every error themselves; what reaches here is a client that went away
        # (BrokenPipe, reset). socketserver would print a traceback; providers never print.
        return


def make_server(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None, port: int
) -> ThreadingHTTPServer:
    """An HTTP server for the endpoint on 127.0.0.1:port (0: any free port), not yet serving."""
    endpoint = _address(rt, "endpoint", id)

    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] not in ("/health", "/ping"):
                self._send(404, {"error": "not found: GET /health or POST /invocations"})
                return
            code, model = 200, attrs["model"]
            try:
                payload = {"status": "ok", "model": model, "version": resolve_version(env, id, attrs, rt)}
            except PendingModel as exc:
                payload = {"status": "pending_model", "model": model, "version": None, "hint": exc.hint}
            except Exception as exc:  # the registry unreadable: say so rather than drop the line
                code, payload = 503, {"status": "error", "model": model, "version": None, "error": str(exc)}
            self._send(code, payload)

        def do_POST(self) -> None:  # noqa: N802
            if self.path.split("?")[0] != "/invocations":
                self._send(404, {"error": "not found: POST /invocations"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                if not body.strip():
                    raise ValueError("empty body")
                rows = rows_of(json.loads(body))
            except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
                self._send(400, {"error": f"bad request: {exc}"})
                return
            try:
                result = score(env, id, attrs, rt, rows)
            except PendingModel as exc:
                self._send(503, {"error": f"{endpoint} is {exc}", "hint": exc.hint})
                return
            except ProviderError as exc:
                # retryable: the registry or capture store busy in another process
                self._send(
                    503 if exc.retryable else 400, {"error": str(exc), "hint": getattr(exc, "hint", None)}
                )
                return
            except Exception as exc:  # never drop the connection without an answer
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})
                return
            self._send(
                200,
                {
                    "predictions": result["predictions"],
                    "scores": result["scores"],
                    "model": result["model"],
                    "version": result["version"],
                },
            )

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI owns stdout
            return

    try:
        return _Server(("127.0.0.1", port), Handler)
    except OSError as exc:
        err = ProviderError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
        err.hint = "pick another --port, or stop what listens there"  # type: ignore[attr-defined]
        raise err from None


def serve(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    port: int,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Serve until KeyboardInterrupt or `stop` is set; returns {"url"}."""
    server = make_server(env, id, attrs, rt, port)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        version = f"v{resolve_version(env, id, attrs, rt)}"
        load_model(env, str(attrs["model"]), int(version[1:]))  # warm: the first request is not slow
    except PendingModel:
        version = "pending_model: no version yet"
    rt.emit(
        f"serving {_address(rt, 'endpoint', id)} (model {attrs['model']}@{attrs.get('version', 'champion')} "
        f"{version}) on {url}"
    )
    rt.emit("POST /invocations, GET /health; Ctrl-C stops")
    stop = stop or threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return {"url": url}
