"""registry_policy: a model's promotion gates, kept on its Model Package Group.

The engine evaluates the gates (mlops_decl/ml/promotion.py) on the evidence the model's
actions read from the packages (actions/registry.py); a promotion that passes approves the
package (ModelApprovalStatus=Approved) and moves the alias tag. The provider only keeps the
policy, where a SageMaker user looks for what governs a group: on the group itself, as tags
(`mlops-decl:policy:0`, `:1`, ...: base64 JSON cut into tag values of 256 characters). Not
the group's description, which SageMaker cannot change after creation, and not a separate
store, which a console user would never find. The group holds one policy: its id is the
group's name, and a second policy naming the same model is a conflict.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mlops_decl.operation import Operation
from mlops_decl.provider import DETACHED, Attributes, Category, ConfigError, Planned, ProviderError

from .base import SageMakerHandler, public, tag_dict
from .client import call, found
from .model import group_name

POLICY = "mlops-decl:policy:"  # + chunk number, on the model's group
CHUNK = 256  # SageMaker's longest tag value
FIELDS = ("model", "promote_to", "gates", "description", "tags")


def encode(spec: dict[str, Any]) -> list[dict[str, str]]:
    """The policy as tags: base64 (its characters are allowed in tag values) in chunks."""
    text = base64.b64encode(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).decode()
    chunks = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)]
    if len(chunks) > 20:  # a group takes 50 tags; leave room for aliases and the user's own
        raise ConfigError(
            "the registry policy is too long to keep on its Model Package Group (20 tags)",
            field=("gates",),
        )
    return [{"Key": f"{POLICY}{i}", "Value": chunk} for i, chunk in enumerate(chunks)]


def decode(tags: dict[str, str]) -> dict[str, Any] | None:
    """The policy the group's tags hold, or None when they hold none (or a damaged one)."""
    chunks: list[str] = []
    while f"{POLICY}{len(chunks)}" in tags:
        chunks.append(tags[f"{POLICY}{len(chunks)}"])
    if not chunks:
        return None
    try:
        got = json.loads(base64.b64decode("".join(chunks).encode()).decode())
    except ValueError:
        return None
    return got if isinstance(got, dict) else None


class RegistryPolicyHandler(SageMakerHandler):
    kind = "registry_policy"
    idempotent_create = True  # the tags are keyed by the group: a retried create rewrites them
    force_new = frozenset({"model"})  # the policy lives on the model's group
    computed = frozenset({"id"})

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned:
        planned = public(desired)
        encode(self._spec(planned, "x"))  # too long: said at plan, not at apply
        return Planned(planned)

    def _spec(self, desired: Attributes, identity: str) -> dict[str, Any]:
        return {"identity": identity, **{k: desired.get(k) for k in FIELDS if k != "model"}}

    def _group_arn(self, name: str) -> str | None:
        got = found(
            self.clients.sagemaker.describe_model_package_group,
            f"read model {name}",
            ModelPackageGroupName=name,
        )
        return None if got is None else str(got["ModelPackageGroupArn"])

    def _tags(self, arn: str) -> dict[str, str]:
        sm = self.clients.sagemaker
        return tag_dict(call(sm.list_tags, f"read the tags of {arn}", ResourceArn=arn).get("Tags"))

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        arn = self._group_arn(id)
        spec = decode(self._tags(arn)) if arn else None
        if spec is None:
            return None
        return {"model": id, **{k: spec.get(k) for k in FIELDS if k != "model"}}

    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        name = group_name(str(desired["model"]))
        arn = self._arn_or_fail(name)
        existing = decode(self._tags(arn))
        identity = self.identity(op, desired)
        if existing is not None and existing.get("identity") != identity:
            raise ProviderError(
                f"model {name} already has a registry policy ({existing.get('identity')}); a model "
                f"takes one: import it with `mlops-decl import registry_policy.NAME {name}`, or "
                "merge the gates into it",
                category=Category.CONFLICT,
            )
        op.record_id(name, {"model": name})
        self._write(arn, desired, identity)
        return name, {**public(desired), "model": name}

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        self._write(self._arn_or_fail(id), desired, self.identity(op, desired))
        return {**public(desired), "model": id}

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        arn = self._group_arn(id)
        if arn is None:
            return
        mine = [k for k in self._tags(arn) if k.startswith(POLICY)]
        if mine:
            call(
                self.clients.sagemaker.delete_tags,
                f"remove the policy of {id}",
                ResourceArn=arn,
                TagKeys=mine,
            )

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By the model's group name or ARN."""
        name = group_name(ref)
        got = self.read(name, {}, op)
        return None if got is None else (name, got)

    def _arn_or_fail(self, name: str) -> str:
        arn = self._group_arn(name)
        if arn is None:
            raise ProviderError(f"model {name} does not exist on SageMaker", category=Category.NOT_FOUND)
        return arn

    def _write(self, arn: str, desired: Attributes, identity: str) -> None:
        """The policy's tags as `desired` says, and no chunk left over from a longer one."""
        sm = self.clients.sagemaker
        wanted = encode(self._spec(desired, identity))
        call(sm.add_tags, f"keep the policy on {arn}", ResourceArn=arn, Tags=wanted)
        keys = {t["Key"] for t in wanted}
        stale = [k for k in self._tags(arn) if k.startswith(POLICY) and k not in keys]
        if stale:
            call(sm.delete_tags, f"trim the policy on {arn}", ResourceArn=arn, TagKeys=stale)
