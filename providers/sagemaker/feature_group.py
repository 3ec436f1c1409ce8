"""feature_group: a SageMaker Feature Group, its offline store in S3 (and its online store when
`online: true`).

The schema is generated from the resource: the one `entity` column is the record
identifier, `event_time` the event time feature, and each feature a feature definition
(int: Integral; float: Fractional; string, datetime: String; bool: Integral, as SageMaker
has no other types). Before a create or an update every one of them is checked against the
columns of the source dataset's object (its header, by a ranged read). The offline store
goes to `sagemaker.offline_uri`, else `s3://<the source's bucket>/feature-store`; it runs
as `sagemaker.role`, else the provider's `execution_role`.

SageMaker can add features to a group but not remove or retype one, nor change its record
identifier, event time, online store or description: those changes replace the group. The
group is named from the resource's stable identity and the source is kept in a tag, so a
create whose answer was lost finds its group again (idempotent), and import takes a name
or an ARN.
"""

from __future__ import annotations

from typing import Any

from mlops_decl.cloud.objects import table_facts
from mlops_decl.cloud.operations import Statuses, follow
from mlops_decl.operation import Operation
from mlops_decl.provider import (
    DETACHED,
    UNKNOWN,
    Attributes,
    Category,
    ConfigError,
    Planned,
    ProviderError,
)

from .base import SageMakerHandler, changed_tags, public, range_reader, tag_dict
from .client import attempt, call
from .dataset import format_of, split_uri
from .errors import already_exists, is_missing, provider_error
from .model import group_name

TYPES = {
    "int": "Integral",
    "float": "Fractional",
    "string": "String",
    "datetime": "String",
    "bool": "Integral",
}
BACK = {"Integral": "int", "Fractional": "float", "String": "string"}
SOURCE = "mlops-decl:source"  # tag: the source dataset's URI
HEADER = 64 << 10  # bytes read for a CSV's header

CREATED: Statuses[dict[str, Any]] = Statuses(
    status=lambda d: str(d.get("FeatureGroupStatus")),
    done=("Created",),
    failed=("CreateFailed",),
    reason=lambda d: d.get("FailureReason"),
)
DELETED: Statuses[dict[str, Any]] = Statuses(
    status=lambda d: str(d.get("FeatureGroupStatus")), done=("Deleted",), failed=("DeleteFailed",)
)


