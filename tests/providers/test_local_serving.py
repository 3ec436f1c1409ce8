"""predict, the HTTP server and the capture store on the local provider (real MLflow models)."""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
from local_versions import CHURN_STATE, log_version, runtime

from mlops_decl.actions.results import Prediction, to_json
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
    result = fn("churn_api", attrs, rt, rows=rows)
    assert isinstance(result, Prediction)
    return dict(to_json(result))


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
    from mlops_decl.providers.local.stores import capture

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
    from mlops_decl.providers.local.stores import capture

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


def test_predict_without_capture_leaves_the_capture_store_alone(local_mlflow, rt) -> None:
    from mlops_decl.providers.local.stores import capture

    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    fn = local_mlflow.action("endpoint", "predict")
    assert fn("churn_api", ENDPOINT, rt, rows=ROWS, capture=False).predictions == [1, 0]
    assert capture.read(local_mlflow.env, "churn_api") == []
    fn("churn_api", ENDPOINT, rt, rows=ROWS)
    assert len(capture.read(local_mlflow.env, "churn_api")) == 2


def test_predict_names_the_column_of_a_wrong_type(local_mlflow, rt) -> None:
    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    with pytest.raises(ProviderError, match="column `spend` takes numbers, row 1 has 'lots'") as err:
        predict(local_mlflow, rt, [ROWS[0], {**ROWS[1], "spend": "lots"}])
    assert err.value.hint == "model `churn` version 1 reads `spend` as a number"  # type: ignore[attr-defined]
    with pytest.raises(ProviderError, match="column `plan` takes a number or a string, row 0 has a dict"):
        predict(local_mlflow, rt, [{**ROWS[0], "plan": {"name": "pro"}}])
    # numbers sent as strings (as CSV gives them) are numbers
    assert predict(local_mlflow, rt, [{**r, "tenure": str(r["tenure"])} for r in ROWS])["predictions"] == [
        1,
        0,
    ]


# -- the HTTP server ---------------------------------------------------------------------


def http(
    url: str, body: bytes | None = None, content_type: str = "application/json", method: str | None = None
) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@contextmanager
def serving(provider, rt, attrs: dict[str, Any] = ENDPOINT, **options: Any) -> Iterator[str]:  # noqa: ANN001
    """The serve action in a thread, as `mlops-decl serve` runs it; yields the URL it announces,
    then stops it through `stop` and checks that it stopped."""
    stop = threading.Event()
    result: dict[str, Any] = {}
    errors: list[BaseException] = []
    fn = provider.action("endpoint", "serve")

    def run() -> None:
        try:
            result.update(to_json(fn("churn_api", attrs, rt, stop=stop, **{"port": 0, **options})))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.time() + 60
        while not [m for m in rt.emitted if m.startswith("serving ")] and thread.is_alive():
            assert time.time() < deadline, "serve did not start"
            time.sleep(0.02)
        if errors:
            raise errors[0]
        url = next(m for m in rt.emitted if m.startswith("serving ")).rsplit(" on ", 1)[1]
        yield url
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert result == {"url": url}


def captured(provider, n: int) -> list[Any]:  # noqa: ANN001
    """The endpoint's captures once there are n of them (the server writes them in batches)."""
    from mlops_decl.providers.local.stores import capture

    deadline = time.time() + 20
    rows = capture.read(provider.env, "churn_api")
    while len(rows) < n and time.time() < deadline:
        time.sleep(0.1)
        rows = capture.read(provider.env, "churn_api")
    return rows


