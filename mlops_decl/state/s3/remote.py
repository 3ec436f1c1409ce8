"""The s3 backend's one door to AWS: a boto3 session of its own (never the process-wide default),
its S3 and DynamoDB clients, the few calls the backend makes, and AWS errors as state errors
with a hint. boto3 and botocore are imported here only, on the first call."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops_decl.state.model import StateError

# What a refused condition answers: S3's If-None-Match / If-Match (412), S3's "a conflicting
# conditional write is in flight" (409) and DynamoDB's ConditionExpression.
PRECONDITION = {"PreconditionFailed", "ConditionalRequestConflict", "ConditionalCheckFailedException"}
MISSING = {"NoSuchKey", "404", "NotFound"}
DENIED = {"AccessDenied", "403", "Forbidden", "AccessDeniedException", "UnrecognizedClientException"}
PERMISSIONS = (
    "s3:GetObject, s3:PutObject, s3:DeleteObject, s3:DeleteObjectVersion, s3:ListBucket, "
    "s3:ListBucketVersions, s3:GetBucketVersioning, and with dynamodb_table dynamodb:GetItem, "
    "dynamodb:PutItem, dynamodb:DeleteItem"
)


class S3BackendError(StateError):
    """The bucket, table or credentials are not usable; the hint says what to change."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class Precondition(Exception):
    """A conditional write or delete was refused: the object is not as the caller expected."""


@dataclass(frozen=True)
class Got:
    body: bytes
    etag: str
    metadata: dict[str, str]


