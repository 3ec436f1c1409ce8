"""`mlops-decl predict` on a SageMaker endpoint, as a user runs it: the rows go through
sagemaker-runtime InvokeEndpoint to the double, which predicts with the artifact of the model
package the endpoint serves and writes SageMaker-format data capture to S3.

One project is trained and deployed for the module (a pipeline run takes seconds); each test
reads it, sends its own rows, or makes objects of its own beside it."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sagemaker_helpers import client, fake_credentials
from sagemaker_predict_project import (
    COLUMNS,
    FEATURES,
    csv_text,
    customers,
    served_artifact,
    train_and_deploy,
    write_project,
)

from mlops_decl.actions.invoke import invoke
from mlops_decl.cloud.capture import captured_columns
from mlops_decl.provider import ProviderContext, RuntimeContext
from mlops_decl.providers.sagemaker.provider import SageMakerProvider
from mlops_decl.providers.sagemaker.testserver import Options, SageMakerServer
from mlops_decl.testing.project import cli, state_ids

CAPTURE_KEY = re.compile(
    r"^mlops/capture/(?P<endpoint>[^/]+)/(?P=endpoint)/main/\d{4}/\d{2}/\d{2}/\d{2}/[^/]+\.jsonl$"
)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SageMakerServer]]:
    root = tmp_path_factory.mktemp("shop")
    with (
        fake_credentials(),
        SageMakerServer(options=Options(endpoint_delay=0.2, pipeline_delay=0.1)) as server,
    ):
        write_project(root, server, customers(200))
        run = cli(root, "apply", "--auto-approve")
        assert run.rc == 0, run.output
        train_and_deploy(root, server)
        yield root, server


def predict(root: Path, rows: list[dict[str, Any]], *extra: str, columns: list[str] = COLUMNS) -> Any:
    (root / "rows.csv").write_text(csv_text(rows, columns))
    return cli(root, "predict", "endpoint.api", "--data", "rows.csv", *extra)


def expected(
    server: SageMakerServer, endpoint: str, rows: list[dict[str, Any]]
) -> tuple[list[Any], list[float]]:
    """What the served artifact predicts here, with scikit-learn, on the same rows."""
    import pandas as pd

    found = served_artifact(server, endpoint)
    frame = pd.DataFrame.from_records(rows)[found["features"]]
    model = found["model"]
    return model.predict(frame).tolist(), [float(p) for p in model.predict_proba(frame)[:, 1]]


def capture_lines(server: SageMakerServer, endpoint: str = "") -> dict[str, list[str]]:
    """Capture files (of one endpoint, or all) by key: their lines."""
    s3 = client(server, "s3")
    prefix = f"mlops/capture/{endpoint}/" if endpoint else "mlops/capture/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts", Prefix=prefix).get("Contents", [])]
    return {k: s3.get_object(Bucket="artifacts", Key=k)["Body"].read().decode().splitlines() for k in keys}


def test_predict_answers_what_the_served_version_predicts(deployed: tuple[Path, SageMakerServer]) -> None:
    root, server = deployed
    rows = customers(30, seed=7)
    run = predict(root, rows, "--json")
    assert run.rc == 0, run.output
    got = json.loads(run.output)
    endpoint = state_ids(root)["endpoint.api"]
    predictions, scores = expected(server, endpoint, rows)
    assert (got["endpoint"], got["model"], got["version"]) == (
        "endpoint.api",
        state_ids(root)["model.churn"],
        1,
    )
    assert got["predictions"] == predictions and 0 < sum(predictions) < len(predictions)
    assert got["scores"] == pytest.approx(scores)
    # the label column in the file is ignored: the same rows without it answer the same
    again = predict(root, rows, "--json", columns=FEATURES)
    assert again.rc == 0, again.output
    assert json.loads(again.output)["predictions"] == predictions


def test_every_request_is_captured_in_sagemakers_layout_and_reads_back(
    deployed: tuple[Path, SageMakerServer],
) -> None:
    root, server = deployed
    endpoint = state_ids(root)["endpoint.api"]
    before = set(capture_lines(server, endpoint))
    rows = customers(12, seed=11)
    run = predict(root, rows, "--json")
    assert run.rc == 0, run.output
    new = {k: v for k, v in capture_lines(server, endpoint).items() if k not in before}
    assert len(new) == 1, sorted(new)
    key, lines = next(iter(new.items()))
    assert CAPTURE_KEY.match(key), key
    record = json.loads(lines[0])
    assert record["eventVersion"] == "0" and set(record["eventMetadata"]) >= {"eventId", "inferenceTime"}
    given, answered = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
    assert (given["mode"], answered["mode"]) == ("INPUT", "OUTPUT")
    # no CaptureContentTypeHeader in the config: SageMaker's default encoding, BASE64
    assert (given["encoding"], given["observedContentType"]) == ("BASE64", "application/json")
    output = json.loads(base64.b64decode(answered["data"]))
    assert output["predictions"] == json.loads(run.output)["predictions"]
    columns, requests = captured_columns(lines, ["tenure", "spend", "plan"])
    assert requests == 1
    assert columns == {c: [r[c] for r in rows] for c in ("tenure", "spend", "plan")}


def test_csv_and_json_bodies_by_position_or_by_name_answer_alike(
    deployed: tuple[Path, SageMakerServer],
) -> None:
    root, server = deployed
    endpoint = state_ids(root)["endpoint.api"]
    features = served_artifact(server, endpoint)["features"]
    rows = customers(8, seed=3)
    predictions, _ = expected(server, endpoint, rows)
    runtime = client(server, "sagemaker-runtime")
    bodies = {
        "text/csv": "".join(",".join(str(r[f]) for f in features) + "\n" for r in rows),
        "application/json": json.dumps({"instances": rows}),
        "application/json; charset=utf-8": json.dumps({"dataframe_records": rows}),
        "application/jsonlines+json": json.dumps(rows),
    }
    for content_type, body in bodies.items():
        got = runtime.invoke_endpoint(EndpointName=endpoint, Body=body.encode(), ContentType=content_type)
        assert got["ContentType"] == "application/json" and got["InvokedProductionVariant"] == "main"
        assert json.loads(got["Body"].read())["predictions"] == predictions, content_type
    split = {"dataframe_split": {"columns": features, "data": [[r[f] for f in features] for r in rows]}}
    got = runtime.invoke_endpoint(
        EndpointName=endpoint,
        Body=json.dumps(split).encode(),
        ContentType="application/json",
        Accept="text/csv",
    )
    assert got["ContentType"] == "text/csv"
    assert got["Body"].read().decode().split() == [str(p) for p in predictions]


def test_sagemakers_errors_for_a_missing_endpoint_and_rows_the_model_cannot_read(
    deployed: tuple[Path, SageMakerServer],
) -> None:
    root, server = deployed
    runtime = client(server, "sagemaker-runtime")
    with pytest.raises(ClientError) as missing:
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", Body=b"1,2", ContentType="text/csv")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Endpoint no-such-endpoint of account" in missing.value.response["Error"]["Message"]
    endpoint = state_ids(root)["endpoint.api"]
    with pytest.raises(ClientError) as refused:
        runtime.invoke_endpoint(EndpointName=endpoint, Body=b"1,2", ContentType="text/csv")
    assert refused.value.response["Error"]["Code"] == "ModelError"
    assert refused.value.response["OriginalStatusCode"] == 400
    assert "row 0 has 2 values; the model takes 5" in refused.value.response["OriginalMessage"]
    wrong = [{**customers(1)[0], "tenure": "long"}]
    with pytest.raises(ClientError) as unscorable:
        runtime.invoke_endpoint(
            EndpointName=endpoint, Body=json.dumps(wrong).encode(), ContentType="application/json"
        )
    assert unscorable.value.response["Error"]["Code"] == "ModelError"
    assert "the model cannot score these rows: ValueError" in unscorable.value.response["OriginalMessage"]
    # through the CLI: one error naming the column the rows lack, no traceback
    run = predict(root, customers(3), columns=["customer_id", "ts", "tenure", "spend"])
    assert run.rc == 1
    assert (
        "endpoint.api: endpoint" in run.output and "the rows lack the model's feature(s) plan" in run.output
    )
    assert "Traceback" not in run.output


def test_no_capture_is_refused_on_an_endpoint_that_captures(deployed: tuple[Path, SageMakerServer]) -> None:
    root, server = deployed
    endpoint = state_ids(root)["endpoint.api"]
    before = capture_lines(server, endpoint)
    run = predict(root, customers(3), "--no-capture")
    assert run.rc == 1
    assert "SageMaker cannot leave one request out of data capture" in run.output
    assert "hint: predict without --no-capture" in run.output
    assert capture_lines(server, endpoint) == before  # nothing was sent


def test_an_endpoint_still_creating_is_not_in_service(deployed: tuple[Path, SageMakerServer]) -> None:
    root, server = deployed
    sm, runtime = client(server, "sagemaker"), client(server, "sagemaker-runtime")
    live = sm.describe_endpoint(EndpointName=state_ids(root)["endpoint.api"])
    server.options.endpoint_delay = 60.0  # this server's next endpoint stays Creating
    try:
        sm.create_endpoint(EndpointName="slow", EndpointConfigName=live["EndpointConfigName"])
        with pytest.raises(ClientError) as creating:
            runtime.invoke_endpoint(EndpointName="slow", Body=b"{}", ContentType="application/json")
    finally:
        server.options.endpoint_delay = 0.2
    assert creating.value.response["Error"]["Code"] == "ValidationError"
    assert "is not in service (status Creating)" in creating.value.response["Error"]["Message"]


def test_no_capture_predicts_on_an_endpoint_that_captures_nothing(
    deployed: tuple[Path, SageMakerServer],
) -> None:
    """An endpoint whose config has no DataCaptureConfig: --no-capture is honoured, since
    nothing is captured anyway."""
    root, server = deployed
    sm = client(server, "sagemaker")
    live = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName=state_ids(root)["endpoint.api"])[
            "EndpointConfigName"
        ]
    )
    sm.create_endpoint_config(EndpointConfigName="quiet", ProductionVariants=live["ProductionVariants"])
    sm.create_endpoint(EndpointName="quiet", EndpointConfigName="quiet")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="quiet", WaiterConfig={"Delay": 1})
    settings = json.loads((root / "mlops.yaml").read_text())["providers"]["sagemaker"]
    provider = SageMakerProvider()
    provider.configure(settings, ProviderContext(project_dir=root, data_dir=root / ".mlops", project="shop"))
    rows = customers(6, seed=13)
    before = capture_lines(server)
    try:
        got = invoke(
            provider,
            "sagemaker",
            "endpoint.quiet",
            "endpoint",
            "predict",
            "quiet",
            {"model": state_ids(root)["model.churn"]},
            RuntimeContext(root, "hash", None, "test"),
            rows=rows,
            capture=False,
        )
    finally:
        provider.close()
    assert got.predictions == expected(server, "quiet", rows)[0] and got.version == 1
    assert capture_lines(server) == before


def test_an_endpoint_updating_keeps_answering_on_its_old_config(
    deployed: tuple[Path, SageMakerServer],
) -> None:
    root, server = deployed
    sm, runtime = client(server, "sagemaker"), client(server, "sagemaker-runtime")
    live = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName=state_ids(root)["endpoint.api"])[
            "EndpointConfigName"
        ]
    )
    for name in ("moving-a", "moving-b"):
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=live["ProductionVariants"])
    sm.create_endpoint(EndpointName="moving", EndpointConfigName="moving-a")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="moving", WaiterConfig={"Delay": 1})
    server.options.endpoint_delay = 60.0
    try:
        sm.update_endpoint(EndpointName="moving", EndpointConfigName="moving-b")
        rows = customers(4, seed=17)
        got = runtime.invoke_endpoint(
            EndpointName="moving", Body=json.dumps(rows).encode(), ContentType="application/json"
        )
        status = sm.describe_endpoint(EndpointName="moving")["EndpointStatus"]
    finally:
        server.options.endpoint_delay = 0.2
    assert status == "Updating"
    assert json.loads(got["Body"].read())["predictions"] == expected(server, "moving", rows)[0]