def test_server_follows_the_alias_and_captures(local_mlflow, rt) -> None:
    with serving(local_mlflow, rt) as server:
        # no champion yet: health says so, invocations answer 503 with the hint
        assert http(f"{server}/health") == (
            200,
            {
                "status": "pending_model",
                "model": "churn",
                "version": None,
                "hint": "run `mlops-decl run training_pipeline.churn_training` then "
                "`mlops-decl promote model.churn --version N`",
                "capture": {"written": 0, "pending": 0, "dropped": 0, "error": None},
            },
        )
        code, body = http(f"{server}/invocations", json.dumps(ROWS).encode())
        assert code == 503 and body["error"].startswith("endpoint.churn_api is pending_model: no version")

        v1 = log_version(local_mlflow, "churn")
        promote(local_mlflow, rt, v1)
        health = http(f"{server}/health")[1]
        assert (health["status"], health["version"]) == ("ok", v1)
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
        # captured while serving, a batch at a time
        assert [c[0] for c in captured(local_mlflow, 10)] == [v1] * 8 + [v2] * 2
        assert http(f"{server}/health")[1]["capture"]["written"] == 10
    assert rt.emitted[0].startswith("serving endpoint.churn_api (model churn@champion pending_model")
    assert rt.emitted[0].endswith(f"on {server}")


def test_server_reads_every_content_type_mlflow_does(local_mlflow, rt) -> None:
    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    csv_body = b"tenure,spend,plan,group\n2,95,pro,a\n55,12,basic,b\n"
    columns = {k: [r[k] for r in ROWS] for k in ("tenure", "spend", "plan", "group")}
    with serving(local_mlflow, rt) as server:
        url = f"{server}/invocations"
        assert http(url, csv_body, "text/csv")[1]["predictions"] == [1, 0]
        assert http(url, csv_body, "text/csv; charset=utf-8")[1]["predictions"] == [1, 0]
        assert http(url, json.dumps({"inputs": columns}).encode())[1]["predictions"] == [1, 0]
        assert http(url, json.dumps(ROWS).encode(), "application/json; charset=utf-8")[0] == 200

        code, body = http(url, b"tenure,spend,plan,group\n2,x,pro,a\n", "text/csv")
        assert code == 400 and body["error"] == "column `spend` takes numbers, row 0 has 'x'"
        code, body = http(url, json.dumps({"instances": [{**ROWS[0], "tenure": [1]}]}).encode())
        assert (code, body["error"]) == (400, "column `tenure` takes numbers, row 0 has [1]")
        # curl -d without -H sends JSON as a form: read as JSON; a form that is not JSON is a 415
        assert http(url, json.dumps(ROWS).encode(), "application/x-www-form-urlencoded")[0] == 200
        assert http(url, b"a=1&b=2", "application/x-www-form-urlencoded")[0] == 415
        code, body = http(url, json.dumps(ROWS).encode(), "application/xml")
        assert code == 415 and body["error"] == "bad request: unsupported Content-Type `application/xml`"
        assert "text/csv" in body["hint"]
        code, body = http(url, b"tenure,spend\n1,2\n1,2,3,4\n", "text/csv")
        assert code == 400 and body["error"] == (
            "bad request: bad CSV: Error tokenizing data. C error: Expected 2 fields in line 3, saw 4"
        )
        code, body = http(
            url, json.dumps({"dataframe_split": {"columns": ["tenure"], "data": [[1, 2]]}}).encode()
        )
        assert code == 400 and "data row 0 does not have 1 values" in body["error"]


def test_server_answers_bad_requests_with_the_right_status(local_mlflow, rt) -> None:
    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    with serving(local_mlflow, rt, max_body_mb=0.001) as server:  # 1,048 bytes
        url = f"{server}/invocations"
        code, body = http(url, b"{not json")
        assert code == 400 and body["error"].startswith("bad request: bad JSON: Expecting property name")
        code, body = http(url, b'{"rows_are": "elsewhere"}')
        assert code == 400 and body["error"] == "bad request: no rows in an object with keys rows_are"
        assert "dataframe_split" in body["hint"]
        code, body = http(url, b"")
        assert code == 400 and "empty body" in body["error"]
        code, body = http(url, json.dumps([{"tenure": 1}]).encode())
        assert code == 400 and "lack column(s) spend, plan, group" in body["error"]
        code, body = http(url, json.dumps(ROWS * 20).encode())
        assert (
            code == 413
            and body["error"].startswith("the body is ")
            and "limit of 1048 bytes" in body["error"]
        )
        assert "--max-body-mb" in body["hint"]
        assert http(f"{server}/nope")[0] == 404
        code, body = http(url)  # GET
        assert (code, body["error"]) == (405, "GET is not allowed on /invocations: use POST")
        assert http(f"{server}/health", b"{}")[0] == 405
        assert http(url, json.dumps(ROWS).encode(), method="PUT")[0] == 405
        assert http(f"{server}/health")[1]["status"] == "ok"  # still serving


