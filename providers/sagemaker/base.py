"""What every SageMaker handler shares: its clients, the tags it puts on what it creates
(the provider's, the resource's, and the managed-by tag naming the resource's stable
identity), and reading a resource's own tags back from what AWS lists."""

from __future__ import annotations

from typing import Any

from mlops_decl.cloud.naming import cloud_name
from mlops_decl.cloud.objects import RangeReader
from mlops_decl.operation import Operation
from mlops_decl.provider import (
    NAME_KEY,
    Attributes,
    Category,
    ConfigError,
    Handler,
    ProviderContext,
    ProviderError,
)

from .client import Clients, call

MANAGED = "mlops-decl:identity"  # on every object made: which resource (project/kind.name) owns it
PREFIX = "mlops-decl:"  # tags under it are the provider's own, never the user's


class SageMakerHandler(Handler):
    def __init__(self, clients: Clients, project: str, context: ProviderContext | None = None):
        self.clients = clients
        self.project = project
        self.context = context  # the project's directories, for a kind that keeps files there

    @property
    def settings_tags(self) -> dict[str, str]:
        return self.clients.settings.tags

    def identity(self, op: Operation, desired: Attributes | None = None) -> str:
        """project/kind.name, from the operation (or, for a detached call, the resource name)."""
        if op.address:
            return op.identity
        return f"{self.project}/{self.kind}.{(desired or {}).get(NAME_KEY, 'unnamed')}"

    def name_for(self, op: Operation, desired: Attributes | None = None, suffix: str = "") -> str:
        """The object's SageMaker name: the identity within SageMaker's 63 characters."""
        return cloud_name(self.identity(op, desired), suffix=suffix)

    def tags(self, desired: Attributes, identity: str) -> list[dict[str, str]]:
        """AWS tags for an object: the provider's, the resource's over them, the managed tag."""
        merged = {**self.settings_tags, **dict(desired.get("tags") or {}), MANAGED: identity}
        return [{"Key": k, "Value": v} for k, v in merged.items()]

    def claim(self, what: str, name: str, tags: dict[str, str], desired: Attributes, identity: str) -> None:
        """An object that already had this resource's name is this resource's only when its
        managed tag says so; anyone else's is a conflict, resolved by importing or renaming."""
        if tags.get(MANAGED) != identity:
            raise ProviderError(
                f"a {what} named {name} exists and is not this resource's "
                f"({MANAGED}={tags.get(MANAGED)!r}); import it with "
                f"`mlops-decl import {self.kind}.{desired.get(NAME_KEY)} {name}`, or rename the resource",
                category=Category.CONFLICT,
            )

    def own_tags(self, live: list[dict[str, str]] | dict[str, str], prior: Attributes) -> dict[str, str]:
        """The resource's tags among those AWS lists: not the provider's own, and not one the
        provider's settings put there (unless the resource sets it too)."""
        found = live if isinstance(live, dict) else {t["Key"]: t["Value"] for t in live}
        mine = dict(prior.get("tags") or {})
        return {
            k: v
            for k, v in found.items()
            if not k.startswith(PREFIX) and (k in mine or self.settings_tags.get(k) != v)
        }


def block_of(desired: Attributes, keys: set[str], what: str) -> dict[str, Any]:
    """The resource's `sagemaker:` block; a key the kind does not take is a ConfigError."""
    block = dict(desired.get("sagemaker") or {})
    unknown = sorted(set(block) - keys)
    if unknown:
        raise ConfigError(
            f"unknown key `{unknown[0]}` in the {what}'s sagemaker block",
            field=("sagemaker", unknown[0]),
            hint=f"it takes {', '.join(sorted(keys))}",
        )
    return block


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def public(attrs: Attributes) -> Attributes:
    """The attributes without the engine's resource name."""
    return {k: v for k, v in attrs.items() if k != NAME_KEY}


def changed_tags(clients_call: Any, arn: str, before: dict[str, str], after: list[dict[str, str]]) -> None:
    """Make an object's tags `after`: add or replace what differs, delete what is gone."""
    wanted = tag_dict(after)
    add = [{"Key": k, "Value": v} for k, v in wanted.items() if before.get(k) != v]
    gone = [k for k in before if k not in wanted]
    if add:
        clients_call("add_tags", ResourceArn=arn, Tags=add)
    if gone:
        clients_call("delete_tags", ResourceArn=arn, TagKeys=gone)


def range_reader(clients: Clients, bucket: str, key: str, **pinned: str) -> RangeReader:
    """Ranged GETs of one S3 object (a version, when `VersionId` is given)."""
    uri = f"s3://{bucket}/{key}"

    def read(start: int, end: int) -> bytes:
        got = call(
            clients.s3.get_object,
            f"read {uri}",
            Bucket=bucket,
            Key=key,
            Range=f"bytes={start}-{end}",
            **pinned,
        )
        data: bytes = got["Body"].read()
        return data

    return read
