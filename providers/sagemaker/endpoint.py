"""endpoint: a SageMaker Model (the model package of the version served) + EndpointConfig
(instance type and count, data capture on) + Endpoint, serving the version the configured
alias (or number) points at.

Until a version carries the alias, the endpoint is `pending_model`: nothing runs, and its
registration is a tag on the model's group. read() reports the version the alias points at
now (`target_version`); plan() makes it the version served, so promoting a version shows
as a change to the endpoint and the update moves it.

An update never edits a config in place: it makes a new config (named after its content,
so a retried update finds it), calls update_endpoint, waits until the endpoint is
InService on it, and only then deletes the old config and model.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mlops_decl.cloud.naming import cloud_name, idempotency_token
from mlops_decl.cloud.operations import Statuses, follow
from mlops_decl.operation import CREATING, Operation
from mlops_decl.provider import DETACHED, UNKNOWN, Attributes, Category, ConfigError, Planned, ProviderError

from .base import MANAGED, SageMakerHandler, block_of, public, tag_dict
from .client import absent_ok, attempt, call, found, pages
from .errors import already_exists, provider_error
from .model import ALIAS

PENDING = "pending_model"
REGISTRATION = "mlops-decl:endpoint:"  # on the group, while the endpoint waits for a version
BLOCK_KEYS = {"role", "capture_uri", "sampling", "variant"}
DEPLOYED = ("instance_type", "replicas", "sagemaker")  # fields a new config carries
IN_SERVICE: Statuses[dict[str, Any]] = Statuses(
    status=lambda d: d["EndpointStatus"],
    done={"InService"},
    failed={"Failed", "OutOfService", "UpdateRollbackFailed"},
    reason=lambda d: d.get("FailureReason"),
)
COMPUTED = ("name", "arn", "status", "serving_version", "target_version", "endpoint_config")
FIELDS = ("model", "version", "instance_type", "replicas", "sagemaker", "description", "tags")


def _selector(version: Any) -> int | str:
    return int(version) if isinstance(version, int) or str(version).isdigit() else str(version)


class EndpointHandler(SageMakerHandler):
    kind = "endpoint"
    force_new = frozenset({"model"})
    idempotent_create = True  # names from the identity: a retried create adopts its object
    computed = frozenset({"id", *COMPUTED})
    timeouts = {"create": 3600.0, "update": 3600.0, "delete": 1800.0}

    # -- planning ---------------------------------------------------------------------------
    def _check(self, desired: Attributes) -> dict[str, Any]:
        block = block_of(desired, BLOCK_KEYS, "endpoint")
        if int(desired.get("replicas", 1)) < 1:
            raise ConfigError("a SageMaker endpoint runs at least one instance", field=("replicas",))
        if not (block.get("role") or self.clients.settings.execution_role):
            raise ConfigError(
                "the endpoint needs a role SageMaker runs its model as",
                field=("sagemaker", "role"),
                hint="set sagemaker: {role: arn:aws:iam::...} or the provider's execution_role",
            )
        return block

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned:
        self._check(desired)
        planned = public(desired)
        planned["name"] = prior["name"] if prior else self.name_for(DETACHED, desired)
        selector = _selector(planned.get("version", "champion"))
        if prior is None:
            if isinstance(selector, int):
                planned.update(serving_version=selector, target_version=selector, status="InService")
            return Planned(planned)
        target = selector if isinstance(selector, int) else prior.get("target_version")
        if selector != _selector(prior.get("version", "champion")) and not isinstance(selector, int):
            target = UNKNOWN  # another alias: known once read
        planned["target_version"] = target
        planned["serving_version"] = target if target is not None else prior.get("serving_version")
        serving = planned["serving_version"]
        planned["status"] = PENDING if serving is None else "InService"
        same = serving == prior.get("serving_version") and all(
            planned.get(k) == prior.get(k) for k in DEPLOYED
        )
        planned["endpoint_config"] = (
            prior.get("endpoint_config") if same else (None if serving is None else UNKNOWN)
        )
        planned["arn"] = prior.get("arn") if prior.get("arn") or serving is None else UNKNOWN
        return Planned(planned)

    # -- the group's tags: aliases and pending registrations ------------------------------------
    def _group_arn(self, group: str) -> str:
        described = call(
            self.clients.sagemaker.describe_model_package_group,
            f"read model {group}",
            ModelPackageGroupName=group,
        )
        return str(described["ModelPackageGroupArn"])

    def _group_tags(self, group_arn: str) -> dict[str, str] | None:
        got = found(self.clients.sagemaker.list_tags, f"read the tags of {group_arn}", ResourceArn=group_arn)
        return None if got is None else tag_dict(got.get("Tags"))

    def _resolve(self, selector: int | str, tags: dict[str, str]) -> int | None:
        if isinstance(selector, int):
            return selector
        version = tags.get(ALIAS + selector)
        return int(version) if version and version.isdigit() else None

    # -- reading ----------------------------------------------------------------------------
    def _describe(self, name: str) -> dict[str, Any] | None:
        got: dict[str, Any] | None = found(
            self.clients.sagemaker.describe_endpoint, f"read endpoint {name}", EndpointName=name
        )
        return got

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        described = self._describe(id)
        if described is not None and op.status == CREATING:
            described = follow(
                lambda: self._describe_or_fail(id), IN_SERVICE, op, f"endpoint {id}", interval=1.0
            )
        if described is None:
            return self._read_pending(id, prior)
        # a whole record (not one a create made before it began) says what the endpoint is
        whole = prior.get("model") and "serving_version" in prior
        meta = prior if whole else self._endpoint_meta(described["EndpointArn"])
        group = str(meta["model"])
        group_arn = _sibling_arn(described["EndpointArn"], "model-package-group", group)
        tags = self._group_tags(group_arn) or {}
        selector = _selector(meta.get("version", "champion"))
        fields = {k: meta.get(k) for k in FIELDS}
        return {
            **fields,
            "name": id,
            "arn": described["EndpointArn"],
            "status": described["EndpointStatus"],
            "serving_version": meta.get("serving_version"),
            "target_version": self._resolve(selector, tags),
            "endpoint_config": described["EndpointConfigName"],
        }

    def _describe_or_fail(self, name: str) -> dict[str, Any]:
        found = self._describe(name)
        if found is None:
            raise ProviderError(
                f"endpoint {name} vanished while it was being made", category=Category.NOT_FOUND
            )
        return found

    def _endpoint_meta(self, arn: str) -> Attributes:
        """What an endpoint's own tags say of it (for an import: the state knows nothing)."""
        tags = self._live_tags(arn)
        meta = _decode(tags.get("mlops-decl:spec", ""))
        return {**meta, "tags": self.own_tags(tags, {})}

    def _read_pending(self, name: str, prior: Attributes) -> Attributes | None:
        group = prior.get("model") or self._registered_in(name)
        if not group:
            return None
        group_arn = self._group_arn_or_none(str(group))
        tags = self._group_tags(group_arn) if group_arn else None  # the group gone: so is the registration
        if tags is None or REGISTRATION + name not in tags:
            return None
        meta: dict[str, Any] = {
            **_decode(tags[REGISTRATION + name]),
            **{k: prior[k] for k in ("description", "tags") if k in prior},
        }
        meta.setdefault("tags", {})
        selector = _selector(meta.get("version", "champion"))
        return {
            **{k: meta.get(k) for k in FIELDS},
            "name": name,
            "arn": None,
            "status": PENDING,
            "serving_version": None,
            "target_version": self._resolve(selector, tags),
            "endpoint_config": None,
        }

    def _registered_in(self, name: str) -> str | None:
        """The group a pending endpoint is registered on, searched for (an import: the state
        knows nothing of it)."""
        listed = pages(
            self.clients.sagemaker.list_model_package_groups, "list models", "ModelPackageGroupSummaryList"
        )
        for group in listed:
            if REGISTRATION + name in (self._group_tags(group["ModelPackageGroupArn"]) or {}):
                return str(group["ModelPackageGroupName"])
        return None

    def _group_arn_or_none(self, group: str) -> str | None:
        sm = self.clients.sagemaker
        got = found(sm.describe_model_package_group, f"read model {group}", ModelPackageGroupName=group)
        return None if got is None else str(got["ModelPackageGroupArn"])

    # -- making -----------------------------------------------------------------------------
    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        name = self.name_for(op, desired)
        # Every name comes from the identity: recorded before anything is made, so a kill at
        # any step leaves a state whose next apply finds (and adopts) what was made.
        op.record_id(name, {"name": name, "model": desired["model"]})
        return name, self._converge(name, None, desired, op)

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        return self._converge(id, prior, desired, op)

    def _converge(
        self, name: str, prior: Attributes | None, desired: Attributes, op: Operation
    ) -> Attributes:
        block = self._check(desired)
        group = str(desired["model"])
        group_arn = self._group_arn(group)
        tags = self._group_tags(group_arn) or {}
        selector = _selector(desired.get("version", "champion"))
        target = self._resolve(selector, tags)
        spec = {k: desired.get(k) for k in FIELDS}
        sm = self.clients.sagemaker
        described = self._describe(name)
        if target is None and described is None:  # nothing to serve yet: register, wait for a version
            call(
                sm.add_tags,
                f"register endpoint {name}",
                ResourceArn=group_arn,
                Tags=[{"Key": REGISTRATION + name, "Value": _encode(spec)}],
            )
            return {
                **public(desired),
                "name": name,
                "arn": None,
                "status": PENDING,
                "serving_version": None,
                "target_version": None,
                "endpoint_config": None,
            }
        serving = target if target is not None else (prior or {}).get("serving_version")
        if serving is None:
            raise ProviderError(
                f"endpoint {name}: no version of model {group} to serve", category=Category.NOT_FOUND
            )
        package = self._package(group_arn, group, int(serving))
        role = block.get("role") or self.clients.settings.execution_role
        identity = self.identity(op, desired)
        model_name = cloud_name(identity, suffix=f"-v{serving}")
        self._ensure(
            sm.create_model,
            f"create model {model_name}",
            ModelName=model_name,
            ExecutionRoleArn=role,
            PrimaryContainer={"ModelPackageName": package},
            Tags=self.tags(desired, identity),
        )
        config = self._config(name, model_name, desired, block, identity)
        endpoint_tags = self.tags(desired, identity) + [
            {"Key": "mlops-decl:spec", "Value": _encode({**spec, "serving_version": serving})}
        ]
        if described is None:
            _, exc = attempt(
                sm.create_endpoint,
                f"create endpoint {name}",
                EndpointName=name,
                EndpointConfigName=config,
                Tags=endpoint_tags,
            )
            if exc is not None and not already_exists(exc):
                raise provider_error(exc, f"create endpoint {name}")
            old_config = None
        else:
            if prior is None:  # a create finding its endpoint: an earlier attempt's, or another's
                self.claim("endpoint", name, self._live_tags(described["EndpointArn"]), desired, identity)
            old_config = described["EndpointConfigName"]
            if described["EndpointStatus"] != "InService":  # an earlier update still running
                described = follow(lambda: self._describe_or_fail(name), IN_SERVICE, op, f"endpoint {name}")
            if described["EndpointConfigName"] != config:
                call(
                    sm.update_endpoint,
                    f"update endpoint {name}",
                    EndpointName=name,
                    EndpointConfigName=config,
                )
            self._retag(described["EndpointArn"], endpoint_tags)
        done = follow(
            lambda: self._describe_or_fail(name),
            IN_SERVICE,
            op,
            f"endpoint {name}",
            interval=1.0,
            expected=600.0,
        )
        if old_config and old_config != config:  # only now: the endpoint no longer needs it
            self._drop_config(old_config, keep_model=model_name)
        if REGISTRATION + name in tags:
            call(
                sm.delete_tags,
                f"unregister endpoint {name}",
                ResourceArn=group_arn,
                TagKeys=[REGISTRATION + name],
            )
        return {
            **public(desired),
            "name": name,
            "arn": done["EndpointArn"],
            "status": done["EndpointStatus"],
            "serving_version": serving,
            "target_version": target,
            "endpoint_config": config,
        }

    def _package(self, group_arn: str, group: str, version: int) -> str:
        arn = _sibling_arn(group_arn, "model-package", f"{group.lower()}/{version}")
        sm = self.clients.sagemaker
        if (
            found(sm.describe_model_package, f"read model {group} version {version}", ModelPackageName=arn)
            is None
        ):
            raise ProviderError(f"model {group} has no version {version}", category=Category.NOT_FOUND)
        return arn

    def _config(
        self, name: str, model_name: str, desired: Attributes, block: dict[str, Any], identity: str
    ) -> str:
        capture = block.get("capture_uri") or self.clients.settings.artifacts
        variant = {
            "VariantName": str(block.get("variant") or "main"),
            "ModelName": model_name,
            "InstanceType": str(desired.get("instance_type") or "ml.m5.large"),
            "InitialInstanceCount": int(desired.get("replicas", 1)),
            "InitialVariantWeight": 1.0,
        }
        args: dict[str, Any] = {"ProductionVariants": [variant]}
        if capture:
            args["DataCaptureConfig"] = {
                "EnableCapture": True,
                "InitialSamplingPercentage": int(block.get("sampling", 100)),
                "DestinationS3Uri": f"{str(capture).rstrip('/')}/capture/{name}",
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            }
        # named after its content: a retried update finds the config it made
        config = cloud_name(name, suffix="-" + idempotency_token(json.dumps(args, sort_keys=True), length=10))
        self._ensure(
            self.clients.sagemaker.create_endpoint_config,
            f"create endpoint config {config}",
            EndpointConfigName=config,
            Tags=self.tags(desired, identity),  # the managed tag: whose config this is
            **args,
        )
        return config

    def _ensure(self, fn: Any, what: str, **kwargs: Any) -> None:
        """Create, taking an object of that name that exists as made by an earlier attempt."""
        _, exc = attempt(fn, what, **kwargs)
        if exc is not None and not already_exists(exc):
            raise provider_error(exc, what)

    def _live_tags(self, arn: str) -> dict[str, str]:
        return tag_dict(
            call(self.clients.sagemaker.list_tags, f"read the tags of {arn}", ResourceArn=arn).get("Tags")
        )

    def _retag(self, arn: str, wanted: list[dict[str, str]]) -> None:
        sm = self.clients.sagemaker
        before = self._live_tags(arn)
        gone = [k for k in before if k not in tag_dict(wanted)]
        call(sm.add_tags, f"tag {arn}", ResourceArn=arn, Tags=wanted)
        if gone:
            call(sm.delete_tags, f"untag {arn}", ResourceArn=arn, TagKeys=gone)

    def _drop_config(self, config: str, keep_model: str | None = None) -> None:
        sm = self.clients.sagemaker
        got = found(sm.describe_endpoint_config, f"read endpoint config {config}", EndpointConfigName=config)
        if got is None:
            return
        absent_ok(sm.delete_endpoint_config, f"delete endpoint config {config}", EndpointConfigName=config)
        for variant in got.get("ProductionVariants") or []:
            model = variant.get("ModelName")
            if model and model != keep_model:
                absent_ok(sm.delete_model, f"delete model {model}", ModelName=model)

    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        sm = self.clients.sagemaker
        described = self._describe(id)
        if described is not None:
            absent_ok(sm.delete_endpoint, f"delete endpoint {id}", EndpointName=id)
            self._drop_config(described["EndpointConfigName"])
        self._drop_leftovers(id, self.identity(op, prior))
        group = prior.get("model")
        group_arn = self._group_arn_or_none(str(group)) if group else None
        if group_arn and REGISTRATION + id in (self._group_tags(group_arn) or {}):
            call(
                sm.delete_tags,
                f"unregister endpoint {id}",
                ResourceArn=group_arn,
                TagKeys=[REGISTRATION + id],
            )

    def _drop_leftovers(self, name: str, identity: str) -> None:
        """Configs and models named after the endpoint and tagged as this resource's: a create
        or update stopped between its steps (a kill, a timeout) leaves some that no endpoint
        uses, and once the resource is gone nothing else would delete them."""
        sm, stem = self.clients.sagemaker, name[:40]  # a cut name keeps at least this much
        configs = self._named(sm.list_endpoint_configs, "EndpointConfig", stem)
        for config, arn in configs:
            if self._live_tags(arn).get(MANAGED) == identity:
                self._drop_config(config)
        for model, arn in self._named(sm.list_models, "Model", stem):
            if self._live_tags(arn).get(MANAGED) == identity:
                absent_ok(sm.delete_model, f"delete model {model}", ModelName=model)

    def _named(self, fn: Any, kind: str, stem: str) -> list[tuple[str, str]]:
        """(name, ARN) of each object of a SageMaker list call whose name starts with `stem`."""
        listed = pages(fn, f"list {kind}s", f"{kind}s", NameContains=stem)
        return [
            (str(item[f"{kind}Name"]), str(item[f"{kind}Arn"]))
            for item in listed
            if str(item[f"{kind}Name"]).startswith(stem)
        ]

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By the endpoint's name or ARN (a deployed endpoint: a pending one lives in state only)."""
        name = ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref
        found = self.read(name, {}, op)
        return None if found is None else (name, found)


def _sibling_arn(arn: str, kind: str, name: str) -> str:
    """The ARN of another SageMaker object in the same account and region."""
    head = arn.split(":", 5)
    return ":".join(head[:5]) + f":{kind}/{name}"


def _encode(spec: dict[str, Any]) -> str:
    """A tag value holding `spec` (SageMaker tag values allow base64's characters, 256 of
    them): without its description and tags when they do not fit (the state keeps them)."""
    text = base64.b64encode(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).decode()
    if len(text) > 256 and ("description" in spec or "tags" in spec):
        return _encode({k: v for k, v in spec.items() if k not in ("description", "tags")})
    if len(text) > 256:
        raise ConfigError(
            "the endpoint's settings are too long to record on SageMaker (256 characters)",
            field=("sagemaker",),
        )
    return text


def _decode(value: str) -> dict[str, Any]:
    try:
        found = json.loads(base64.b64decode(value.encode()).decode()) if value else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