def test_a_large_request_does_not_stall_a_small_one(local_mlflow, rt) -> None:
    """1-row requests on one connection while another sends 5,000-row ones back to back."""
    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    columns = list(ROWS[0])
    big = json.dumps(
        {"dataframe_split": {"columns": columns, "data": [list(ROWS[i % 2].values()) for i in range(5000)]}}
    )
    small = json.dumps([ROWS[0]])
    with serving(local_mlflow, rt) as server:
        port = int(server.rsplit(":", 1)[1])

        def post(conn: HTTPConnection, body: str) -> float:
            t0 = time.monotonic()
            conn.request("POST", "/invocations", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            assert r.status == 200, r.read()
            assert len(json.loads(r.read())["predictions"]) in (1, 5000)
            return t0

        spans: list[tuple[float, float]] = []
        done = threading.Event()

        def large() -> None:
            conn = HTTPConnection("127.0.0.1", port, timeout=60)
            while not done.is_set():
                t0 = post(conn, big)
                spans.append((t0, time.monotonic()))
            conn.close()

        conn = HTTPConnection("127.0.0.1", port, timeout=60)
        post(conn, small)  # one keep-alive connection, warm
        alone = []
        for _ in range(10):
            t0 = post(conn, small)
            alone.append(time.monotonic() - t0)
        thread = threading.Thread(target=large)
        thread.start()
        smalls: list[tuple[float, float]] = []
        try:
            while len(smalls) < 40 and not (len(spans) >= 3 and len(smalls) >= 20):
                t0 = post(conn, small)
                smalls.append((t0, time.monotonic()))
                time.sleep(0.02)
        finally:
            done.set()
            thread.join(60)
            conn.close()
    during = [t1 - t0 for t0, t1 in smalls if any(b0 < t0 and t1 < b1 for b0, b1 in spans)]
    assert len(during) >= 3, (spans, smalls)  # the 1-row requests did land inside 5,000-row ones
    # Well under 100 ms on an idle 2-vCPU machine; a machine busy with other work slows a lone
    # 1-row request too, and the budget scales with it. Not stalled: far from a large one's time.
    assert statistics.median(during) < max(0.1, 4 * statistics.median(alone)), (during, alone)
    assert statistics.median(during) < 0.5 * statistics.median([b1 - b0 for b0, b1 in spans])
    total = 11 + len(smalls) + 5000 * len(spans)
    assert len(captured(local_mlflow, total)) == total


def test_scoring_does_not_wait_for_a_busy_capture_store(local_mlflow, rt) -> None:
    """Another process (a `monitor check`) holding the capture file for 3 s: requests answer
    at once all the same, and the captures land once it lets go."""
    from mlops_decl.providers.local.stores import capture

    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    predict(local_mlflow, rt, ROWS)  # the store exists
    path = local_mlflow.env.data_dir / capture.FILE
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with serving(local_mlflow, rt) as server:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            held = time.monotonic()
            for _ in range(5):
                t0 = time.monotonic()
                assert http(f"{server}/invocations", json.dumps(ROWS).encode())[0] == 200
                assert time.monotonic() - t0 < 1.0
            assert time.monotonic() - held < 3  # all answered while the file was held
            assert http(f"{server}/health")[1]["capture"]["written"] == 0
            assert len(captured(local_mlflow, 2 + 10)) == 12
    finally:
        holder.wait(10)


def test_capture_writer_is_bounded() -> None:
    import pandas as pd

    from mlops_decl.providers.local.stores import capture
    from mlops_decl.providers.local.stores.capture_writer import Writer

    class Env:  # a store that cannot be written: the queue only grows up to its bound
        data_dir = Path("/dev/null/nowhere")

    writer = Writer(Env(), max_rows=5, interval=30)  # type: ignore[arg-type]
    rows = pd.DataFrame({"x": [1, 2, 3]})
    try:
        assert writer.put(capture.Batch("api", 1, rows, [0, 1, 0]))
        assert not writer.put(capture.Batch("api", 1, rows, [0, 1, 0]))  # 6 > 5: dropped
        assert writer.stats()["pending"] + writer.stats()["dropped"] == 6
        assert not writer.flush(timeout=5) or writer.stats()["dropped"] == 6
    finally:
        writer.close(timeout=5)
    stats = writer.stats()
    assert (stats["written"], stats["pending"], stats["dropped"]) == (0, 0, 6)
    assert stats["error"] and "NotADirectoryError" in stats["error"]


def test_a_silent_client_is_cut_off_and_keep_alive_works(local_mlflow, rt) -> None:
    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    with serving(local_mlflow, rt, timeout=0.5) as server:
        port = int(server.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{")
            t0 = time.monotonic()
            answer = sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408"), answer
            assert time.monotonic() - t0 < 5
        conn = HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(3):  # one connection, three requests
            conn.request("POST", "/invocations", json.dumps(ROWS), {"Content-Type": "application/json"})
            r = conn.getresponse()
            assert r.status == 200 and not r.will_close
            r.read()
        conn.close()


def test_serve_takes_the_endpoint_port_and_refuses_a_busy_one(local_mlflow, rt) -> None:
    from mlops_decl.providers.local.serving import http_server

    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    attrs = {**ENDPOINT, "local": {"port": port}}
    with serving(local_mlflow, rt, attrs, port=None) as server:
        assert server == f"http://127.0.0.1:{port}"
        assert http(f"{server}/health")[1]["version"] == 1
        with pytest.raises(ProviderError, match=f"cannot listen on 127.0.0.1:{port}") as err:
            http_server.make_server(local_mlflow.env, "churn_api", attrs, rt)
        assert "another --port" in err.value.hint  # type: ignore[attr-defined]
    assert rt.emitted[0] == f"serving endpoint.churn_api (model churn@champion v1) on {server}"
    with pytest.raises(ProviderError, match="`99999` is not a TCP port"):
        http_server.make_server(local_mlflow.env, "churn_api", {**ENDPOINT, "local": {"port": 99999}}, rt)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "Invalid value for '--port' / '-port': 99999 is not in the range 0<=x<=65535."),
        (["--port", "http"], "Invalid value for '--port' / '-port': 'http' is not a valid integer range."),
        (["--max-body-mb", "0"], "Invalid value for '--max-body-mb': 0.0 is not in the range x>0."),
        (["--timeout", "-1"], "Invalid value for '--timeout': -1.0 is not in the range x>0."),
    ],
)
def test_serve_refuses_bad_values_as_a_usage_error(run_cli, project, args: list[str], message: str) -> None:  # noqa: ANN001
    code, out, err = run_cli(["serve", "endpoint.churn_api", *args], project)
    assert code == 2 and message in err and "Traceback" not in err


