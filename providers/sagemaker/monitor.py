"""monitor: the engine's reference profile of the baseline dataset (computed at apply, kept
under `.mlops/<instance>/profiles/` for `monitor check` and in S3 for other checkouts), the
baseline SageMaker Model Monitor reads (statistics.json, constraints.json), and, on the
monitor's endpoint, a data-quality job definition plus a monitoring schedule.

Everything lives under `<output_uri>/<name>/` (default: the provider's artifacts +
`/monitoring`); `monitor.json` there records the resource as applied, so a monitor without an
endpoint still exists somewhere and an import reads its fields back. Until the endpoint is
deployed (it waits for a model version), the monitor is `pending_endpoint`. The apply that
deploys the endpoint schedules the monitor too: plan sees the endpoint's planned change (its
PlanContext) and plans the update, which runs after the endpoint's. An endpoint deployed
some other way is read as `endpoint_ready`, and the next plan schedules the monitor.

SageMaker cannot change a job definition: a change to the `sagemaker:` block makes a new one
(named after its content, so a retried update finds it), moves the schedule onto it with
update_monitoring_schedule, and only then deletes the old one. A schedule belongs to one
endpoint: changing `endpoint` replaces the monitor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops_decl.operation import Operation
from mlops_decl.plan_context import PlanContext
from mlops_decl.provider import (
    DETACHED,
    UNKNOWN,
    Attributes,
    Category,
    CheckContext,
    ConfigError,
    Planned,
    ProviderError,
)

from .base import SageMakerHandler, block_of, public
from .client import call, found
from .dataset import split_uri
from .monitoring import jobs
from .schedules import every_few_hours, problems

BLOCK_KEYS = {"image_uri", "instance_type", "role", "output_uri"}
FIELDS = (
    "endpoint",
    "baseline",
    "features",
    "method",
    "threshold",
    "per_feature",
    "drift_share",
    "schedule",
    "on_drift",
    "description",
    "tags",
    "sagemaker",
)
COMPUTED = (
    "name",
    "baseline_uri",
    "baseline_version",
    "job_definition",
    "schedule_arn",
    "status",
    "reference_profile",
)
NO_ENDPOINT, PENDING, READY, SCHEDULED = "no_endpoint", "pending_endpoint", "endpoint_ready", "scheduled"
DEFAULT_SCHEDULE = "@hourly"


def status_of(schedule: dict[str, Any]) -> str:
    """The schedule's status in the monitor's words: a schedule SageMaker is still setting up
    (Pending) is scheduled already, so that an update, which passes through Pending, comes
    back as planned."""
    found = str(schedule.get("MonitoringScheduleStatus") or SCHEDULED)
    return SCHEDULED if found in ("Pending", "Scheduled") else found.lower()


def _scheduled() -> dict[str, Any]:
    return {"status": SCHEDULED, "job_definition": UNKNOWN, "schedule_arn": UNKNOWN}


def _pending() -> dict[str, Any]:
    return {"status": PENDING, "job_definition": None, "schedule_arn": None}


def _deployed(context: PlanContext | None, endpoint: Any) -> bool | None:
    """Whether the monitor's endpoint serves a version once this apply has run (its planned
    serving_version is a version, or unknown until applied); None when the plan does not
    hold the endpoint (no context, or an endpoint named outside the configuration)."""
    planned = context.resource("endpoint", endpoint) if context is not None and endpoint else None
    if planned is None:
        return None
    return planned.after.get("serving_version") is not None


class MonitorHandler(SageMakerHandler):
    kind = "monitor"
    idempotent_create = True  # names from the identity: a retried create adopts its objects
    force_new = frozenset({"endpoint"})
    computed = frozenset({"id", *COMPUTED})
    timeouts = {"create": 1800.0, "update": 1800.0}

    # -- planning ---------------------------------------------------------------------------
    def _check(self, desired: Attributes) -> dict[str, Any]:
        """The block, with what the monitor's endpoint needs said at plan."""
        block = block_of(desired, BLOCK_KEYS, "monitor")
        if not (block.get("output_uri") or self.clients.settings.artifacts):
            raise ConfigError(
                "the monitor needs an S3 location for its baseline",
                field=("sagemaker", "output_uri"),
                hint="set sagemaker: {output_uri: s3://bucket/prefix} or the provider's artifacts",
            )
        if desired.get("endpoint"):
            every_few_hours(str(desired.get("schedule") or DEFAULT_SCHEDULE))
            if not (block.get("role") or self.clients.settings.execution_role):
                raise ConfigError(
                    "the monitor's job needs a role to run as",
                    field=("sagemaker", "role"),
                    hint="set sagemaker: {role: arn:aws:iam::...} or the provider's execution_role",
                )
            if not (block.get("image_uri") or self.clients.settings.region in jobs.ANALYZER):
                raise ConfigError(
                    f"no Model Monitor image is known for {self.clients.settings.region}",
                    field=("sagemaker", "image_uri"),
                    hint="set sagemaker: {image_uri: ...}: sagemaker.image_uris.retrieve('model-monitor', region)",
                )
        return block

    def validate(self, desired: Attributes, ctx: CheckContext) -> list[ConfigError]:
        return problems(desired, every_few_hours, DEFAULT_SCHEDULE) if desired.get("endpoint") else []

    def _prefix(self, desired: Attributes, name: str) -> str:
        block = block_of(desired, BLOCK_KEYS, "monitor")
        base = block.get("output_uri") or f"{self.clients.settings.artifacts}/monitoring"
        return f"{str(base).rstrip('/')}/{name}"

    def plan(
        self, desired: Attributes, prior: Attributes | None, context: PlanContext | None = None
    ) -> Planned:
        self._check(desired)
        planned = public(desired)
        name = prior["name"] if prior else self.name_for(DETACHED, desired)
        planned["name"] = name
        planned["baseline_uri"] = f"{self._prefix(desired, name)}/baseline"
        if not desired.get("endpoint"):
            planned.update(status=NO_ENDPOINT, job_definition=None, schedule_arn=None)
        deployed = _deployed(context, desired.get("endpoint"))
        if prior is None:
            if deployed is not None:  # its endpoint is in this plan: the create schedules it, or waits
                planned.update(_scheduled() if deployed else _pending())
            return Planned(planned)
        profile = prior.get("reference_profile")
        same = (
            isinstance(profile, dict)
            and all(planned.get(k) == prior.get(k) for k in ("baseline", "features"))
            and profile.get("baseline_version") == prior.get("baseline_version")
            and self._profile_path(name).is_file()
        )
        planned["reference_profile"] = profile if same else UNKNOWN
        planned["baseline_version"] = prior.get("baseline_version")
        if desired.get("endpoint"):
            status = prior.get("status")
            if status == READY or (status == PENDING and deployed):
                # deployed now, or by this apply before the monitor: the update schedules it
                planned.update(_scheduled())
            elif status == PENDING:
                planned.update(_pending())
            else:
                same_job = planned.get("sagemaker") == prior.get("sagemaker")
                planned["job_definition"] = prior.get("job_definition") if same_job else UNKNOWN
                planned.update(status=status, schedule_arn=prior.get("schedule_arn"))
        return Planned(planned)

    # -- files in S3 --------------------------------------------------------------------------
    def _get_json(self, uri: str) -> dict[str, Any] | None:
        bucket, key = split_uri(uri)
        got = found(self.clients.s3.get_object, f"read {uri}", Bucket=bucket, Key=key)
        if got is None:
            return None
        try:
            data = json.loads(got["Body"].read())
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _put(self, uri: str, body: bytes, content_type: str = "application/json") -> None:
        bucket, key = split_uri(uri)
        call(
            self.clients.s3.put_object,
            f"write {uri}",
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
        )

    def _profile_path(self, name: str) -> Path:
        if self.context is None:
            raise ProviderError("the sagemaker monitor needs the project's data directory (configure)")
        return self.context.data_dir / "profiles" / f"{name}.npz"

    # -- reading ----------------------------------------------------------------------------
    def _endpoint_exists(self, endpoint: str) -> bool:
        sm = self.clients.sagemaker
        return found(sm.describe_endpoint, f"read endpoint {endpoint}", EndpointName=endpoint) is not None

    def _baseline_version(self, uri: str) -> str | None:
        from .actions.monitoring import reference_data

        return reference_data(self.clients, "", {"baseline": uri}, None, read=False).version

    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        fields: dict[str, Any] | None = (
            {k: prior[k] for k in FIELDS if k in prior} if prior.get("name") else None
        )
        profile = prior.get("reference_profile")
        schedule = (
            jobs.describe_schedule(self.clients, id)
            if fields is not None and prior.get("schedule_arn")
            else None
        )
        base = str(prior.get("baseline_uri") or f"{self._prefix(fields or {}, id)}/baseline")
        prefix = base.rsplit("/", 1)[0]
        if schedule is None:  # nothing on SageMaker says it exists: its record in S3 does
            record = self._get_json(f"{prefix}/monitor.json")
            if record is None:
                return None
            fields = fields if fields is not None else dict(record.get("fields") or {})
            profile = profile or record.get("reference_profile")
            if fields.get("endpoint"):
                schedule = jobs.describe_schedule(self.clients, id)
        assert fields is not None
        if isinstance(profile, dict):
            self._restore_profile(id, prefix, profile)
        status, job, arn = NO_ENDPOINT, None, None
        if fields.get("endpoint") and schedule is not None:
            config = schedule.get("MonitoringScheduleConfig") or {}
            status, job, arn = (
                status_of(schedule),
                config.get("MonitoringJobDefinitionName"),
                schedule["MonitoringScheduleArn"],
            )
            live = (config.get("ScheduleConfig") or {}).get("ScheduleExpression")
            if live != every_few_hours(str(fields.get("schedule") or DEFAULT_SCHEDULE)):
                fields = {**fields, "schedule": live}  # changed on SageMaker: the plan puts it back
        elif fields.get("endpoint"):
            status = READY if self._endpoint_exists(str(fields["endpoint"])) else PENDING
        return {
            **fields,
            "name": id,
            "baseline_uri": base,
            "baseline_version": self._baseline_version(str(fields.get("baseline"))),
            "job_definition": job,
            "schedule_arn": arn,
            "status": status,
            "reference_profile": profile,
        }

    def _restore_profile(self, name: str, prefix: str, profile: dict[str, Any]) -> None:
        """Another checkout (or an import) has no profile file yet: fetch the one S3 keeps."""
        path = self._profile_path(name)
        if path.is_file():
            return
        bucket, key = split_uri(f"{prefix}/baseline/profile.npz")
        got = found(self.clients.s3.get_object, f"read s3://{bucket}/{key}", Bucket=bucket, Key=key)
        if got is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(got["Body"].read())

    # -- making -----------------------------------------------------------------------------
    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        name, identity = self.name_for(op, desired), self.identity(op, desired)
        self._check(desired)
        record = self._get_json(f"{self._prefix(desired, name)}/monitor.json")
        if record is not None and record.get("identity") != identity:
            raise ProviderError(
                f"a monitor named {name} exists and is not this resource's ({record.get('identity')}); "
                f"import it with `mlops-decl import monitor.NAME {name}`, or rename the resource",
                category=Category.CONFLICT,
            )
        op.record_id(name, {"name": name})
        return name, self._converge(name, None, desired, op)

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        return self._converge(id, prior, desired, op)

    def _converge(
        self, name: str, prior: Attributes | None, desired: Attributes, op: Operation
    ) -> Attributes:
        from .monitoring.baseline import constraints, statistics

        block = self._check(desired)
        prefix = self._prefix(desired, name)
        profile = self._reference_profile(name, desired, prior)
        self._put(f"{prefix}/baseline/statistics.json", json.dumps(statistics(profile)).encode())
        self._put(f"{prefix}/baseline/constraints.json", json.dumps(constraints(profile)).encode())
        self._put(
            f"{prefix}/baseline/profile.npz",
            self._profile_path(name).read_bytes(),
            "application/octet-stream",
        )
        fields = {k: desired.get(k) for k in FIELDS if k in desired}
        record = {"identity": self.identity(op, desired), "fields": fields, "reference_profile": profile}
        self._put(f"{prefix}/monitor.json", json.dumps(record, sort_keys=True).encode())
        status, job, arn = NO_ENDPOINT, None, None
        endpoint = desired.get("endpoint")
        if endpoint and self._endpoint_exists(str(endpoint)):
            tags = self.tags(desired, self.identity(op, desired))
            spec = jobs.Job(
                endpoint=str(endpoint),
                prefix=prefix,
                image=block.get("image_uri"),
                instance_type=str(block.get("instance_type") or "ml.m5.xlarge"),
                role=str(block.get("role") or self.clients.settings.execution_role),
            )
            job = jobs.ensure_job_definition(self.clients, name, spec, tags)
            expression = every_few_hours(str(desired.get("schedule") or DEFAULT_SCHEDULE))
            arn = jobs.put_schedule(self.clients, name, job, expression, tags)
            old = (prior or {}).get("job_definition")
            if old and old != job:  # only now: the schedule no longer names it
                jobs.drop_job_definition(self.clients, old)
            status = status_of(jobs.describe_schedule(self.clients, name) or {})
        elif endpoint:
            status = PENDING
        return {
            **public(desired),
            "name": name,
            "baseline_uri": f"{prefix}/baseline",
            "baseline_version": profile.get("baseline_version"),
            "job_definition": job,
            "schedule_arn": arn,
            "status": status,
            "reference_profile": profile,
        }

    def _reference_profile(self, name: str, desired: Attributes, prior: Attributes | None) -> dict[str, Any]:
        """The engine's profile of the baseline (kept while baseline and features still fit)."""
        from mlops_decl.ml.monitor import Settings, validate_summary
        from mlops_decl.ml.profile import reference_profile

        from .actions.monitoring import reference_data

        assert self.context is not None
        path = self._profile_path(name)
        previous = (prior or {}).get("reference_profile")
        root = self.context.project_dir
        profile = reference_profile(
            lambda read: reference_data(self.clients, name, desired, None, read=read),
            desired.get("features"),
            previous if isinstance(previous, dict) else None,
            path,
            str(path.relative_to(root)) if path.is_relative_to(root) else str(path),
            root,
        )
        validate_summary(profile["features"], Settings.of(desired))
        return profile

    # -- removing ---------------------------------------------------------------------------
    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        jobs.drop_schedule(self.clients, id, {prior.get("job_definition")})
        prefix = str(prior.get("baseline_uri") or f"{self._prefix(prior, id)}/baseline").rsplit("/", 1)[0]
        for key in (
            "baseline/statistics.json",
            "baseline/constraints.json",
            "baseline/profile.npz",
            "monitor.json",
        ):
            bucket, name = split_uri(f"{prefix}/{key}")
            call(self.clients.s3.delete_object, f"delete {prefix}/{key}", Bucket=bucket, Key=name)
        if self.context is not None:
            self._profile_path(id).unlink(missing_ok=True)

    def import_(self, ref: str, op: Operation = DETACHED) -> tuple[str, Attributes] | None:
        """By the monitor's name or its monitoring schedule's ARN."""
        name = ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref
        got = self.read(name, {}, op)
        return None if got is None else (name, got)
