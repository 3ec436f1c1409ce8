"""Providers for the runtime-action tests, registered by the tests only.

`JobsProvider` keeps every kind's objects in a JSON file and runs training as jobs of a
pretend job service (a JSON file too, so any process, on any "machine", sees them): `run`
returns at once with a job id; a job succeeds after `polls` status calls. Settings make
calls fail: `fail_runs` (the first N `run` calls raise a throttling error), `broken_predict`
(predict raises a library exception). `NoRunProvider` lists no `run`.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

from mlops_decl.actions.results import Prediction, RunHandle, RunStatus
from mlops_decl.provider import NAME_KEY, Attributes, Handler, ProviderContext, ProviderError, RuntimeContext

KINDS = ("dataset", "feature_group", "training_pipeline", "model", "registry_policy", "endpoint", "monitor")


class _File:
    """A JSON file; `lock` is held around each read-modify-write (the engine applies in threads)."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.RLock()

    def load(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data))


class Objects(Handler):
    kind = "any"

    def __init__(self, kind: str, file: _File):
        self.kind, self.file = kind, file  # type: ignore[misc]

    def read(self, id: str, prior: Attributes, op: Any = None) -> Attributes | None:
        with self.file.lock:
            found: Attributes | None = self.file.load().get(f"{self.kind}.{id}")
        return found

    def create(self, desired: Attributes, op: Any = None) -> tuple[str, Attributes]:
        id = str(desired[NAME_KEY])
        attrs = {k: v for k, v in desired.items() if k != NAME_KEY}
        with self.file.lock:
            data = self.file.load()
            data[f"{self.kind}.{id}"] = attrs
            self.file.save(data)
        return id, attrs

    def update(self, id: str, prior: Attributes, desired: Attributes, op: Any = None) -> Attributes:
        return self.create({**desired, NAME_KEY: id})[1]

    def delete(self, id: str, prior: Attributes, op: Any = None) -> None:
        with self.file.lock:
            data = self.file.load()
            data.pop(f"{self.kind}.{id}", None)
            self.file.save(data)


class JobsProvider:
    name = "jobs"

    def configure(self, settings: dict[str, Any], ctx: ProviderContext) -> None:
        self.settings = {"polls": 1, "fail_runs": 0, "broken_predict": False, **(settings or {})}
        self.objects = _File(ctx.data_dir / "objects.json")
        self.jobs = _File(ctx.data_dir / "jobs.json")
        self.calls = _File(ctx.data_dir / "calls.json")

    def kinds(self) -> frozenset[str]:
        return frozenset(KINDS)

    def handler(self, kind: str) -> Handler | None:
        return Objects(kind, self.objects) if kind in KINDS else None

    @classmethod
    def actions(cls) -> frozenset[tuple[str, str]]:
        return frozenset(
            {("training_pipeline", "run"), ("training_pipeline", "run_status"), ("endpoint", "predict")}
        )

    def action(self, kind: str, name: str) -> Any:
        table = {"run": self.run, "run_status": self.run_status, "predict": self.predict}
        return table[name] if (kind, name) in self.actions() else None

    def _count(self, what: str) -> int:
        calls = self.calls.load()
        calls[what] = calls.get(what, 0) + 1
        self.calls.save(calls)
        return int(calls[what])

    def run(self, id: str, attrs: Attributes, rt: RuntimeContext, wait: bool) -> RunHandle:
        if self._count("run") <= int(self.settings["fail_runs"]):
            raise ProviderError("ThrottlingException: Rate exceeded", retryable=True)
        run_id, job_id = uuid.uuid4().hex[:12], f"job-{uuid.uuid4().hex[:8]}"
        jobs = self.jobs.load()
        jobs[run_id] = {
            "job_id": job_id,
            "pipeline": id,
            "model": attrs["registers"],
            "left": self.settings["polls"],
        }
        self.jobs.save(jobs)
        rt.started(run_id, job_id)
        return RunHandle(run_id, "running", job_id)  # a job service: never done at once

    def run_status(self, id: str, attrs: Attributes, rt: RuntimeContext, run_id: str) -> RunStatus:
        jobs = self.jobs.load()
        job = jobs.get(run_id)
        if job is None:
            raise ProviderError(f"ResourceNotFound: no job for run {run_id}")
        if job["left"] > 0:
            job["left"] -= 1
            self.jobs.save(jobs)
            return RunStatus(run_id, "running", job["job_id"], model=job["model"])
        version = list(jobs).index(run_id) + 1
        return RunStatus(
            run_id, "succeeded", job["job_id"], model=job["model"], version=version, metrics={"auc": 0.9}
        )

    def predict(
        self, id: str, attrs: Attributes, rt: RuntimeContext, rows: list[dict[str, Any]], capture: bool = True
    ) -> Prediction:
        if self.settings["broken_predict"]:
            return Prediction(id, "m", 1, [1 / 0 for _ in rows])  # the SDK's own bug
        return Prediction(id, "m", 1, [0 for _ in rows])


class NoRunProvider(JobsProvider):
    name = "norun"

    @classmethod
    def actions(cls) -> frozenset[tuple[str, str]]:
        return frozenset({("endpoint", "predict")})
