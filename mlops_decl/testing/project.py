"""The case as a project a user would write, run through the real CLI in this process: the
engine end to end (graph, refresh, diff, apply, state) over the provider under test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_decl.provider import BUILTIN_PROVIDERS, BuiltinProvider
from mlops_decl.testing.case import ProviderCase


@dataclass
class Run:
    rc: int
    output: str


def write_project(case: ProviderCase, root: Path, name: str, settings: dict[str, Any]) -> list[str]:
    """mlops.yaml with every sample, each referring to what it needs as `${kind.name}`; the
    resource addresses in dependency order."""
    refs = {s.kind: f"${{{s.kind}.{s.name}}}" for s in case.samples}
    resources: dict[str, dict[str, Any]] = {}
    for s in case.samples:
        resources.setdefault(s.kind, {})[s.name] = s.fields_for(refs)
    config = {
        "project": "conformance",
        "default_provider": name,
        "providers": {name: settings},
        "resources": resources,
    }
    (root / "mlops.yaml").write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
    return [f"{s.kind}.{s.name}" for s in case.samples]


@contextmanager
def registered(case: ProviderCase, name: str) -> Iterator[None]:
    """The engine finds the provider under `name` as if installed by entry point."""
    target = case.provider
    value = f"{target.__module__}:{target.__qualname__}"
    before = BUILTIN_PROVIDERS.get(name)
    BUILTIN_PROVIDERS[name] = BuiltinProvider(name, value)
    try:
        yield
    finally:
        if before is None:
            BUILTIN_PROVIDERS.pop(name, None)
        else:
            BUILTIN_PROVIDERS[name] = before


def cli(root: Path, *args: str) -> Run:
    """One mlops-decl command in this process, as a user types it in `root`."""
    import os

    from click.testing import CliRunner

    from mlops_decl.cli.main import cli as group

    cwd = os.getcwd()  # `-C` changes directory, for the whole process
    try:
        res = CliRunner().invoke(group, ["-C", str(root), "--no-color", *args], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    return Run(res.exit_code, res.output)


def state_ids(root: Path) -> dict[str, str]:
    from mlops_decl.cli.common import backend_for

    store, _ = backend_for(root)
    return {address: rs.id for address, rs in store.read().resources.items()}