class FeatureGroupHandler(SageMakerHandler):
    kind = "feature_group"
    idempotent_create = True  # names from the identity: a retried create adopts its object
    force_new = frozenset({"entity", "event_time", "online", "description"})
    computed = frozenset({"id", "name", "arn", "offline_uri"})

    # -- the schema ------------------------------------------------------------------------
    def definitions(self, desired: Attributes) -> tuple[str, str, list[dict[str, str]]]:
        """(record identifier, event time, feature definitions) from the resource."""
        entity = list(desired.get("entity") or [])
        if len(entity) != 1:
            raise ConfigError(
                f"a SageMaker feature group has one record identifier, not {len(entity)} entity columns",
                field=("entity",),
                hint="name one column (join several into one key column upstream)",
            )
        event_time = desired.get("event_time")
        if not event_time:
            raise ConfigError(
                "a SageMaker feature group needs an event time column",
                field=("event_time",),
                hint="set event_time: the column holding each record's time",
            )
        declared = {f["name"]: TYPES[f["dtype"]] for f in desired.get("features") or []}
        out = [{"FeatureName": entity[0], "FeatureType": declared.get(entity[0], "String")}]
        if event_time != entity[0]:
            out.append({"FeatureName": event_time, "FeatureType": declared.get(event_time, "String")})
        out += [
            {"FeatureName": n, "FeatureType": t}
            for n, t in declared.items()
            if n not in (entity[0], event_time)
        ]
        return entity[0], str(event_time), out

    def check_source(self, desired: Attributes) -> None:
        """Every column the group names is a column of the source dataset."""
        uri = str(desired.get("source") or "")
        bucket, key = split_uri(uri)
        head, exc = attempt(self.clients.s3.head_object, f"read {uri}", Bucket=bucket, Key=key)
        if exc is not None:
            if is_missing(exc):
                raise ConfigError(f"the source {uri} does not exist", field=("source",))
            raise provider_error(exc, f"read {uri}")
        size = int((head or {}).get("ContentLength") or 0)
        read = range_reader(self.clients, bucket, key)
        try:
            columns = table_facts(read, size, format_of(uri, None), count_rows=False).columns if size else []
        except (ValueError, OSError) as exc2:
            raise ConfigError(
                f"the source {uri} does not read as a table: {exc2}", field=("source",)
            ) from None
        known = set(columns)
        for path, name in self._columns(desired):
            if name not in known:
                raise ConfigError(
                    f"`{name}` is not a column of the source {uri}",
                    field=path,
                    hint=f"its columns: {', '.join(columns) or '(none)'}",
                )

    @staticmethod
    def _columns(desired: Attributes) -> list[tuple[tuple[str | int, ...], str]]:
        out: list[tuple[tuple[str | int, ...], str]] = [
            (("entity", i), str(c)) for i, c in enumerate(desired.get("entity") or [])
        ]
        if desired.get("event_time"):
            out.append((("event_time",), str(desired["event_time"])))
        out += [
            (("features", i, "name"), str(f["name"])) for i, f in enumerate(desired.get("features") or [])
        ]
        return out

    def offline_uri(self, desired: Attributes) -> str:
        block = desired.get("sagemaker") or {}
        if block.get("offline_uri"):
            return str(block["offline_uri"]).rstrip("/")
        bucket, _ = split_uri(str(desired.get("source") or ""))
        return f"s3://{bucket}/feature-store"

    def _without_defaults(self, desired: Attributes, offline: str) -> dict[str, Any]:
        """The `sagemaker:` block less what equals its default (the provider's execution_role,
        the offline store beside the source), as _block() reads it back."""
        block = dict(desired.get("sagemaker") or {})
        if block.get("role") == self.clients.settings.execution_role:
            block.pop("role")
        if "offline_uri" in block:
            bucket, _ = split_uri(str(desired.get("source") or ""))
            if offline == f"s3://{bucket}/feature-store":
                block.pop("offline_uri")
            else:
                block["offline_uri"] = offline
        return block

    # -- plan ------------------------------------------------------------------------------
    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned:
        planned = public(desired)
        self.definitions(desired)  # the schema SageMaker takes, checked offline
        split_uri(str(desired.get("source") or ""))
        planned["name"] = prior["name"] if prior else self.name_for(DETACHED, desired)
        planned["arn"] = prior["arn"] if prior and prior.get("arn") else UNKNOWN
        planned["offline_uri"] = self.offline_uri(desired)
        block = self._without_defaults(desired, planned["offline_uri"])
        planned.pop("sagemaker", None)
        if block:
            planned["sagemaker"] = block  # as read() reports it: a default spelt out is no change
        replace: list[tuple[str | int, ...]] = []
        if prior is not None:
            if prior.get("offline_uri") and planned["offline_uri"] != prior["offline_uri"]:
                replace.append(("sagemaker", "offline_uri"))
            if block.get("role") != (prior.get("sagemaker") or {}).get("role"):
                replace.append(("sagemaker", "role"))  # SageMaker cannot change it
            before = {f["name"]: f["dtype"] for f in prior.get("features") or []}
            after = {f["name"]: f["dtype"] for f in desired.get("features") or []}
            if any(n not in after or TYPES[after[n]] != TYPES[t] for n, t in before.items()):
                replace.append(("features",))  # SageMaker only adds features
        return Planned(planned, requires_replace=replace)

    # -- the group ---------------------------------------------------------------------------
    def _describe(self, name: str) -> dict[str, Any] | None:
        found, exc = attempt(
            self.clients.sagemaker.describe_feature_group, f"read feature group {name}", FeatureGroupName=name
        )
        if exc is not None:
            if is_missing(exc):
                return None
            raise provider_error(exc, f"read feature group {name}")
        return found

    def _tags(self, arn: str) -> dict[str, str]:
        got = call(self.clients.sagemaker.list_tags, f"read the tags of {arn}", ResourceArn=arn)
        return tag_dict(got.get("Tags"))

    def _attributes(self, described: dict[str, Any], tags: dict[str, str], prior: Attributes) -> Attributes:
        record, event = described["RecordIdentifierFeatureName"], described["EventTimeFeatureName"]
        mine = {f["name"]: f for f in prior.get("features") or []}
        features = []
        for d in described.get("FeatureDefinitions") or []:
            name, kind = d["FeatureName"], d["FeatureType"]
            if name in (record, event) and name not in mine:
                continue
            own = mine.get(name)
            if own is not None and TYPES[own["dtype"]] == kind:  # bool, datetime: SageMaker cannot tell
                features.append(dict(own))
            else:
                features.append({"name": name, "dtype": BACK.get(kind, "string"), "description": None})
        offline = ((described.get("OfflineStoreConfig") or {}).get("S3StorageConfig") or {}).get("S3Uri")
        return {
            "source": tags.get(SOURCE, prior.get("source")),
            "entity": [record],
            "event_time": event,
            "features": features,
            "online": bool((described.get("OnlineStoreConfig") or {}).get("EnableOnlineStore")),
            "description": described.get("Description"),
            "tags": self.own_tags(tags, prior),
            "name": described["FeatureGroupName"],
            "arn": described["FeatureGroupArn"],
            "offline_uri": offline.rstrip("/") if offline else None,
        } | self._block(described, tags, offline)

    def _block(self, described: dict[str, Any], tags: dict[str, str], offline: str | None) -> Attributes:
        """The `sagemaker:` block that made the group: what differs from the defaults."""
        block: dict[str, str] = {}
        role = described.get("RoleArn")
        if role and role != self.clients.settings.execution_role:
            block["role"] = role
        source = tags.get(SOURCE)
        if offline and (not source or offline.rstrip("/") != self.offline_uri({"source": source})):
            block["offline_uri"] = offline.rstrip("/")
        return {"sagemaker": block} if block else {}

    def _wanted_tags(self, desired: Attributes, op: Operation) -> list[dict[str, str]]:
        return [
            *self.tags(desired, self.identity(op, desired)),
            {"Key": SOURCE, "Value": str(desired["source"])},
        ]

    # -- lifecycle -------------------------------------------------------------------------
    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        described = self._describe(id)
        if described is None:
            return None
        return self._attributes(described, self._tags(described["FeatureGroupArn"]), prior)

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        record, event, definitions = self.definitions(desired)
        self.check_source(desired)
        name, identity = self.name_for(op, desired), self.identity(op, desired)
        block = desired.get("sagemaker") or {}
        role = block.get("role") or self.clients.settings.execution_role
        if not role:
            raise ConfigError(
                "a feature group's offline store needs a role SageMaker writes it as",
                field=("sagemaker", "role"),
                hint="set sagemaker.role on the resource, or execution_role in the provider's settings",
            )
        args: dict[str, Any] = {
            "FeatureGroupName": name,
            "RecordIdentifierFeatureName": record,
            "EventTimeFeatureName": event,
            "FeatureDefinitions": definitions,
            "OfflineStoreConfig": {"S3StorageConfig": {"S3Uri": self.offline_uri(desired)}},
            "RoleArn": role,
            "Tags": self._wanted_tags(desired, op),
        }
        if desired.get("online"):
            args["OnlineStoreConfig"] = {"EnableOnlineStore": True}
        if desired.get("description"):
            args["Description"] = desired["description"]
        _, exc = attempt(self.clients.sagemaker.create_feature_group, f"create feature group {name}", **args)
        if exc is not None and not already_exists(exc):
            raise provider_error(exc, f"create feature group {name}")
        op.record_id(name, {"name": name})
        described = self._settled(name, op)
        tags = self._tags(described["FeatureGroupArn"])
        if exc is not None:  # ours (else a conflict), from a create whose answer was lost
            self.claim("feature group", name, tags, desired, identity)
            return name, self.update(name, self._attributes(described, tags, desired), desired, op)
        return name, self._attributes(described, tags, desired)

    def _settled(self, name: str, op: Operation) -> dict[str, Any]:
        """The group once it is no longer Creating (SageMaker makes its stores first)."""

        def describe() -> dict[str, Any]:
            found = self._describe(name)
            if found is None:
                raise ProviderError(
                    f"feature group {name} vanished while it was created", category="transient"
                )
            return found

        return follow(describe, CREATED, op, f"feature group {name}", interval=1.0)

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        self.check_source(desired)
        _, _, definitions = self.definitions(desired)
        described = self._describe(id)
        if described is None:
            raise ProviderError(f"feature group {id} no longer exists", category=Category.NOT_FOUND)
        known = {d["FeatureName"] for d in described.get("FeatureDefinitions") or []}
        added = [d for d in definitions if d["FeatureName"] not in known]
        sm = self.clients.sagemaker
        if added:
            call(
                sm.update_feature_group, f"add features to {id}", FeatureGroupName=id, FeatureAdditions=added
            )
            described = self._describe(id) or described
        arn = described["FeatureGroupArn"]
        before = self._tags(arn)
        wanted = self._wanted_tags(desired, op)
        changed_tags(
            lambda n, **kw: call(getattr(sm, n), f"tag feature group {id}", **kw), arn, before, wanted
        )
        return self._attributes(described, tag_dict(wanted), desired)

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        _, exc = attempt(
            self.clients.sagemaker.delete_feature_group, f"delete feature group {id}", FeatureGroupName=id
        )
        if exc is not None and not is_missing(exc):
            raise provider_error(exc, f"delete feature group {id}")
        gone = {"FeatureGroupStatus": "Deleted"}
        follow(lambda: self._describe(id) or gone, DELETED, op, f"feature group {id}", interval=1.0)

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By the group's name or ARN."""
        name = group_name(ref)
        found = self.read(name, {}, op)
        return None if found is None else (name, found)