class Remote:
    """Calls on one bucket (and lock table). Thread-safe: boto3 clients are, once built."""

    def __init__(self, settings: Mapping[str, Any]):
        self.bucket: str = settings["bucket"]
        self.key: str = settings["key"]
        self.table: str | None = settings.get("dynamodb_table")
        self.settings = dict(settings)
        self._mu = threading.Lock()
        self._clients: dict[str, Any] = {}

    # -- clients ----------------------------------------------------------------------
    def client(self, service: str) -> Any:
        with self._mu:
            if service not in self._clients:
                self._clients[service] = self._build(service)
            return self._clients[service]

    def _build(self, service: str) -> Any:
        from botocore.exceptions import BotoCoreError

        s = self.settings
        wanted = (service, s.get("profile"), s.get("region"), s.get("endpoint_url"))
        options = (int(s.get("max_retries", 5)), bool(s.get("use_path_style")))
        try:
            return _client(*wanted, *options)
        except BotoCoreError as exc:
            raise self._translate(exc, f"set up AWS access for the s3 backend ({service})") from None

    # -- calls ------------------------------------------------------------------------
    def call(self, service: str, op: str, what: str, **kwargs: Any) -> Any:
        """client.op(**kwargs); Precondition if a condition was refused; S3BackendError else."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client(service), op)(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in PRECONDITION:
                raise Precondition(what) from None
            raise self._translate(exc, what) from None
        except BotoCoreError as exc:
            raise self._translate(exc, what) from None

    def get(self, key: str) -> Got | None:
        """The object's body, ETag and metadata; None if there is none."""
        try:
            r = self.call("s3", "get_object", f"read s3://{self.bucket}/{key}", Bucket=self.bucket, Key=key)
        except _Missing:
            return None
        return Got(r["Body"].read(), r["ETag"], r.get("Metadata") or {})

    def head(self, key: str) -> Got | None:
        try:
            r = self.call(
                "s3", "head_object", f"look at s3://{self.bucket}/{key}", Bucket=self.bucket, Key=key
            )
        except _Missing:
            return None
        return Got(b"", r["ETag"], r.get("Metadata") or {})

    def put(
        self,
        key: str,
        body: bytes,
        *,
        if_match: str | None = None,
        create: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Write the object, only if its ETag is if_match, or (create) only if there is none;
        Precondition otherwise. Returns the new ETag."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body}
        kwargs["ContentType"] = "application/json"
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        if create:
            kwargs["IfNoneMatch"] = "*"
        if metadata:
            kwargs["Metadata"] = dict(metadata)
        if self.settings.get("encrypt") or self.settings.get("kms_key_id"):
            kwargs["ServerSideEncryption"] = "aws:kms" if self.settings.get("kms_key_id") else "AES256"
        if self.settings.get("kms_key_id"):
            kwargs["SSEKMSKeyId"] = self.settings["kms_key_id"]
        try:
            r = self.call("s3", "put_object", f"write s3://{self.bucket}/{key}", **kwargs)
        except _Missing:
            raise Precondition(key) from None  # If-Match on an object deleted meanwhile
        return str(r["ETag"])

    def create(self, key: str, body: bytes) -> bool:
        """Write a new object; False if one is there already."""
        try:
            self.put(key, body, create=True)
        except Precondition:
            return False
        return True

    def delete(self, key: str, if_match: str) -> bool:
        """Delete the object if its ETag is if_match; False if it is not (or is gone)."""
        try:
            self.call(
                "s3",
                "delete_object",
                f"delete s3://{self.bucket}/{key}",
                Bucket=self.bucket,
                Key=key,
                IfMatch=if_match,
            )
        except (Precondition, _Missing):
            return False
        return True

    def keys(self, prefix: str, start_after: str | None = None) -> list[str]:
        """The keys under prefix after start_after, in order."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        out: list[str] = []
        while True:
            r = self.call("s3", "list_objects_v2", f"list s3://{self.bucket}/{prefix}", **kwargs)
            out.extend(o["Key"] for o in r.get("Contents", []))
            if not r.get("IsTruncated"):
                return out
            kwargs["ContinuationToken"] = r["NextContinuationToken"]

    def versions(self, prefix: str) -> Iterator[tuple[str, str]]:
        """(key, version id) of every version and delete marker under prefix."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            r = self.call(
                "s3", "list_object_versions", f"list versions in s3://{self.bucket}/{prefix}", **kwargs
            )
            for v in [*r.get("Versions", []), *r.get("DeleteMarkers", [])]:
                yield v["Key"], v["VersionId"]
            if not r.get("IsTruncated"):
                return
            kwargs["KeyMarker"], kwargs["VersionIdMarker"] = r["NextKeyMarker"], r["NextVersionIdMarker"]

    def purge(self, versions: Sequence[tuple[str, str]]) -> None:
        """Delete these versions for good (no delete markers left behind)."""
        for i in range(0, len(versions), 1000):
            objects = [{"Key": k, "VersionId": v} for k, v in versions[i : i + 1000]]
            r = self.call(
                "s3",
                "delete_objects",
                f"delete old entries in s3://{self.bucket}",
                Bucket=self.bucket,
                Delete={"Objects": objects, "Quiet": True},
            )
            if r.get("Errors"):
                e = r["Errors"][0]
                raise S3BackendError(f"cannot delete s3://{self.bucket}/{e.get('Key')}: {e.get('Message')}")

    def bodies(self, keys: Sequence[str]) -> list[bytes | None]:
        """The bodies of keys, in order (None for one deleted meanwhile); fetched 8 at a time."""
        if len(keys) < 3:
            return [g.body if (g := self.get(k)) else None for k in keys]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=8) as pool:
            return [g.body if g else None for g in pool.map(self.get, keys)]

    def versioning(self) -> str:
        r = self.call(
            "s3",
            "get_bucket_versioning",
            f"read the versioning of bucket `{self.bucket}`",
            Bucket=self.bucket,
        )
        return str(r.get("Status") or "off")

    # -- errors -----------------------------------------------------------------------
    def _translate(self, exc: Exception, what: str) -> Exception:
        from botocore import exceptions as bx

        if isinstance(exc, bx.ClientError):
            error = exc.response.get("Error", {})
            code, message = str(error.get("Code", "")), str(error.get("Message", ""))
            if code in MISSING:
                return _Missing(what)
            if code == "NoSuchBucket":
                return S3BackendError(
                    f"cannot {what}: the bucket `{self.bucket}` does not exist",
                    hint="create it with versioning on, or correct `bucket:` under `backend:` in mlops.yaml",
                )
            if code == "ResourceNotFoundException" and self.table:
                return S3BackendError(
                    f"cannot {what}: the DynamoDB lock table `{self.table}` does not exist",
                    hint="create it with a string partition key `LockID`, or correct `dynamodb_table:`",
                )
            if code in DENIED:
                return S3BackendError(
                    f"cannot {what}: access denied ({message})", hint=f"the s3 backend needs {PERMISSIONS}"
                )
            return S3BackendError(f"cannot {what}: {code}: {message}")
        if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.ProfileNotFound)):
            return S3BackendError(
                f"cannot {what}: {exc}",
                hint="give credentials as for the AWS CLI (AWS_PROFILE, `profile:` under `backend:`, "
                "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
            )
        if isinstance(exc, bx.NoRegionError):
            return S3BackendError(
                f"cannot {what}: no AWS region",
                hint="set `region:` under `backend:` in mlops.yaml, or AWS_REGION",
            )
        if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError)):
            return S3BackendError(
                f"cannot {what}: {exc}", hint="check the network, `region:` and `endpoint_url:`"
            )
        return S3BackendError(f"cannot {what}: {exc}")


_clients: dict[tuple[Any, ...], Any] = {}
_clients_mu = threading.Lock()


def _client(
    service: str,
    profile: str | None,
    region: str | None,
    endpoint: str | None,
    retries: int,
    path_style: bool,
) -> Any:
    """A client shared by every backend of the process with these settings: building a session
    loads botocore's service models (a quarter of a second), and boto3 clients are thread-safe.
    Never boto3's default session, which other code in the process may configure."""
    key = (service, profile, region, endpoint, retries, path_style)
    with _clients_mu:
        if key not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": retries + 1},
                connect_timeout=10,
                read_timeout=60,
                s3={"addressing_style": "path" if path_style else "auto"},
            )
            session = boto3.session.Session(profile_name=profile, region_name=region)
            _clients[key] = session.client(service, endpoint_url=endpoint, config=config)
        return _clients[key]


class _Missing(S3BackendError):
    """The object is not there (callers that expect that catch it)."""
