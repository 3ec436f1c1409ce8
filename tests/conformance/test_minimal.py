"""The provider conformance suite (mlops_decl.testing) on a second, minimal provider over a
REST service (minimal_provider/), written from docs/providers.md alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from minimal_provider.provider import MinimalProvider
from minimal_provider.service import Platform

from mlops_decl.testing import ProviderCase, Sample, conformance


@contextmanager
def platform(project_dir: Path) -> Iterator[Platform]:
    with Platform() as service:
        yield service


def with_a_version(service: Platform, id: str, attrs: dict) -> dict:
    """list_versions has something to list: the platform registers a version first."""
    service.register(id)
    return {}


COLLECTIONS = {"dataset": "datasets", "model": "models"}
NAMES = {"dataset": "sales", "model": "churn"}

CASE = ProviderCase(
    provider=MinimalProvider,
    server=platform,
    settings=lambda service: {"endpoint": service.url, "timeout": 5},
    samples=[
        Sample(
            "dataset",
            "sales",
            {"uri": "s3://bucket/sales.csv", "tags": {"team": "growth"}},
            in_place={"description": "daily sales"},
            force_new={"uri": "s3://bucket/sales-v2.csv"},
        ),
        Sample("model", "churn", {}, in_place={"description": "churn classifier"}),
    ],
    bad_settings=[
        ({}, ("endpoint",)),
        ({"endpoint": "ftp://example.org"}, ("endpoint",)),
        ({"endpoint": "http://127.0.0.1:1", "timeout": 0}, ("timeout",)),
        ({"endpoint": "http://127.0.0.1:1", "region": "eu-west-1"}, ("region",)),
    ],
    api_calls=lambda service: service.requests,
    throttle=lambda service, n: service.throttle(n),
    remove=lambda service, kind, id: service.remove(COLLECTIONS[kind], id),
    import_refs=lambda kind, id, attrs: [NAMES[kind]],
    actions={("model", "list_versions"): with_a_version},
)

TestMinimalConformance = conformance(CASE)
