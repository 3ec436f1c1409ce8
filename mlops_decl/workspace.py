"""A loaded project: config, variables, graph and the provider set. No provider calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_decl.checks.config import check_config
from mlops_decl.config.expressions import UNKNOWN, Ref
from mlops_decl.config.project import Project, load_project
from mlops_decl.config.variables import Variables, resolve_variables
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.graph import Graph, build_graph
from mlops_decl.provider_checks import check_block, check_instance
from mlops_decl.provider_set import ProviderSet
from mlops_decl.resolve import resolve_body
from mlops_decl.schedule import check_schedules


@dataclass
class Workspace:
    root: Path
    project: Project
    variables: Variables
    graph: Graph
    providers: ProviderSet

    def provider_of(self, address: str) -> str:
        """The provider instance a configured resource is on."""
        return provider_instance(self.project, address)

    def block_of(self, address: str) -> str:
        """The name of the provider block a resource's provider reads (`sagemaker: {...}`)."""
        return self.providers.type_of(self.provider_of(address))

    def provider_users(self) -> dict[str, list[str]]:
        """Provider instance -> the configured addresses on it, for every instance the config
        names (declared under `providers:` or named by a resource)."""
        out: dict[str, list[str]] = {name: [] for name in self.project.settings.providers}
        for address in sorted(self.project.resources):
            out.setdefault(self.provider_of(address), []).append(address)
        return out

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
    values: dict[str, Any] = {}  # filled below: settings are rendered only after the graph checks
    providers = ProviderSet(
        project.root,
        project.settings.project,
        project.settings.providers,
        values,
        project.settings_positions,
    )
    graph = graph_of(project, providers)
    variables = resolve_variables(project, var_files=var_files, cli_vars=cli_vars, env=env, cwd=cwd)
    values.update(variables.values)
    ws = Workspace(project.root, project, variables, graph, providers)
    check_workspace(ws)
    return ws


def graph_of(project: Project, providers: ProviderSet | None = None) -> Graph:
    """The project's checked graph; references to computed attributes are checked against
    what each resource's provider declares (imported, not configured)."""
    if providers is None:
        providers = ProviderSet(project.root, project.settings.project, project.settings.providers, {})
    found = providers

    def computed(address: str) -> frozenset[str] | None:
        instance = provider_instance(project, address)
        kind = project.resources[address].kind
        if not found.declares(instance, kind):
            return None  # not installed (reported once by check_workspace), or undeclared
        return found.computed(instance, kind)

    return build_graph(project, computed)


def provider_instance(project: Project, address: str) -> str:
    name = project.resources[address].body.get("provider")
    return str(name) if isinstance(name, str) and name else project.settings.default_provider


def check_workspace(ws: Workspace) -> None:
    """The static checks `validate` runs: providers installed and their settings and blocks fit
    their schemas, values fit their kinds. Providers are imported, never configured."""
    errors: list[Diagnostic] = []
    reported: set[str] = set()  # instances already named as not installed
    settings = ws.project.settings
    for name in settings.providers:
        errors.extend(check_instance(ws, name))
        if not ws.providers.exists(name):
            reported.add(name)
    if settings.default_provider not in reported and not ws.providers.exists(settings.default_provider):
        reported.add(settings.default_provider)
        errors.append(
            ws.providers.missing_error(
                settings.default_provider,
                ws.project.settings_positions.source(("default_provider",)),
                "default_provider: ",
            )
        )

    def lookup(ref: Ref) -> Any:
        return ws.var_lookup(ref) if ref.kind == "var" else UNKNOWN

    # A body that reads no variable has no value known before apply, so resolving it here
    # checks what the first check (raw_check) already did; `$${` escapes are the exception
    # (the first check sets them aside with the references, resolving unescapes them).
    escapes = any("$${" in text for text in ws.project.files.values())
    for address, rc in ws.project.resources.items():
        instance = ws.provider_of(address)
        if not ws.providers.exists(instance):
            if instance not in reported:
                reported.add(instance)
                errors.append(ws.providers.missing_error(instance, rc.source(("provider",)), f"{address}: "))
            continue
        errors.extend(check_block(ws, address, lookup))
        if not escapes and address not in ws.graph.var_users:
            continue
        try:
            resolve_body(rc, lookup, ws.block_of(address))
        except DiagnosticError as exc:
            errors.extend(exc.diagnostics)
    errors.extend(check_config(ws.project, lookup))
    errors.extend(check_schedules(ws.project.resources.values(), lookup))
    if not errors:  # providers' runtime actions, once every provider named is installed
        from mlops_decl.actions.check import check_actions

        errors.extend(check_actions(ws))
    if errors:
        raise DiagnosticError(errors)
