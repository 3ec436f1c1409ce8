"""predict, the HTTP server and the capture store on the local provider (real MLflow models)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from local_versions import CHURN_STATE, log_version, runtime

from mlops_decl.provider import ProviderError

ENDPOINT = {"model": "churn", "version": "champion"}
ROWS = [
    {"tenure": 2.0, "spend": 95.0, "plan": "pro", "group": "a", "extra": "ignored"},
    {"tenure": 55.0, "spend": 12.0, "plan": "basic", "group": "b", "extra": "ignored"},
]


@pytest.fixture
def rt(project):  # noqa: ANN001, ANN201
    return runtime(project, CHURN_STATE)


def predict(provider, rt, rows: list[dict[str, Any]], attrs: dict[str, Any] = ENDPOINT) -> dict[str, Any]:  # noqa: ANN001
    fn = provider.action("endpoint", "predict")
    return fn("churn_api", attrs, rt, rows=rows)


def promote(provider, rt, version: int) -> None:  # noqa: ANN001
    """Point `champion` at `version`, wherever it pointed before (no gates: not what is tested)."""
    current = provider.action("model", "list_versions")("churn", {"name": "churn"}, rt).aliases.get(
        "champion"
    )
    set_alias = provider.action("model", "set_alias")
    set_alias("churn", {"name": "churn"}, rt, alias="champion", version=version, expected_current=current)


def test_predict_on_a_pending_endpoint_says_what_to_run(local_mlflow, rt) -> None:
    with pytest.raises(ProviderError) as err:
        predict(local_mlflow, rt, ROWS)
    assert str(err.value) == "pending_model: no version of model `churn` holds alias `champion` yet"
    assert err.value.hint == (  # type: ignore[attr-defined]
        "run `mlops-decl run training_pipeline.churn_training` then `mlops-decl promote model.churn --version N`"
    )
    log_version(local_mlflow, "churn")  # trained, not promoted: the hint names the version
    with pytest.raises(ProviderError) as err:
        predict(local_mlflow, rt, ROWS)
    assert err.value.hint == "run `mlops-decl promote model.churn --version 1`"  # type: ignore[attr-defined]


def test_predict_after_promote_scores_raw_rows_and_captures_them(local_mlflow, rt) -> None:
    from mlops_decl.providers.local import capture

    v = log_version(local_mlflow, "churn")
    promote(local_mlflow, rt, v)
    out = predict(local_mlflow, rt, ROWS)
    assert out == {
        "endpoint": "endpoint.churn_api",
        "model": "churn",
        "version": v,
        "predictions": [1, 0],
        "scores": [pytest.approx(out["scores"][0]), pytest.approx(out["scores"][1])],
    }
    assert out["scores"][0] > 0.5 > out["scores"][1]
    # a missing value is captured as null, not as NaN (which is not JSON)
    predict(local_mlflow, rt, [{**ROWS[0], "spend": 50.0, "extra": float("nan")}])

    inputs = capture.read_inputs(local_mlflow.env, "churn_api")
    assert list(inputs.columns) == ["tenure", "spend", "plan", "group", "extra"]
    assert len(inputs) == 3 and inputs["plan"].tolist() == ["pro", "basic", "pro"]
    assert inputs["extra"].isna().iloc[2]
    captured = capture.read(local_mlflow.env, "churn_api")
    assert [c[0] for c in captured] == [v, v, v]
    assert captured[0][3] == {"prediction": 1, "score": pytest.approx(out["scores"][0])}
    assert capture.read_inputs(local_mlflow.env, "other").empty
    later = capture.read_inputs(local_mlflow.env, "churn_api", since=captured[-1][1])
    assert len(later) == 1


def test_predict_names_missing_columns_and_unknown_versions(local_mlflow, rt) -> None:
    v = log_version(local_mlflow, "churn")
    promote(local_mlflow, rt, v)
    with pytest.raises(ProviderError, match="lack column.s. spend, group that model `churn` version 1 needs"):
        predict(local_mlflow, rt, [{"tenure": 1.0, "plan": "pro"}])
    with pytest.raises(ProviderError, match="no rows"):
        predict(local_mlflow, rt, [])
    with pytest.raises(ProviderError, match="row 1 is not an object"):
        predict(local_mlflow, rt, [ROWS[0], [1, 2]])  # type: ignore[list-item]
    # a version number instead of an alias
    assert predict(local_mlflow, rt, ROWS, {"model": "churn", "version": 1})["version"] == 1
    with pytest.raises(ProviderError, match=r"has no version 4 \(versions: 1\)"):
        predict(local_mlflow, rt, ROWS, {"model": "churn", "version": 4})


def test_capture_writer_is_thread_safe(local_mlflow, rt) -> None:
    from mlops_decl.providers.local import capture

    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(3):
                predict(local_mlflow, rt, ROWS)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(capture.read_inputs(local_mlflow.env, "churn_api")) == 6 * 3 * len(ROWS)


# -- the HTTP server ---------------------------------------------------------------------


def http(url: str, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def server(local_mlflow, rt):  # noqa: ANN001, ANN201
    """serve() on a free port in a thread; yields its base URL; stopped through `stop`."""
    from mlops_decl.providers.local import serving

    made: list[Any] = []
    real = serving.make_server

    def spy(*args: Any) -> Any:
        made.append(real(*args))
        return made[-1]

    serving.make_server = spy  # type: ignore[assignment]
    stop = threading.Event()
    result: dict[str, Any] = {}
    fn = local_mlflow.action("endpoint", "serve")
    thread = threading.Thread(target=lambda: result.update(fn("churn_api", ENDPOINT, rt, port=0, stop=stop)))
    thread.start()
    try:
        deadline = time.time() + 30
        while not made and time.time() < deadline:
            time.sleep(0.02)
        serving.make_server = real  # type: ignore[assignment]
        url = f"http://127.0.0.1:{made[0].server_address[1]}"
        yield url
    finally:
        serving.make_server = real  # type: ignore[assignment]
        stop.set()
        thread.join(10)
        assert not thread.is_alive()
        assert result == {"url": url}


def test_server_follows_the_alias_and_captures(local_mlflow, rt, server) -> None:
    from mlops_decl.providers.local import capture

    # no champion yet: health says so, invocations answer 503 with the hint
    assert http(f"{server}/health") == (
        200,
        {
            "status": "pending_model",
            "model": "churn",
            "version": None,
            "hint": "run `mlops-decl run training_pipeline.churn_training` then "
            "`mlops-decl promote model.churn --version N`",
        },
    )
    code, body = http(f"{server}/invocations", json.dumps(ROWS).encode())
    assert code == 503 and body["error"].startswith("endpoint.churn_api is pending_model: no version")

    v1 = log_version(local_mlflow, "churn")
    promote(local_mlflow, rt, v1)
    assert http(f"{server}/health") == (200, {"status": "ok", "model": "churn", "version": v1})
    for payload in (ROWS, {"instances": ROWS}, {"dataframe_records": ROWS}):
        code, body = http(f"{server}/invocations", json.dumps(payload).encode())
        assert code == 200 and body["predictions"] == [1, 0] and body["version"] == v1
    split = {"dataframe_split": {"columns": list(ROWS[0]), "data": [list(r.values()) for r in ROWS]}}
    assert http(f"{server}/invocations", json.dumps(split).encode())[1]["predictions"] == [1, 0]

    # the alias moves while serving: the next response comes from the new version
    v2 = log_version(local_mlflow, "churn", seed=4)
    promote(local_mlflow, rt, v2)
    code, body = http(f"{server}/invocations", json.dumps(ROWS).encode())
    assert code == 200 and body["version"] == v2
    assert http(f"{server}/health")[1]["version"] == v2

    versions = [c[0] for c in capture.read(local_mlflow.env, "churn_api")]
    assert versions == [v1] * 8 + [v2] * 2
    assert rt.emitted[0].startswith("serving endpoint.churn_api (model churn@champion pending_model")
    assert rt.emitted[0].endswith(f"on {server}")


def test_server_answers_bad_requests_with_400(local_mlflow, rt, server) -> None:
    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    code, body = http(f"{server}/invocations", b"{not json")
    assert code == 400 and body["error"].startswith("bad request: Expecting property name")
    code, body = http(f"{server}/invocations", b'{"rows_are": "elsewhere"}')
    assert code == 400 and "send a JSON list of objects" in body["error"]
    code, body = http(f"{server}/invocations", b"")
    assert code == 400 and "empty body" in body["error"]
    code, body = http(f"{server}/invocations", json.dumps([{"tenure": 1}]).encode())
    assert code == 400 and "lack column(s) spend, plan, group" in body["error"]
    assert http(f"{server}/nope")[0] == 404
    assert http(f"{server}/health")[1]["status"] == "ok"  # still serving


def test_serve_announces_the_version_and_refuses_a_busy_port(local_mlflow, rt) -> None:
    from mlops_decl.providers.local import serving

    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    busy = serving.make_server(local_mlflow.env, "churn_api", ENDPOINT, rt, 0)
    try:
        port = busy.server_address[1]
        with pytest.raises(ProviderError, match=f"cannot listen on 127.0.0.1:{port}") as err:
            serving.serve(local_mlflow.env, "churn_api", ENDPOINT, rt, port)
        assert "another --port" in err.value.hint  # type: ignore[attr-defined]
    finally:
        busy.server_close()
    stop = threading.Event()
    stop.set()  # stops at once, after announcing
    out = serving.serve(local_mlflow.env, "churn_api", ENDPOINT, rt, 0, stop=stop)
    assert rt.emitted[0] == f"serving endpoint.churn_api (model churn@champion v1) on {out['url']}"
