"""Settings and a bucket for the s3 backend's tests, on moto's server (tests/conftest.py)."""

from __future__ import annotations

import os
from typing import Any

from mlops_decl.testing.aws import MotoServer

BUCKET = "mlops-state"
TABLE = "mlops-locks"


def s3_settings(lock: str = "lockfile", **more: Any) -> dict[str, Any]:
    """`backend:` settings on the test server; lock: lockfile, dynamodb or both."""
    settings: dict[str, Any] = {
        "type": "s3",
        "bucket": BUCKET,
        "key": "churn/state.json",
        "region": "us-east-1",
        "endpoint_url": os.environ["AWS_ENDPOINT_URL"],
        "max_retries": 0,
    }
    if lock in ("dynamodb", "both"):
        settings["dynamodb_table"] = TABLE
    if lock in ("dynamodb", "both"):
        settings["use_lockfile"] = lock == "both"
    return {**settings, **more}


def make_bucket(aws: MotoServer, versioned: bool = True) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    if versioned:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    aws.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
