"""The local provider itself: settings, kinds, shared handlers, the delay setting."""

from __future__ import annotations

import threading
import time

import pytest

from mlops_decl.kinds import KINDS
from mlops_decl.provider import ConfigError, Handler, Provider, ProviderError


def test_protocol_and_kinds(local):
    assert isinstance(local, Provider)
    assert local.name == "local"
    assert local.kinds() == frozenset(KINDS)
    for kind in KINDS:
        h = local.handler(kind)
        assert isinstance(h, Handler) and h.kind == kind
        assert "id" in h.computed
    assert local.handler("notebook") is None


def test_unknown_and_bad_settings(project, make_provider):
    with pytest.raises(ConfigError) as err:
        make_provider(project, {"delay": 5})
    assert (
        err.value.field == ("delay",) and "delay" in str(err.value) and "delay_ms" in (err.value.hint or "")
    )
    for bad in (-1, "5", True, 1.5):
        with pytest.raises(ConfigError):
            make_provider(project, {"delay_ms": bad})


def test_unconfigured(project):
    from mlops_decl.providers.local import LocalProvider

    with pytest.raises(ProviderError):
        LocalProvider().handler("dataset")


def test_handlers_are_created_once_across_threads(local):
    seen: list[Handler | None] = []
    threads = [threading.Thread(target=lambda: seen.append(local.handler("endpoint"))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(h) for h in seen}) == 1


def test_delay_ms_adds_latency_to_api_calls_not_plan(project, spec, write_csv, make_provider):
    write_csv(project / "d.csv", ["a"], [[1]])
    provider = make_provider(project, {"delay_ms": 50})
    h = provider.handler("dataset")
    desired = spec("dataset", "d", uri="d.csv")
    started = time.perf_counter()
    h.plan(desired, None)
    assert time.perf_counter() - started < 0.05
    started = time.perf_counter()
    id, attrs = h.create(desired)
    h.read(id, attrs)
    h.update(id, attrs, desired)
    h.delete(id, attrs)
    assert time.perf_counter() - started >= 0.2
    provider.close()


def test_nothing_touches_disk_until_used(project, make_provider):
    provider = make_provider(project)
    for kind in KINDS:
        provider.handler(kind)
    assert not (project / ".mlops").exists()