def test_captured_rows_are_plain_json_whatever_was_sent(local) -> None:
    import numpy as np
    import pandas as pd

    from mlops_decl.providers.local.stores import capture

    typed = pd.DataFrame(
        {"x": [1.5, np.inf, np.nan], "when": pd.to_datetime(["2026-01-01", None, "2026-01-02"])}
    )
    mixed = pd.DataFrame({"v": [1, "two", {"k": 3}]})  # DuckDB cannot type it: pandas writes it
    capture.write(
        local.env,
        [
            capture.Batch("api", 1, typed, [0, 1, 0], [0.1, 0.9, 0.2]),
            capture.Batch("api", 2, mixed, ["a", "b", "c"]),
        ],
    )
    rows = capture.read(local.env, "api")
    assert [(v, i, o) for v, _, i, o in rows] == [
        (1, {"x": 1.5, "when": "2026-01-01 00:00:00"}, {"prediction": 0, "score": 0.1}),
        (1, {"x": None, "when": None}, {"prediction": 1, "score": 0.9}),
        (1, {"x": None, "when": "2026-01-02 00:00:00"}, {"prediction": 0, "score": 0.2}),
        (2, {"v": 1}, {"prediction": "a"}),
        (2, {"v": "two"}, {"prediction": "b"}),
        (2, {"v": {"k": 3}}, {"prediction": "c"}),
    ]


