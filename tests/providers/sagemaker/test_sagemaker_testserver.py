"""The extended moto server (the SageMaker test double), through boto3: what it adds to moto
behaves as SageMaker does, and requests are checked against botocore's shapes server-side."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sagemaker_helpers import REGION, ROLE, client

from mlops_decl.providers.sagemaker.pipelines.definition import PipelineSpec, dumps

VARIANT = {"VariantName": "main", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": "s3://bucket/capture",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def wait_for(sm: Any, name: str, status: str, seconds: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        got: dict[str, Any] = sm.describe_endpoint(EndpointName=name)
        if got["EndpointStatus"] == status or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def endpoint(sm: Any, name: str = "e", config: str = "c1", count: int = 1) -> None:
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[{**VARIANT, "InitialInstanceCount": count}],
        DataCaptureConfig=CAPTURE,
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)


# -- endpoints ---------------------------------------------------------------------------
def test_an_endpoint_is_creating_for_a_moment_then_in_service_with_capture_on(sm: Any) -> None:
    endpoint(sm)
    assert sm.describe_endpoint(EndpointName="e")["EndpointStatus"] == "Creating"
    got = wait_for(sm, "e", "InService")
    assert got["EndpointStatus"] == "InService"
    assert got["DataCaptureConfig"]["CaptureStatus"] == "Started"
    assert got["DataCaptureConfig"]["DestinationS3Uri"] == "s3://bucket/capture"


def test_names_are_unique_as_on_sagemaker(sm: Any) -> None:
    endpoint(sm)
    with pytest.raises(ClientError) as model:
        sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    with pytest.raises(ClientError) as config:
        sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=[VARIANT])
    with pytest.raises(ClientError) as again:
        sm.create_endpoint(EndpointName="e", EndpointConfigName="c1")
    assert [code(model), code(config), code(again)] == ["ValidationException"] * 3
    assert "already existing endpoint" in str(again.value)


def test_update_endpoint_passes_through_updating_onto_the_new_config(sm: Any) -> None:
    endpoint(sm)
    sm.create_endpoint_config(
        EndpointConfigName="c2", ProductionVariants=[{**VARIANT, "InitialInstanceCount": 3}]
    )
    with pytest.raises(ClientError) as busy:  # still Creating
        sm.update_endpoint(EndpointName="e", EndpointConfigName="c2")
    assert "in-progress" in str(busy.value)
    wait_for(sm, "e", "InService")
    assert sm.update_endpoint(EndpointName="e", EndpointConfigName="c2")["EndpointArn"].endswith("endpoint/e")
    assert sm.describe_endpoint(EndpointName="e")["EndpointStatus"] == "Updating"
    got = wait_for(sm, "e", "InService")
    assert got["EndpointConfigName"] == "c2"
    assert got["ProductionVariants"][0]["CurrentInstanceCount"] == 3


def test_deleting_the_old_config_before_the_update_is_done_fails_the_update(sm: Any) -> None:
    endpoint(sm)
    wait_for(sm, "e", "InService")
    sm.create_endpoint_config(EndpointConfigName="c2", ProductionVariants=[VARIANT])
    sm.update_endpoint(EndpointName="e", EndpointConfigName="c2")
    sm.delete_endpoint_config(EndpointConfigName="c1")
    got = wait_for(sm, "e", "Failed")
    assert got["EndpointStatus"] == "Failed" and "c1" in got["FailureReason"]


def test_update_of_a_missing_endpoint_or_config_is_refused(sm: Any) -> None:
    with pytest.raises(ClientError) as missing:
        sm.update_endpoint(EndpointName="nope", EndpointConfigName="c1")
    assert code(missing) == "ValidationException" and "Could not find endpoint" in str(missing.value)
    endpoint(sm)
    wait_for(sm, "e", "InService")
    with pytest.raises(ClientError) as no_config:
        sm.update_endpoint(EndpointName="e", EndpointConfigName="nope")
    assert "endpoint-config/nope" in str(no_config.value)


# -- requests checked against botocore's shapes ------------------------------------------
def test_a_wrong_request_is_refused_server_side_as_botocore_refuses_it(server: Any) -> None:
    import boto3

    loose = boto3.session.Session().client(
        "sagemaker",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, parameter_validation=False),
    )

    def add_a_field(request: Any, **_: Any) -> None:  # botocore cannot serialise one itself
        request.data = json.dumps({**json.loads(request.data), "Bogus": 1}).encode()

    loose.meta.events.register("before-sign.sagemaker.DescribeEndpoint", add_a_field)
    with pytest.raises(ClientError) as unknown:
        loose.describe_endpoint(EndpointName="e")
    assert code(unknown) == "ValidationException" and "Unknown parameter" in str(unknown.value)
    with pytest.raises(ClientError) as missing:
        loose.create_model_package_group()
    assert code(missing) == "ValidationException" and "ModelPackageGroupName" in str(missing.value)
    with pytest.raises(ClientError) as wrong_type:
        loose.update_endpoint(EndpointName="e", EndpointConfigName=3)
    assert code(wrong_type) == "ValidationException" and "EndpointConfigName" in str(wrong_type.value)


# -- the model registry -------------------------------------------------------------------
def test_model_packages_delete_and_their_versions_are_never_reused(sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName="g")
    with pytest.raises(ClientError) as again:
        sm.create_model_package_group(ModelPackageGroupName="g")
    assert "already exists" in str(again.value)
    spec = {
        "Containers": [{"Image": "img"}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["application/json"],
    }
    first = sm.create_model_package(ModelPackageGroupName="g", InferenceSpecification=spec)["ModelPackageArn"]
    second = sm.create_model_package(ModelPackageGroupName="g", InferenceSpecification=spec)[
        "ModelPackageArn"
    ]
    sm.delete_model_package(ModelPackageName=second)
    third = sm.create_model_package(ModelPackageGroupName="g", InferenceSpecification=spec)["ModelPackageArn"]
    assert [first[-2:], second[-2:], third[-2:]] == ["/1", "/2", "/3"]
    listed = sm.list_model_packages(ModelPackageGroupName="g")["ModelPackageSummaryList"]
    assert [p["ModelPackageVersion"] for p in listed] == [1, 3]
    with pytest.raises(ClientError) as gone:
        sm.describe_model_package(ModelPackageName=second)
    assert code(gone) == "ValidationException"
    with pytest.raises(ClientError) as busy:
        sm.delete_model_package_group(ModelPackageGroupName="g")
    assert code(busy) == "ConflictException"
    for arn in (first, third):
        sm.delete_model_package(ModelPackageName=arn)
    sm.delete_model_package_group(ModelPackageGroupName="g")
    with pytest.raises(ClientError):
        sm.describe_model_package_group(ModelPackageGroupName="g")


def test_a_client_token_makes_a_package_create_idempotent_and_updates_keep_other_fields(sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName="g")
    args = {
        "ModelPackageGroupName": "g",
        "ClientToken": "t-1",
        "CustomerMetadataProperties": {"run": "r1"},
        "InferenceSpecification": {
            "Containers": [{"Image": "img"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    }
    arn = sm.create_model_package(**args)["ModelPackageArn"]
    assert sm.create_model_package(**args)["ModelPackageArn"] == arn
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    got = sm.describe_model_package(ModelPackageName=arn)
    assert got["ModelApprovalStatus"] == "Approved" and got["CustomerMetadataProperties"] == {"run": "r1"}


def test_tags_replace_a_key_on_groups_packages_and_feature_groups(sm: Any) -> None:
    group = sm.create_model_package_group(ModelPackageGroupName="g", Tags=[{"Key": "a", "Value": "1"}])
    package = sm.create_model_package(ModelPackageGroupName="g", ModelApprovalStatus="Approved")
    for arn in (group["ModelPackageGroupArn"], package["ModelPackageArn"]):
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "alias:champion", "Value": "1"}])
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "alias:champion", "Value": "2"}])
        tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
        assert tags["alias:champion"] == "2"
        sm.delete_tags(ResourceArn=arn, TagKeys=["alias:champion"])
        assert "alias:champion" not in {t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
    with pytest.raises(ClientError) as missing:
        sm.list_tags(ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:model-package-group/nope")
    assert code(missing) == "ValidationException"


# -- feature groups and monitoring schedules -----------------------------------------------
FEATURES = [
    {"FeatureName": "id", "FeatureType": "String"},
    {"FeatureName": "ts", "FeatureType": "String"},
    {"FeatureName": "amount", "FeatureType": "Fractional"},
]


def test_feature_groups_list_delete_and_a_missing_one_is_not_found(sm: Any) -> None:
    with pytest.raises(ClientError) as missing:
        sm.describe_feature_group(FeatureGroupName="fg")
    assert code(missing) == "ResourceNotFound"
    sm.create_feature_group(
        FeatureGroupName="fg",
        RecordIdentifierFeatureName="id",
        EventTimeFeatureName="ts",
        FeatureDefinitions=FEATURES,
        RoleArn=ROLE,
        Description="per customer",
        OfflineStoreConfig={"S3StorageConfig": {"S3Uri": "s3://bucket/offline"}},
        OnlineStoreConfig={"EnableOnlineStore": True},
    )
    sm.create_feature_group(  # online only: moto alone crashes on it
        FeatureGroupName="online",
        RecordIdentifierFeatureName="id",
        EventTimeFeatureName="ts",
        FeatureDefinitions=FEATURES,
        OnlineStoreConfig={"EnableOnlineStore": True},
    )
    got = sm.describe_feature_group(FeatureGroupName="fg")
    assert got["Description"] == "per customer" and got["OnlineStoreConfig"] == {"EnableOnlineStore": True}
    assert "OfflineStoreConfig" not in sm.describe_feature_group(FeatureGroupName="online")
    assert [g["FeatureGroupName"] for g in sm.list_feature_groups()["FeatureGroupSummaries"]] == [
        "fg",
        "online",
    ]
    sm.update_feature_group(
        FeatureGroupName="fg", FeatureAdditions=[{"FeatureName": "plan", "FeatureType": "String"}]
    )
    assert len(sm.describe_feature_group(FeatureGroupName="fg")["FeatureDefinitions"]) == 4
    sm.delete_feature_group(FeatureGroupName="fg")
    with pytest.raises(ClientError) as gone:
        sm.delete_feature_group(FeatureGroupName="fg")
    assert code(gone) == "ResourceNotFound"
    assert [g["FeatureGroupName"] for g in sm.list_feature_groups()["FeatureGroupSummaries"]] == ["online"]


def _job_definition(sm: Any, name: str = "dq") -> None:
    sm.create_data_quality_job_definition(
        JobDefinitionName=name,
        DataQualityAppSpecification={"ImageUri": "img"},
        DataQualityJobInput={"EndpointInput": {"EndpointName": "e", "LocalPath": "/opt/ml/processing/input"}},
        DataQualityJobOutputConfig={
            "MonitoringOutputs": [
                {"S3Output": {"S3Uri": "s3://bucket/reports", "LocalPath": "/opt/ml/processing/output"}}
            ]
        },
        JobResources={
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}
        },
        RoleArn=ROLE,
    )


def test_monitoring_schedules_are_created_described_listed_updated_and_deleted(sm: Any) -> None:
    config = {
        "MonitoringJobDefinitionName": "dq",
        "MonitoringType": "DataQuality",
        "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
    }
    with pytest.raises(ClientError) as no_job:
        sm.create_monitoring_schedule(MonitoringScheduleName="s", MonitoringScheduleConfig=config)
    assert "does not exist" in str(no_job.value)
    _job_definition(sm)
    with pytest.raises(ClientError) as twice:
        _job_definition(sm)
    assert code(twice) == "ResourceInUse"
    arn = sm.create_monitoring_schedule(MonitoringScheduleName="s", MonitoringScheduleConfig=config)
    assert arn["MonitoringScheduleArn"].endswith("monitoring-schedule/s")
    with pytest.raises(ClientError) as again:
        sm.create_monitoring_schedule(MonitoringScheduleName="s", MonitoringScheduleConfig=config)
    assert code(again) == "ResourceInUse"
    got = sm.describe_monitoring_schedule(MonitoringScheduleName="s")
    assert (got["MonitoringScheduleStatus"], got["EndpointName"]) == ("Scheduled", "e")
    assert [
        s["MonitoringScheduleName"]
        for s in sm.list_monitoring_schedules(EndpointName="e")["MonitoringScheduleSummaries"]
    ] == ["s"]
    assert sm.list_monitoring_schedules(EndpointName="other")["MonitoringScheduleSummaries"] == []
    daily = {**config, "ScheduleConfig": {"ScheduleExpression": "cron(0 0 ? * * *)"}}
    sm.update_monitoring_schedule(MonitoringScheduleName="s", MonitoringScheduleConfig=daily)
    expression = sm.describe_monitoring_schedule(MonitoringScheduleName="s")["MonitoringScheduleConfig"][
        "ScheduleConfig"
    ]["ScheduleExpression"]
    assert expression == "cron(0 0 ? * * *)"
    sm.delete_monitoring_schedule(MonitoringScheduleName="s")
    for call in (sm.describe_monitoring_schedule, sm.delete_monitoring_schedule):
        with pytest.raises(ClientError) as gone:
            call(MonitoringScheduleName="s")
        assert code(gone) == "ResourceNotFound"


# -- pipeline executions -------------------------------------------------------------------
ROWS = "id,amount,plan,label\n" + "".join(
    f"c{i},{(i * 7) % 50 + (20 if i % 2 else 0)},{'gold' if i % 3 else 'free'},{i % 2}\n" for i in range(60)
)


def _pipeline(sm: Any, s3: Any, label: str = "label", name: str = "p") -> str:
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="data/train.csv", Body=ROWS.encode())
    sm.create_model_package_group(ModelPackageGroupName="g")
    spec = PipelineSpec(
        training_data="s3://bucket/data/train.csv",
        label=label,
        group="g",
        artifacts="s3://bucket/runs",
        image_uri="img",
        role=ROLE,
        features=("amount", "plan"),
        hyperparameters={"C": 0.5},
    )
    sm.create_pipeline(PipelineName=name, PipelineDefinition=dumps(spec), RoleArn=ROLE)
    return name


def _finished(sm: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        got: dict[str, Any] = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if got["PipelineExecutionStatus"] != "Executing" or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def test_a_pipeline_execution_trains_evaluates_and_registers_a_package_with_its_metrics(
    sm: Any, s3: Any
) -> None:
    name = _pipeline(sm, s3)
    arn = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken="run-0001-" + "0" * 24)[
        "PipelineExecutionArn"
    ]
    assert (
        sm.start_pipeline_execution(PipelineName=name, ClientRequestToken="run-0001-" + "0" * 24)[
            "PipelineExecutionArn"
        ]
        == arn
    )
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    assert _finished(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")[
        "PipelineExecutionSteps"
    ]
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [
        ("Train", "Succeeded"),
        ("Evaluate", "Succeeded"),
        ("Register", "Succeeded"),
    ]
    package = sm.describe_model_package(ModelPackageName=steps[2]["Metadata"]["RegisterModel"]["Arn"])
    assert package["ModelPackageGroupName"] == "g" and package["ModelPackageVersion"] == 1
    execution_id = arn.rsplit("/", 1)[-1]
    assert package["CustomerMetadataProperties"]["mlops:execution"] == execution_id
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert statistics == f"s3://bucket/runs/evaluation/{execution_id}/evaluation.json"
    report = json.loads(s3.get_object(Bucket="bucket", Key=statistics[len("s3://bucket/") :])["Body"].read())
    assert set(report["metrics"]) == {"accuracy", "f1", "precision", "recall", "auc"}
    assert 0.0 <= report["metrics"]["auc"]["value"] <= 1.0 and report["evaluation"]["rows"] == 12
    model_uri = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert s3.get_object(Bucket="bucket", Key=model_uri[len("s3://bucket/") :])["ContentLength"] > 0
    # the same data and hyperparameters give the same metrics
    again = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _finished(sm, again)["PipelineExecutionStatus"] == "Succeeded"
    second = json.loads(
        s3.get_object(Bucket="bucket", Key=f"runs/evaluation/{again.rsplit('/', 1)[-1]}/evaluation.json")[
            "Body"
        ].read()
    )
    assert second["metrics"] == report["metrics"]
    assert [
        p["ModelPackageVersion"]
        for p in sm.list_model_packages(ModelPackageGroupName="g")["ModelPackageSummaryList"]
    ] == [1, 2]


def test_a_pipeline_whose_training_fails_ends_failed_with_the_reason(sm: Any, s3: Any) -> None:
    name = _pipeline(sm, s3, label="churned")
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    got = _finished(sm, arn)
    assert got["PipelineExecutionStatus"] == "Failed" and "churned" in got["FailureReason"]
    assert sm.list_model_packages(ModelPackageGroupName="g")["ModelPackageSummaryList"] == []


# -- traffic: throttling and counts ------------------------------------------------------
def test_the_next_calls_are_throttled_as_aws_throttles_and_every_call_is_counted(
    server: Any, sm: Any, s3: Any
) -> None:
    s3.create_bucket(Bucket="bucket")
    before = server.requests
    server.throttle(2)
    with pytest.raises(ClientError) as sagemaker:
        sm.list_models()
    with pytest.raises(ClientError) as storage:
        s3.head_bucket(Bucket="bucket")
    assert code(sagemaker) == "ThrottlingException"
    assert storage.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert sm.list_models()["Models"] == []
    assert server.requests - before == 3 and server.calls()["ListModels"] == 2


def test_the_server_runs_on_its_own_and_prints_its_endpoint_url() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_decl.providers.sagemaker.testserver", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")

        class Handle:
            pass

        handle = Handle()
        handle.url = url  # type: ignore[attr-defined]
        assert client(handle, "sagemaker").list_endpoints()["Endpoints"] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
