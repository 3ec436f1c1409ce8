"""The `s3` state backend (docs/state.md): state in a versioned bucket, locked by an S3
conditional write or a DynamoDB conditional put, the audit log beside the state.

    backend:
      type: s3
      bucket: acme-mlops-state
      key: churn/state.json
      region: eu-west-1
      dynamodb_table: mlops-locks     # optional; without it the lock is the object KEY.lock

Needs boto3 (`pip install 'mlops-decl[s3]'`). `validate` reads only the settings schema and
checks below; boto3 is imported on the first call to AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from mlops_decl.state.model import StateError
from mlops_decl.state.plugins import BackendMissing, SettingsProblem

if TYPE_CHECKING:
    from mlops_decl.state.s3.lock import RemoteLock

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
INSTALL = "pip install 'mlops-decl[s3]'"


def _string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


class S3StateBackend:
    def __init__(self, settings: Mapping[str, Any]):
        from mlops_decl.state.s3.audit import S3AuditStore
        from mlops_decl.state.s3.remote import Remote
        from mlops_decl.state.s3.store import S3StateStore

        self.remote = Remote(settings)
        self.store = S3StateStore(self.remote)
        self.audit = S3AuditStore(self.remote)
        self.use_lockfile = bool(settings.get("use_lockfile", not settings.get("dynamodb_table")))
        self._state_lock: RemoteLock | None = None

    def lock(self, name: str | None = None) -> RemoteLock:
        from urllib.parse import quote

        from mlops_decl.state.s3.lock import ObjectRecord, Record, RemoteLock, TableRecord

        if name is None and self._state_lock is not None:
            return self._state_lock
        if name is not None and (not name or name.startswith("/") or ".." in name.split("/")):
            raise ValueError(f"a lock name is a relative path without `..`, not {name!r}")
        r = self.remote
        suffix = ".lock" if name is None else f".locks/{quote(name, safe='')}"
        records: list[Record] = []
        if self.use_lockfile:
            records.append(ObjectRecord(r, r.key + suffix))
        if r.table:
            # The state lock's LockID is Terraform's (bucket/key), so one table serves both tools.
            lock_id = f"{r.bucket}/{r.key}" + ("" if name is None else f".locks/{name}")
            records.append(TableRecord(r, r.table, lock_id))
        lock = RemoteLock(records, name)
        if name is None:
            self._state_lock = lock
        return lock


class S3Backend:
    name: ClassVar[str] = "s3"
    settings_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "bucket": _string("the bucket holding the state; versioning must be on"),
            "key": _string("the state object's key, e.g. churn/state.json"),
            "region": _string("the bucket's region (default: AWS_REGION or the profile's)"),
            "profile": _string(
                "the AWS profile of the credentials (default: AWS_PROFILE or the default chain)"
            ),
            "endpoint_url": _string(
                "an S3 and DynamoDB endpoint other than AWS's, e.g. http://127.0.0.1:5000"
            ),
            "dynamodb_table": _string("a DynamoDB table (partition key LockID, a string) to lock in"),
            "use_lockfile": {
                "type": "boolean",
                "description": "lock with the object KEY.lock, created only if absent (default: on "
                "unless dynamodb_table is set; with both, both are taken)",
            },
            "encrypt": {"type": "boolean", "description": "server-side encryption of every object (SSE-S3)"},
            "kms_key_id": _string("a KMS key to encrypt every object with (SSE-KMS)"),
            "use_path_style": {"type": "boolean", "description": "bucket in the path, not the host name"},
            "max_retries": {
                "type": "integer",
                "description": "retries of a throttled or failed call (default 5)",
            },
        },
        "required": ["bucket", "key"],
        "additionalProperties": False,
    }

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[SettingsProblem]:
        """What the settings schema cannot say: names AWS would refuse, a lock to take, boto3."""
        problems = []
        bucket, key = settings.get("bucket"), settings.get("key")
        if isinstance(bucket, str) and (not _BUCKET.fullmatch(bucket) or ".." in bucket):
            problems.append(
                SettingsProblem(
                    ("bucket",),
                    f"`{bucket}` is not a bucket name",
                    "3 to 63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit",
                )
            )
        if isinstance(key, str) and (not key.strip() or key.startswith("/") or key.endswith("/")):
            problems.append(
                SettingsProblem(
                    ("key",), f"`{key}` is not an object key", "write it as a path, e.g. churn/state.json"
                )
            )
        if settings.get("use_lockfile") is False and not settings.get("dynamodb_table"):
            problems.append(
                SettingsProblem(
                    ("use_lockfile",),
                    "the s3 backend needs a lock, and `use_lockfile: false` leaves it none",
                    "drop `use_lockfile: false`, or set `dynamodb_table:` (a table with a string partition key LockID)",
                )
            )
        endpoint = settings.get("endpoint_url")
        if isinstance(endpoint, str) and not endpoint.startswith(("http://", "https://")):
            problems.append(
                SettingsProblem(
                    ("endpoint_url",), f"`{endpoint}` is not a URL", "write it with http:// or https://"
                )
            )
        retries = settings.get("max_retries")
        if isinstance(retries, int) and not isinstance(retries, bool) and retries < 0:
            problems.append(SettingsProblem(("max_retries",), "`max_retries` must be 0 or more"))
        if find_spec("boto3") is None:
            problems.append(
                SettingsProblem(("type",), "the `s3` state backend needs boto3", f"install it: {INSTALL}")
            )
        return problems

    @classmethod
    def open(cls, project_dir: Path, settings: Mapping[str, Any]) -> S3StateBackend:
        if find_spec("boto3") is None:
            raise BackendMissing("the `s3` state backend needs boto3, which is not installed", hint=INSTALL)
        for name in ("bucket", "key"):
            if not settings.get(name):
                raise StateError(f"the `s3` backend needs `{name}` under `backend:` in mlops.yaml")
        return S3StateBackend(settings)