def _base(row: dict[str, Any], **values: Any) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "extra"}, **values}


CAPTURED_ROWS = {
    # every column one type: the server appends them as columns
    "columns": [
        _base(ROWS[0], extra=1.5),
        _base(ROWS[1], extra=float("inf")),
        _base(ROWS[0], extra=float("nan")),
        _base(ROWS[1], tenure=3, extra=None),
    ],
    # a column of mixed values: the server writes them as JSON rows, as predict does
    "mixed": [_base(ROWS[0], extra="text"), _base(ROWS[1], extra=2), _base(ROWS[0], extra=None)],
}


@pytest.mark.parametrize("case", sorted(CAPTURED_ROWS))
def test_the_servers_captures_read_as_predicts_do(local_mlflow, rt, case: str) -> None:
    """`serve` appends captures as columns where it can (capture_segments.py) and a reader turns
    them into the table's JSON rows; `predict` writes JSON rows. Both read back the same."""
    from mlops_decl.providers.local.stores import capture, capture_segments

    rows = CAPTURED_ROWS[case]
    promote(local_mlflow, rt, log_version(local_mlflow, "churn"))
    predict(local_mlflow, rt, rows)
    direct = capture.read(local_mlflow.env, "churn_api")
    with serving(local_mlflow, rt) as server:
        assert http(f"{server}/invocations", json.dumps(rows, allow_nan=True).encode())[0] == 200
        if case == "columns":
            deadline = time.time() + 20
            while not capture_segments.pending(local_mlflow.env) and time.time() < deadline:
                time.sleep(0.05)
            assert capture_segments.pending(local_mlflow.env), "the server wrote no segment"
        both = captured(local_mlflow, 2 * len(rows))
    assert capture_segments.pending(local_mlflow.env) == []  # the read moved them into the table
    served = both[len(direct) :]
    assert [(v, i, o) for v, _, i, o in served] == [(v, i, o) for v, _, i, o in direct]
    if case == "columns":
        assert [r[2]["extra"] for r in served] == [1.5, None, None, None]  # no NaN or inf: not JSON
    assert len(capture.read(local_mlflow.env, "churn_api")) == 2 * len(rows)  # moved once


def test_model_arrays_are_captured_as_lists_would_be(local) -> None:
    """The server hands the writer the model's own arrays (no Python objects); a segment of them
    reads back as the same rows as lists of Python values do through predict's JSON path."""
    import numpy as np
    import pandas as pd

    from mlops_decl.providers.local.stores import capture, capture_segments

    rows = pd.DataFrame({"x": [1.5, 2.0, np.inf], "plan": ["basic", "pro", "basic"]})
    scores = np.array([0.1, 0.9, np.inf])
    arrays = [
        capture.Batch("api", 1, rows, np.array([0, 1, 0]), scores),
        capture.Batch("api", 1, rows, np.array(["a", "b", "c"]), None),
        capture.Batch("api", 1, rows, np.array([0.30000001, 2.5, 1e-7], dtype=np.float64), None),
    ]
    lists = [
        capture.Batch(
            b.endpoint, 2, b.inputs, b.predictions.tolist(), None if b.scores is None else b.scores.tolist()
        )
        for b in arrays
    ]
    # strings and numbers in one segment's column: numpy would make them strings, so both go
    # to the store's JSON path, as lists of them do
    assert capture_segments.append(local.env, arrays[1:]) == arrays[1:]
    assert all(capture_segments.append(local.env, [b]) == [] for b in arrays)  # each as columns
    assert len(capture_segments.pending(local.env)) == 3
    capture.write(local.env, lists)
    got = capture.read(local.env, "api")
    by_version = {
        v: sorted((json.dumps(i, sort_keys=True), json.dumps(o)) for w, _, i, o in got if w == v)
        for v in (1, 2)
    }
    assert len(by_version[1]) == 9 and by_version[1] == by_version[2]
    assert {"prediction": 1, "score": 0.9} in [o for _, _, _, o in got]
    assert {"prediction": 0, "score": None} in [o for _, _, _, o in got]  # inf is not JSON
