"""What the engine enforces on any provider, shown with the local provider and variants of it
registered as plugins (a provider with a bug, one that throttles, one that allows only two
calls at once), run through the CLI in this process: the engine checks what create returns
against the plan, retries throttling on the provider's own schedule, and keeps to its
concurrency limit beside --parallelism."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from engine_helpers import Project, dataset_project

from mlops_decl.cli.main import cli
from mlops_decl.provider import (
    BUILTIN_PROVIDERS,
    BuiltinProvider,
    Handler,
    Planned,
    ProviderError,
    RetryPolicy,
)
from mlops_decl.providers.local.dataset import DatasetHandler
from mlops_decl.providers.local.provider import LocalProvider
from mlops_decl.state.local import LocalStateStore


class _Variant(LocalProvider):
    """The local provider with another dataset handler."""

    dataset_class: ClassVar[type[DatasetHandler]] = DatasetHandler

    def handler(self, kind: str) -> Handler | None:
        if kind != "dataset":
            return super().handler(kind)
        if not hasattr(self, "_datasets"):
            self._datasets = self.dataset_class(self.env)
        return self._datasets


class ChangesDescription(DatasetHandler):
    def _create(self, desired: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        id, attrs = super()._create(desired)
        return id, {**attrs, "description": "rewritten by the service"}


class BuggyProvider(_Variant):
    dataset_class = ChangesDescription


class SaysDescriptionIsUnknown(ChangesDescription):
    def plan(self, desired: dict[str, Any], prior: dict[str, Any] | None) -> Planned:
        return Planned(self.planned(desired, prior), unknown=[("description",)])


class HonestProvider(_Variant):
    dataset_class = SaysDescriptionIsUnknown


class Throttles(DatasetHandler):
    calls: ClassVar[list[float]] = []

    def _create(self, desired: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        Throttles.calls.append(time.monotonic())
        if len(Throttles.calls) <= 6:  # more than the transient schedule's 5 tries
            raise ProviderError("Rate exceeded", category="throttled", retry_after=0.05)
        return super()._create(desired)


class ThrottlingProvider(_Variant):
    dataset_class = Throttles
    retry_policy = RetryPolicy(throttle_attempts=10)


class Slow(DatasetHandler):
    lock = threading.Lock()
    running = 0
    most = 0

    def _create(self, desired: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        with Slow.lock:
            Slow.running += 1
            Slow.most = max(Slow.most, Slow.running)
        time.sleep(0.2)
        with Slow.lock:
            Slow.running -= 1
        return super()._create(desired)


class NarrowProvider(_Variant):
    dataset_class = Slow
    concurrency = 2


def _use(monkeypatch: pytest.MonkeyPatch, cls: type) -> None:
    monkeypatch.setitem(BUILTIN_PROVIDERS, "local", BuiltinProvider("local", f"{__name__}:{cls.__name__}"))


def _run(p: Project, *args: str) -> Any:
    return CliRunner().invoke(cli, ["-C", str(p.root), *args], catch_exceptions=False)


def _state(p: Project) -> Any:
    store = LocalStateStore(p.root / ".mlops" / "state.json")
    try:
        return store.read()
    finally:
        store.close()


def test_a_create_that_breaks_a_planned_value_is_a_provider_bug_and_taints_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.write("mlops.yaml", p.root.joinpath("mlops.yaml").read_text() + "      description: as configured\n")
    _use(monkeypatch, BuggyProvider)
    res = _run(p, "apply", "--auto-approve")
    assert res.exit_code == 1
    assert "provider `local` produced an inconsistent result: `description` is not what was planned" in res.output
    assert "'as configured'" in res.output and "'rewritten by the service'" in res.output
    assert _state(p).resources["dataset.a"].status == "tainted"


def test_a_value_planned_unknown_may_come_back_as_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = dataset_project(tmp_path, ["a"])
    p.write("mlops.yaml", p.root.joinpath("mlops.yaml").read_text() + "      description: as configured\n")
    _use(monkeypatch, HonestProvider)
    assert "(known after apply)" in _run(p, "plan").output
    res = _run(p, "apply", "--auto-approve")
    assert res.exit_code == 0, res.output
    rs = _state(p).resources["dataset.a"]
    assert rs.status is None and rs.attributes["description"] == "rewritten by the service"


def test_throttling_is_retried_on_the_providers_longer_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = dataset_project(tmp_path, ["a"])
    _use(monkeypatch, ThrottlingProvider)
    Throttles.calls.clear()
    res = _run(p, "apply", "--auto-approve")
    assert res.exit_code == 0, res.output
    assert len(Throttles.calls) == 7
    gaps = [b - a for a, b in zip(Throttles.calls, Throttles.calls[1:], strict=False)]
    assert min(gaps) >= 0.05  # retry_after, not the backoff's jitter (which may be ~0)
    assert _state(p).resources["dataset.a"].status is None


def test_a_providers_concurrency_limit_holds_beside_parallelism(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = dataset_project(tmp_path, [f"d{i}" for i in range(6)])
    _use(monkeypatch, NarrowProvider)
    Slow.most = 0
    res = _run(p, "apply", "--auto-approve", "--parallelism", "6")
    assert res.exit_code == 0, res.output
    assert Slow.most == 2


class AlwaysThrottles(DatasetHandler):
    def _create(self, desired: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise ProviderError("Rate exceeded", category="throttled", retry_after=0.01)


class HopelessProvider(_Variant):
    dataset_class = AlwaysThrottles
    retry_policy = RetryPolicy(throttle_attempts=3)


def test_throttling_past_the_schedule_is_one_error_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = dataset_project(tmp_path, ["a"])
    _use(monkeypatch, HopelessProvider)
    res = _run(p, "apply", "--auto-approve")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "dataset.a: Rate exceeded" in res.output and "lower --parallelism" in res.output


def test_time_limits_resource_then_command_line_then_handler_then_kind() -> None:
    from mlops_decl.providers.local.endpoint import EndpointHandler
    from mlops_decl.retry import DEFAULT_TIMEOUT, limit_for

    class Patient(DatasetHandler):
        timeouts: ClassVar[dict[str, float]] = {"create": 3600.0}

    assert limit_for("create", {"create": "1h30m"}, Patient, 5.0) == 5400.0
    assert limit_for("create", {}, Patient, 5.0) == 5.0  # --call-timeout
    assert limit_for("create", None, Patient, ...) == 3600.0
    assert limit_for("create", None, EndpointHandler, ...) == 1800.0  # endpoints settle slowly
    assert limit_for("create", None, DatasetHandler, ...) == DEFAULT_TIMEOUT
    assert limit_for("create", {}, DatasetHandler, None) is None  # --call-timeout 0: no limit
