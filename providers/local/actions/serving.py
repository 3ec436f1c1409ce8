"""The endpoint actions on the local provider: `predict` (score rows, capturing them) and
`serve` (the HTTP server, serving/http_server.py), both following the endpoint's alias."""

from __future__ import annotations

import threading
from typing import Any

from mlops_decl.actions.results import Prediction, Served
from mlops_decl.provider import Attributes, RuntimeContext

from ..client import LocalEnv
from ..serving.models import load_model
from ..serving.scoring import PendingModel, address, resolve_version, score
from ..stores.capture import write as write_captures


def predict(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    rows: list[dict[str, Any]],
    capture: bool = True,
) -> Prediction:
    """Score rows; with capture=False they stay out of the capture store (and drift checks)."""
    sink = (lambda batch: write_captures(env, [batch])) if capture else None
    out = score(env, id, attrs, rt, rows, sink=sink)
    return Prediction(out["endpoint"], out["model"], out["version"], out["predictions"], out["scores"])


def serve(
    env: LocalEnv,
    id: str,
    attrs: Attributes,
    rt: RuntimeContext,
    port: int | None = None,
    stop: threading.Event | None = None,
    max_body_mb: float | None = None,
    timeout: float | None = None,
    capture: bool = True,
) -> Served:
    """Serve until KeyboardInterrupt or `stop` is set; returns where it served. `port` None: the
    endpoint's `local.port`, else 8080; 0: any free port. capture=False: nothing scored
    reaches the capture store."""
    from ..serving.http_server import make_server

    server = make_server(env, id, attrs, rt, port, max_body_mb, timeout, capture)
    url = server.url
    try:
        version = f"v{resolve_version(env, id, attrs, rt)}"
        load_model(env, str(attrs["model"]), int(version[1:]))  # warm: the first request is not slow
    except PendingModel:
        version = "pending_model: no version yet"
    rt.emit(
        f"serving {address(rt, 'endpoint', id)} (model {attrs['model']}@{attrs.get('version', 'champion')} "
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
        dropped = server.close()
    if dropped:
        rt.emit(f"capture: {dropped} scored rows not captured (the capture store was full or failing)")
    return Served(url)
