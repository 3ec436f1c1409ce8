"""A loaded project: config, variables, graph and the provider set. No provider calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_decl.config.expressions import UNKNOWN, Ref
from mlops_decl.config.project import Project, load_project
from mlops_decl.config.variables import Variables, resolve_variables
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.graph import Graph, build_graph
from mlops_decl.provider_hints import missing_provider_hint
from mlops_decl.provider_set import ProviderSet
from mlops_decl.resolve import resolve_body


@dataclass
class Workspace:
    root: Path
    project: Project
    variables: Variables
    graph: Graph
    providers: ProviderSet

    def provider_of(self, address: str) -> str:
        rc = self.project.resources[address]
        name = rc.body.get("provider")
        return str(name) if isinstance(name, str) and name else self.project.settings.default_provider

    def var_lookup(self, ref: Ref) -> Any:
        return self.variables.values[ref.name]

    @property
    def state_dir(self) -> Path:
        return self.root / ".mlops"

    def plan_variables(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(non-sensitive values, sha256 of sensitive ones) for a saved plan."""
        import hashlib

        clear = {k: v for k, v in self.variables.values.items() if k not in self.variables.sensitive}
        hashed = {
            k: hashlib.sha256(repr(v).encode()).hexdigest()
            for k, v in self.variables.values.items()
            if k in self.variables.sensitive
        }
        return clear, hashed


def load_workspace(
    root: Path,
    *,
    var_files: Sequence[str] = (),
    cli_vars: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Workspace:
    project = load_project(root)
    graph = build_graph(project)
    variables = resolve_variables(project, var_files=var_files, cli_vars=cli_vars, env=env, cwd=cwd)
    providers = ProviderSet(
        project.root,
        project.settings.project,
        project.settings.providers,
        variables.values,
        project.settings_positions,
    )
    ws = Workspace(project.root, project, variables, graph, providers)
    check_workspace(ws)
    return ws


def check_workspace(ws: Workspace) -> None:
    """The static checks `validate` runs: providers exist, values fit their kinds."""
    errors: list[Diagnostic] = []
    settings = ws.project.settings
    if not ws.providers.exists(settings.default_provider):
        errors.append(
            Diagnostic(
                f"default_provider `{settings.default_provider}` is not installed",
                ws.project.settings_positions.source(("default_provider",)),
                hint=missing_provider_hint(settings.default_provider, ws.providers.names),
            )
        )
    for name in settings.providers:
        if not ws.providers.exists(name):
            errors.append(
                Diagnostic(
                    f"unknown provider `{name}`",
                    ws.project.settings_positions.source(("providers", name), key=True),
                    hint=missing_provider_hint(name, ws.providers.names),
                )
            )

    def lookup(ref: Ref) -> Any:
        return ws.var_lookup(ref) if ref.kind == "var" else UNKNOWN

    # A body that reads no variable has no value known before apply, so resolving it here
    # checks what the first check (raw_check) already did; `$${` escapes are the exception
    # (the first check sets them aside with the references, resolving unescapes them).
    escapes = any("$${" in text for text in ws.project.files.values())
    for address, rc in ws.project.resources.items():
        prov = rc.body.get("provider")
        if isinstance(prov, str) and not ws.providers.exists(prov):
            errors.append(
                Diagnostic(
                    f"{address}: unknown provider `{prov}`",
                    rc.source(("provider",)),
                    hint=missing_provider_hint(prov, ws.providers.names),
                )
            )
        if not escapes and address not in ws.graph.var_users:
            continue
        try:
            resolve_body(rc, lookup, ws.provider_of(address))
        except DiagnosticError as exc:
            errors.extend(exc.diagnostics)
    if errors:
        raise DiagnosticError(errors)
