"""The SageMaker Pipeline definition JSON a training_pipeline becomes: a training step (the
estimator, its hyperparameters and the training data), an evaluation step writing
evaluation.json (its metrics on the held-out split), and a register-model step that adds a
model package to the model's group with those metrics as ModelMetrics.

Plain data, no SDK: the same definition goes to SageMaker and to the local test double.
The training data is a pipeline parameter, so a run may point at another dataset version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VERSION = "2020-12-01"
TRAIN, EVALUATE, REGISTER = "Train", "Evaluate", "Register"
EVALUATION_FILE = "evaluation.json"
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}


@dataclass(frozen=True)
class PipelineSpec:
    """What the definition is built from: the resolved resource plus its `sagemaker:` block."""

    training_data: str  # s3:// URI of the training table
    label: str
    group: str  # the model package group versions are registered in
    artifacts: str  # s3:// prefix for model artifacts and evaluations
    image_uri: str
    role: str
    instance_type: str = "ml.m5.large"
    estimator: str = "sklearn.linear_model.LogisticRegression"
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = ()
    task: str | None = None
    test_size: float = 0.2
    seed: int = 42
    content_type: str = "text/csv"
    metadata: dict[str, str] = field(default_factory=dict)  # onto every model package
    record: dict[str, Any] = field(default_factory=dict)  # the resource's fields, in Metadata


def _join(*values: Any) -> dict[str, Any]:
    return {"Std:Join": {"On": "/", "Values": list(values)}}


def hyperparameters(spec: PipelineSpec) -> dict[str, str]:
    """SageMaker passes hyperparameters as strings: the estimator's JSON-encoded, ours plain."""
    out = {k: json.dumps(v) for k, v in sorted(spec.hyperparameters.items())}
    out.update(
        mlops_estimator=spec.estimator,
        mlops_label=spec.label,
        mlops_test_size=repr(spec.test_size),
        mlops_seed=str(spec.seed),
    )
    if spec.features:
        out["mlops_features"] = ",".join(spec.features)
    if spec.task:
        out["mlops_task"] = spec.task
    return out


def definition(spec: PipelineSpec) -> dict[str, Any]:
    artifacts = spec.artifacts.rstrip("/")
    evaluation = _join(f"{artifacts}/evaluation", EXECUTION_ID)
    resources = {"InstanceType": spec.instance_type, "InstanceCount": 1, "VolumeSizeInGB": 30}
    train = {
        "Name": TRAIN,
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": spec.image_uri, "TrainingInputMode": "File"},
            "HyperParameters": hyperparameters(spec),
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "ContentType": spec.content_type,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": {"Get": "Parameters.TrainingData"},
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": f"{artifacts}/models"},
            "ResourceConfig": resources,
            "RoleArn": spec.role,
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        },
    }
    model_data = {"Get": f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts"}
    evaluate = {
        "Name": EVALUATE,
        "Type": "Processing",
        "DependsOn": [TRAIN],
        "Arguments": {
            "AppSpecification": {
                "ImageUri": spec.image_uri,
                "ContainerEntrypoint": ["python3", "-m", "evaluate"],
            },
            "ProcessingResources": {"ClusterConfig": resources},
            "RoleArn": spec.role,
            "ProcessingInputs": [
                {
                    "InputName": "model",
                    "S3Input": {
                        "S3Uri": model_data,
                        "LocalPath": "/opt/ml/processing/model",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                },
                {
                    "InputName": "data",
                    "S3Input": {
                        "S3Uri": {"Get": "Parameters.TrainingData"},
                        "LocalPath": "/opt/ml/processing/data",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                },
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "evaluation",
                        "S3Output": {
                            "S3Uri": evaluation,
                            "LocalPath": "/opt/ml/processing/evaluation",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "Environment": {k: v for k, v in hyperparameters(spec).items() if k.startswith("mlops_")},
        },
        "PropertyFiles": [
            {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": EVALUATION_FILE}
        ],
    }
    register = {
        "Name": REGISTER,
        "Type": "RegisterModel",
        "DependsOn": [EVALUATE],
        "Arguments": {
            "ModelPackageGroupName": spec.group,
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [{"Image": spec.image_uri, "ModelDataUrl": model_data}],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": _join(f"{artifacts}/evaluation", EXECUTION_ID, EVALUATION_FILE),
                    }
                }
            },
            "CustomerMetadataProperties": {
                **spec.metadata,
                "mlops:training_data": {"Get": "Parameters.TrainingData"},
                "mlops:execution": EXECUTION_ID,
            },
        },
    }
    return {
        "Version": VERSION,
        "Metadata": {"mlops-decl": spec.record} if spec.record else {},
        "Parameters": [{"Name": "TrainingData", "Type": "String", "DefaultValue": spec.training_data}],
        "Steps": [train, evaluate, register],
    }


def dumps(spec: PipelineSpec) -> str:
    """The definition as SageMaker takes it (CreatePipeline's PipelineDefinition), stable
    across calls so that an unchanged resource plans no change."""
    return json.dumps(definition(spec), sort_keys=True, separators=(",", ":"))
