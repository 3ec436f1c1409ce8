"""The local server answers small requests that queue together with one model call, and each
request keeps its own answer, capture and errors (real MLflow models, the server's App)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from local_versions import CHURN_STATE, log_version, runtime

from mlops_decl.providers.local.serving import scoring
from mlops_decl.providers.local.serving.http_server import Server, make_server

ENDPOINT = {"model": "churn", "version": "champion"}
ROWS = [
    {"tenure": 2.0, "spend": 95.0, "plan": "pro", "group": "a"},
    {"tenure": 55.0, "spend": 12.0, "plan": "basic", "group": "b"},
    {"tenure": 20.0, "spend": 40.0, "plan": "pro", "group": "a"},
]


@pytest.fixture
def server(local_mlflow, project) -> Iterator[Server]:  # noqa: ANN001
    rt = runtime(project, CHURN_STATE)
    version = log_version(local_mlflow, "churn")
    local_mlflow.action("model", "set_alias")(
        "churn", {"name": "churn"}, rt, alias="champion", version=version, expected_current=None
    )
    srv = make_server(local_mlflow.env, "churn_api", ENDPOINT, rt, port=0)
    try:
        yield srv
    finally:
        srv.close()


def body(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps(rows).encode()


def together(srv: Server, bodies: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
    """Each body invoked from its own thread while the test holds the turn, so that all of
    them queue before any is answered; the answers in the bodies' order."""
    answers: list[Any] = [None] * len(bodies)

    def call(i: int) -> None:
        answers[i] = srv.app.invoke(bodies[i], "application/json")

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(bodies))]
    with srv.app.turns():
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(srv.app._waiting) < len(bodies):
            assert time.monotonic() < deadline, "the requests did not queue"
            time.sleep(0.01)
    for t in threads:
        t.join(30)
    return answers


@pytest.fixture
def model_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row count of every call of the model."""
    calls: list[int] = []
    real = scoring._outputs

    def counted(model: Any, X: Any) -> Any:
        calls.append(len(X))
        return real(model, X)

    monkeypatch.setattr(scoring, "_outputs", counted)
    return calls


def test_queued_small_requests_share_one_model_call(server: Server, model_calls: list[int]) -> None:
    bodies = [body(ROWS[:1]), body(ROWS[1:]), body(ROWS[::-1]), body(ROWS[2:])]
    alone = [server.app.invoke(b, "application/json") for b in bodies]
    assert model_calls == [1, 2, 3, 1]
    model_calls.clear()

    answers = together(server, bodies)
    assert model_calls == [7]  # one call for the four requests' 7 rows
    for (code, got), (_, want) in zip(answers, alone, strict=True):
        assert code == 200
        assert got["predictions"] == want["predictions"]
        assert got["scores"] == pytest.approx(want["scores"], abs=1e-12)
    assert [len(a[1]["predictions"]) for a in answers] == [1, 2, 3, 1]

    server.app.captures.flush()  # type: ignore[union-attr]
    assert server.app.captures.stats()["written"] == 2 * 7  # type: ignore[union-attr]


def test_a_bad_request_in_company_gets_its_own_error(server: Server, model_calls: list[int]) -> None:
    wrong_type = [{**ROWS[0], "tenure": "long"}]
    missing = [{"spend": 1.0, "plan": "pro"}]
    answers = together(server, [body(ROWS), body(wrong_type), b"{not json", body(missing), body(ROWS[:1])])
    assert [code for code, _ in answers] == [200, 400, 400, 400, 200]
    assert "column `tenure` takes numbers, row 0 has 'long'" in answers[1][1]["error"]
    assert answers[2][1]["error"].startswith("bad request: bad JSON")
    assert "lack column(s) tenure" in answers[3][1]["error"]
    assert model_calls == [4]  # the two good requests, together
    assert [len(a[1]["predictions"]) for a in (answers[0], answers[4])] == [3, 1]


def test_a_batch_the_model_refuses_is_scored_request_by_request(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model fails on one request's rows: in company, the others are still answered and the
    failure is that request's alone."""
    real = scoring._outputs
    calls: list[int] = []

    def picky(model: Any, X: Any) -> Any:
        calls.append(len(X))
        if (X["spend"] == 13.0).any():
            raise ValueError("spend 13 is unlucky")
        return real(model, X)

    monkeypatch.setattr(scoring, "_outputs", picky)
    unlucky = [{**ROWS[0], "spend": 13.0}]
    answers = together(server, [body(ROWS[:2]), body(unlucky), body(ROWS[2:])])
    assert calls == [4, 2, 1, 1]  # together, then each alone
    assert [code for code, _ in answers] == [200, 400, 200]
    assert answers[1][1]["error"] == "model `churn` version 1 cannot score these rows: spend 13 is unlucky"


def test_a_request_too_large_to_share_takes_turns_alone(server: Server, model_calls: list[int]) -> None:
    large = body(ROWS * 1200)  # past WHOLE_TURN_BYTES: parsed and scored in steps, never batched
    code, answer = server.app.invoke(large, "application/json")
    assert code == 200 and len(answer["predictions"]) == 3600
    assert model_calls == [1000, 1000, 1000, 600]
