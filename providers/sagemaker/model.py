"""model: a SageMaker Model Package Group; its versions are the model packages training
registers in it. SageMaker has no aliases: an alias is a tag on the group
(`mlops-decl:alias:champion` = the version number), read with the group's tags.

The group is named from the resource's stable identity, so a create whose answer was lost
finds its group again: a group carrying this resource's managed tag is adopted, one without
it is someone else's and the create fails as a conflict. SageMaker cannot change a group's
description: changing it replaces the group (its versions go with it, as they would in
any registry when a model is deleted).
"""

from __future__ import annotations

from typing import Any

from mlops_decl.cloud.overlap import together
from mlops_decl.operation import Operation
from mlops_decl.provider import DETACHED, Attributes, Category, Planned, ProviderError

from .base import MANAGED, PREFIX, SageMakerHandler, changed_tags, public, tag_dict
from .client import absent_ok, attempt, call, found, pages
from .errors import already_exists, provider_error

ALIAS = "mlops-decl:alias:"


def aliases_of(tags: dict[str, str]) -> dict[str, int]:
    out = {}
    for key, value in tags.items():
        if key.startswith(ALIAS) and value.isdigit():
            out[key[len(ALIAS) :]] = int(value)
    return out


def group_name(ref: str) -> str:
    """A group's name from its name or ARN."""
    return ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref


class ModelHandler(SageMakerHandler):
    kind = "model"
    idempotent_create = True  # names from the identity: a retried create adopts its object
    force_new = frozenset({"description"})
    computed = frozenset({"id", "name", "arn", "aliases"})

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned:
        planned = public(desired)
        planned["name"] = prior["name"] if prior else self.name_for(DETACHED, desired)
        planned["aliases"] = dict(prior.get("aliases") or {}) if prior else {}
        if prior and prior.get("arn"):
            planned["arn"] = prior["arn"]
        return Planned(planned)

    def _describe(self, name: str) -> dict[str, Any] | None:
        sm = self.clients.sagemaker
        got: dict[str, Any] | None = found(
            sm.describe_model_package_group, f"read model package group {name}", ModelPackageGroupName=name
        )
        return got

    def _attributes(self, described: dict[str, Any], tags: dict[str, str], prior: Attributes) -> Attributes:
        return {
            "description": described.get("ModelPackageGroupDescription"),
            "tags": self.own_tags(tags, prior),
            "name": described["ModelPackageGroupName"],
            "arn": described["ModelPackageGroupArn"],
            "aliases": aliases_of(tags),
        }

    def _tags(self, arn: str) -> dict[str, str]:
        return tag_dict(
            call(self.clients.sagemaker.list_tags, f"read the tags of {arn}", ResourceArn=arn).get("Tags")
        )

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        known_arn = prior.get("arn")
        if not isinstance(known_arn, str) or not known_arn.lower().endswith(f"/{id.lower()}"):
            described = self._describe(id)
            if described is None:
                return None
            return self._attributes(described, self._tags(described["ModelPackageGroupArn"]), prior)
        # the group and its tags in one round trip, by the ARN the state holds (an ARN is
        # made of region, account and name: a group made again under the name has the same)
        described_of, tags_of = together(lambda: self._describe(id), lambda: self._tags(known_arn))
        described = described_of.get()
        if described is None:
            return None
        if described["ModelPackageGroupArn"] != known_arn:  # not the ARN it had: ask again
            return self._attributes(described, self._tags(described["ModelPackageGroupArn"]), prior)
        return self._attributes(described, tags_of.get(), prior)

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        name, identity = self.name_for(op, desired), self.identity(op, desired)
        sm = self.clients.sagemaker
        args: dict[str, Any] = {"ModelPackageGroupName": name, "Tags": self.tags(desired, identity)}
        if desired.get("description"):
            args["ModelPackageGroupDescription"] = desired["description"]
        _, exc = attempt(sm.create_model_package_group, f"create model {name}", **args)
        if exc is not None and not already_exists(exc):
            raise provider_error(exc, f"create model package group {name}")
        op.record_id(name, {"name": name})
        described = self._describe(name)
        if described is None:
            raise ProviderError(
                f"model package group {name} vanished right after its create", category="transient"
            )
        tags = self._tags(described["ModelPackageGroupArn"])
        if exc is not None:
            self.claim("model package group", name, tags, desired, identity)
        if exc is not None:  # ours, from a create whose answer was lost: make it match
            return name, self.update(name, self._attributes(described, tags, {}), desired, op)
        return name, self._attributes(described, tags, desired)

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        described = self._describe(id)
        if described is None:
            raise ProviderError(f"model package group {id} no longer exists", category=Category.NOT_FOUND)
        arn = described["ModelPackageGroupArn"]
        before = self._tags(arn)
        wanted = self.tags(desired, self.identity(op, desired))
        # the provider's own tags that other resources keep here (aliases, a registry policy,
        # pending endpoints) stay
        wanted += [{"Key": k, "Value": v} for k, v in before.items() if k.startswith(PREFIX) and k != MANAGED]
        sm = self.clients.sagemaker
        changed_tags(lambda name, **kw: call(getattr(sm, name), f"tag model {id}", **kw), arn, before, wanted)
        return self._attributes(described, tag_dict(wanted), desired)

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        sm = self.clients.sagemaker
        if self._describe(id) is None:
            return
        for package in self.packages(id):
            absent_ok(sm.delete_model_package, f"delete model package {package}", ModelPackageName=package)
        absent_ok(sm.delete_model_package_group, f"delete model package group {id}", ModelPackageGroupName=id)

    def packages(self, name: str) -> list[str]:
        """The ARNs of the group's model packages, oldest first."""
        listed = pages(
            self.clients.sagemaker.list_model_packages,
            f"list the versions of model {name}",
            "ModelPackageSummaryList",
            ModelPackageGroupName=name,
            SortBy="CreationTime",
            SortOrder="Ascending",
        )
        return [p["ModelPackageArn"] for p in listed]

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By the group's name or ARN."""
        name = group_name(ref)
        found = self.read(name, {}, op)
        return None if found is None else (name, found)
