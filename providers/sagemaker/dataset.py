"""dataset: an S3 object (`uri: s3://bucket/key`, CSV or parquet) the user uploads.

Creating the dataset registers the object: a tag on it, keyed by the resource's identity,
holds the version registered (the object's VersionId, its ETag when the bucket is not
versioned), so several projects can register one object. read() answers that version and
the object's version now (`latest_version`); plan() puts the latter as the version, so new
data shows as a change on `version` and the update registers it. Columns and rows come from
ranged reads (a CSV's first kilobytes and a streamed count, a parquet's footer), never a
whole download. Deleting the dataset removes the registration, never the data.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.cloud.naming import idempotency_token
from mlops_decl.cloud.objects import table_facts
from mlops_decl.cloud.overlap import together
from mlops_decl.operation import Operation
from mlops_decl.provider import DETACHED, UNKNOWN, Attributes, ConfigError, Planned

from .base import SageMakerHandler, public, range_reader
from .client import call, found

COUNT_LIMIT = 64 << 20  # bytes: a larger CSV's rows are not counted (it would be read whole)
FACTS = ("version", "latest_version", "size", "columns", "rows")
SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/key` or `arn:aws:s3:::bucket/key`."""
    if uri.startswith("arn:") and ":s3:::" in uri:
        uri = "s3://" + uri.split(":s3:::", 1)[1]
    if not uri.startswith("s3://"):
        raise ConfigError(f"`{uri}` is not an S3 URI", field=("uri",), hint="write it as s3://bucket/key")
    bucket, _, key = uri[5:].partition("/")
    if not bucket or not key or key.endswith("/"):
        raise ConfigError(f"`{uri}` names no object", field=("uri",), hint="write it as s3://bucket/key")
    return bucket, key


def format_of(uri: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    for suffix, name in SUFFIXES.items():
        if uri.endswith(suffix):
            return name
    raise ConfigError(
        f"cannot tell the format of `{uri}` from its name",
        field=("format",),
        hint="set format: csv or parquet",
    )


def _registration_key(identity: str) -> str:
    return "mlops-decl:dataset:" + idempotency_token(identity, length=16)


class DatasetHandler(SageMakerHandler):
    kind = "dataset"
    idempotent_create = True  # names from the identity: a retried create adopts its object
    force_new = frozenset({"uri"})
    computed = frozenset({"id", *FACTS})

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned:
        planned = public(desired)
        uri = str(planned.get("uri", ""))
        split_uri(uri)
        format_of(uri, planned.get("format"))
        if prior and prior.get("uri") == uri:
            latest = prior.get("latest_version")
            planned.update(version=latest, latest_version=latest)
            same = latest == prior.get("version")
            for key in ("size", "columns", "rows"):
                planned[key] = prior.get(key) if same else UNKNOWN
        return Planned(planned)

    # -- the object ---------------------------------------------------------------------
    def _head(self, uri: str) -> dict[str, Any] | None:
        bucket, key = split_uri(uri)
        got: dict[str, Any] | None = found(self.clients.s3.head_object, f"read {uri}", Bucket=bucket, Key=key)
        return got

    def _tags(self, uri: str) -> dict[str, str]:
        bucket, key = split_uri(uri)
        got = call(self.clients.s3.get_object_tagging, f"read the tags of {uri}", Bucket=bucket, Key=key)
        return {t["Key"]: t["Value"] for t in got.get("TagSet") or []}

    def _facts(self, uri: str, fmt: str, head: dict[str, Any]) -> Attributes:
        bucket, key = split_uri(uri)
        version_id = head.get("VersionId")
        size = int(head.get("ContentLength") or 0)
        pinned = {"VersionId": version_id} if version_id and version_id != "null" else {}
        read = range_reader(self.clients, bucket, key, **pinned)

        try:
            facts = table_facts(read, size, fmt, count_rows=size <= COUNT_LIMIT) if size else None
        except (ValueError, OSError) as exc:  # pyarrow's errors are ValueErrors and OSErrors
            raise ConfigError(f"{uri} does not read as {fmt}: {exc}", field=("format",)) from None
        version = _version(head)
        return {
            "version": version,
            "latest_version": version,
            "size": size,
            "columns": facts.columns if facts else [],
            "rows": facts.rows if facts else 0,
        }

    def _register(
        self, uri: str, desired: Attributes, op: Operation, prior_tags: dict[str, str]
    ) -> Attributes:
        head = self._head(uri)
        if head is None:
            raise ConfigError(f"there is no object at {uri}", field=("uri",), hint="upload the data first")
        fmt = format_of(uri, desired.get("format"))
        facts = self._facts(uri, fmt, head)
        op.record_id(uri, {})
        bucket, key = split_uri(uri)
        identity = self.identity(op, desired)
        mine = {**self.settings_tags, **dict(desired.get("tags") or {})}
        # the object may carry tags of others (people, other projects): keep them, drop only
        # the resource's tags it no longer has
        gone = set(prior_tags) - set(mine)
        tags = {k: v for k, v in self._tags(uri).items() if k not in gone}
        tags.update(mine)
        tags[_registration_key(identity)] = str(facts["version"])
        call(
            self.clients.s3.put_object_tagging,
            f"register {uri}",
            Bucket=bucket,
            Key=key,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
        )
        return {**public(desired), **facts}

    # -- lifecycle -------------------------------------------------------------------------
    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        # metadata and tags in one round trip; the tags of an object that is gone do not matter
        head_of, tags_of = together(lambda: self._head(id), lambda: self._tags(id))
        head = head_of.get()
        if head is None:
            return None
        tags = tags_of.get()
        registered = tags.get(_registration_key(self.identity(op, prior)))
        if registered is None:
            return None
        latest = _version(head)
        if prior.get("version") == registered and all(k in prior for k in FACTS):
            facts = {k: prior[k] for k in ("size", "columns", "rows")}
        else:
            facts = {
                k: v
                for k, v in self._facts(id, format_of(id, prior.get("format")), head).items()
                if k in ("size", "columns", "rows")
            }
        return {
            "uri": id,
            "format": prior.get("format"),
            "description": prior.get("description"),
            "tags": {k: tags[k] for k in prior.get("tags") or {} if k in tags},
            "version": registered,
            "latest_version": latest,
            **facts,
        }

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        uri = str(desired["uri"])
        return uri, self._register(uri, desired, op, {})

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        return self._register(id, desired, op, dict(prior.get("tags") or {}))

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        if self._head(id) is None:
            return
        bucket, key = split_uri(id)
        mine = _registration_key(self.identity(op, prior))
        kept = [
            {"Key": k, "Value": v}
            for k, v in self._tags(id).items()
            if k != mine and k.startswith("mlops-decl:dataset:")
        ]
        if kept:
            call(
                self.clients.s3.put_object_tagging,
                f"unregister {id}",
                Bucket=bucket,
                Key=key,
                Tagging={"TagSet": kept},
            )
        else:
            call(self.clients.s3.delete_object_tagging, f"unregister {id}", Bucket=bucket, Key=key)

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By `s3://bucket/key` or the object's ARN."""
        try:
            bucket, key = split_uri(ref)
        except ConfigError:
            return None
        uri = f"s3://{bucket}/{key}"
        found = self.read(uri, {}, op)
        return None if found is None else (uri, found)


def _version(head: dict[str, Any]) -> str:
    version = head.get("VersionId")
    if version and version != "null":
        return str(version)
    return str(head.get("ETag", "")).strip('"')
