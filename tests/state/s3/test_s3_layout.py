"""What the s3 backend leaves in the bucket and the table, as an operator sees it with the AWS
CLI: the objects docs/state.md lists, Terraform's LockID, both lock styles at once, no delete
markers from compaction, encryption when asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from s3_fixtures import BUCKET, TABLE, s3_settings

from mlops_decl.state import LockHeld, LockInfo, ResourceState, holding, open_state_backend
from mlops_decl.testing.aws import MotoServer

KEY = "churn/state.json"


def _rs(name: str, **attrs: object) -> ResourceState:
    return ResourceState(f"dataset.{name}", "dataset", "local", name, dict(attrs), [])


def _keys(aws: MotoServer, prefix: str = "") -> list[str]:
    return [
        o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    ]


def _lock_ids(aws: MotoServer) -> list[str]:
    return sorted(i["LockID"]["S"] for i in aws.client("dynamodb").scan(TableName=TABLE)["Items"])


def test_one_object_per_change_then_one_snapshot_and_no_versions_left(
    bucket: MotoServer, tmp_path: Path
) -> None:
    store = open_state_backend(tmp_path, s3_settings()).store
    for i in range(3):
        store.put_resource(_rs(f"d{i}", i=i))
    assert _keys(bucket, f"{KEY}.journal/") == [f"{KEY}.journal/{n:012d}" for n in (1, 2, 3)]
    assert KEY not in _keys(bucket)  # the first changes need no snapshot: entries carry the lineage
    store.compact()
    assert _keys(bucket) == [KEY]
    head = bucket.client("s3").head_object(Bucket=BUCKET, Key=KEY)
    assert head["Metadata"] == {"serial": "3", "lineage": store.read().lineage}
    versions = bucket.client("s3").list_object_versions(Bucket=BUCKET, Prefix=f"{KEY}.journal/")
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")  # deleted for good
    store.put_resource(_rs("d9"))
    assert open_state_backend(tmp_path, s3_settings()).store.read().serial == 4  # snapshot + journal


def test_dynamodb_lock_ids_are_terraforms_and_named_locks_are_their_own_items(
    bucket: MotoServer, tmp_path: Path
) -> None:
    backend = open_state_backend(tmp_path, s3_settings("dynamodb"))
    with holding(backend.lock(), "apply"), holding(backend.lock("promotion/model.churn"), "promote"):
        assert _lock_ids(bucket) == [f"{BUCKET}/{KEY}", f"{BUCKET}/{KEY}.locks/promotion/model.churn"]
        assert not _keys(bucket)  # no lock objects in this style
    assert _lock_ids(bucket) == []


def test_with_both_styles_both_are_taken_and_a_refusal_leaves_neither(
    bucket: MotoServer, tmp_path: Path
) -> None:
    both = open_state_backend(tmp_path, s3_settings("both")).lock()
    with holding(both, "apply") as info:
        assert _keys(bucket) == [f"{KEY}.lock"] and _lock_ids(bucket) == [f"{BUCKET}/{KEY}"]
        assert both.holder() == info
    assert not _keys(bucket) and _lock_ids(bucket) == []
    # a runner still on the table alone holds it: the lock object taken first is given back
    table_only = open_state_backend(tmp_path, s3_settings("dynamodb")).lock()
    with holding(table_only, "apply") as theirs:
        with pytest.raises(LockHeld) as refused:
            both.acquire(LockInfo.new("apply", "t"))
        assert refused.value.holder == theirs
        assert not _keys(bucket)
    with holding(both, "apply"):
        pass


def test_encrypt_and_a_kms_key_apply_to_every_object(bucket: MotoServer, tmp_path: Path) -> None:
    s3 = bucket.client("s3")
    store = open_state_backend(tmp_path, s3_settings(encrypt=True)).store
    store.put_resource(_rs("a"))
    store.compact()
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ServerSideEncryption"] == "AES256"
    kms = open_state_backend(tmp_path, s3_settings(kms_key_id="alias/mlops-state"))
    with holding(kms.lock(), "apply"):
        head = s3.head_object(Bucket=BUCKET, Key=f"{KEY}.lock")
        assert head["ServerSideEncryption"] == "aws:kms" and "alias/mlops-state" in head["SSEKMSKeyId"]
