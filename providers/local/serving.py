"""Endpoints that score: `predict` and a real HTTP server on 127.0.0.1 that follows the alias."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mlops_decl.provider import Attributes, ProviderError, RuntimeContext

from . import capture
from .base import LocalEnv
from .promotion import aliases, load_model, versions


def resolve_version(env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None) -> int:
    """The version the endpoint serves now, or a ProviderError saying what to run first."""
    name, wanted = str(attrs["model"]), attrs.get("version", "champion")
    if isinstance(wanted, int) or str(wanted).isdigit():
        if int(wanted) not in versions(env, name):
            raise ProviderError(f"model `{name}` has no version {wanted}")
        return int(wanted)
    held = aliases(env, name) if env.registry.exists() else {}
    if str(wanted) in held:
        return held[str(wanted)]
    err = ProviderError(
        f"pending_model: no version of model `{name}` holds alias `{wanted}` yet"
    )
    pipeline = None
    if rt is not None:
        pipeline = next(
            (
                a
                for a, (k, _, at) in rt.resources.items()
                if k == "training_pipeline" and at.get("registers") == name
            ),
            None,
        )
    first = f"mlops-decl run {pipeline}" if pipeline else "train a version"
    err.hint = f"run `{first}` then `mlops-decl promote model.{name} --version N`"  # type: ignore[attr-defined]
    raise err


def score(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    import pandas as pd

    if not rows:
        raise ProviderError("no rows to score")
    version = resolve_version(env, id, attrs, rt)
    name = str(attrs["model"])
    model = load_model(env, name, version)
    frame = pd.DataFrame.from_records(rows)
    expected = list(getattr(model, "feature_names_in_", []))
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ProviderError(
            f"the rows lack column(s) {', '.join(missing)} that model `{name}` v{version} needs"
        )
    from .training import prepare

    X = prepare(frame[expected] if expected else frame)
    preds = [_plain(p) for p in model.predict(X)]
    scores = None
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        if proba.shape[1] == 2:
            scores = [float(p) for p in proba[:, 1]]
    outputs = [{"prediction": p, **({"score": scores[i]} if scores else {})} for i, p in enumerate(preds)]
    capture.record(env, id, version, rows, outputs)
    return {
        "endpoint": f"endpoint.{id}",
        "model": name,
        "version": version,
        "predictions": preds,
        "scores": scores,
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def predict(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    return score(env, id, attrs, rt, rows)


def rows_of(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("instances", "dataframe_records", "rows"):
            if isinstance(body.get(key), list):
                return list(body[key])
    raise ValueError('send a JSON list of objects, or {"instances": [...]}')


def make_server(
    env: LocalEnv, id: str, attrs: Attributes, rt: RuntimeContext | None, port: int
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path != "/health":
                self._send(404, {"error": "not found: GET /health or POST /invocations"})
                return
            try:
                version = resolve_version(env, id, attrs, rt)
                self._send(200, {"status": "ok", "version": version})
            except ProviderError:
                self._send(200, {"status": "pending_model", "version": None})

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/invocations":
                self._send(404, {"error": "not found: POST /invocations"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                rows = rows_of(json.loads(self.rfile.read(length) or b"null"))
            except (ValueError, json.JSONDecodeError) as exc:
                self._send(400, {"error": f"bad request: {exc}"})
                return
            try:
                result = score(env, id, attrs, rt, rows)
            except ProviderError as exc:
                self._send(503 if "pending_model" in str(exc) else 400, {"error": str(exc)})
                return
            self._send(
                200,
                {
                    "predictions": result["predictions"],
                    "scores": result["scores"],
                    "version": result["version"],
                },
            )

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI owns stdout
            return

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def serve(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    port: int,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    server = make_server(env, id, attrs, rt, port)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        version: Any = resolve_version(env, id, attrs, rt)
    except ProviderError:
        version = "none yet (pending_model)"
    rt.emit(
        f"serving endpoint.{id} (model {attrs['model']}@{attrs.get('version')}, version {version}) on {url}/invocations"
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        while not (stop and stop.is_set()):
            thread.join(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return {"url": url}
