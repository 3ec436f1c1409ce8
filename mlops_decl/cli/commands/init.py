"""`mlops-decl init`: scaffold what is missing, then check providers and backend."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_decl.cli.output import handle_errors
from mlops_decl.provider_hints import NOT_WRITTEN_YET

MLOPS_YAML = """\
# yaml-language-server: $schema=https://raw.githubusercontent.com/mlops-decl/mlops-decl/main/schemas/project.schema.json
project: {name}
backend: {{type: local}}
default_provider: local
providers:
  local: {{}}
"""

GITIGNORE_LINE = ".mlops/"


@click.command()
@handle_errors
def init() -> None:
    """Create mlops.yaml and .gitignore where missing; check providers and backend."""
    from mlops_decl.config.project import load_project
    from mlops_decl.provider import available_providers

    root = Path.cwd()
    top = root / "mlops.yaml"
    if not top.exists():
        top.write_text(MLOPS_YAML.format(name=_slug(root.name)))
        click.echo("Created mlops.yaml")
    gi = root / ".gitignore"
    lines = gi.read_text().splitlines() if gi.exists() else []
    if GITIGNORE_LINE not in lines and ".mlops" not in lines:
        with gi.open("a") as fh:
            if lines and lines[-1] != "":
                fh.write("\n")
            fh.write(GITIGNORE_LINE + "\n")
        click.echo("Added .mlops/ to .gitignore")
    project = load_project(root)
    installed = available_providers()
    from mlops_decl.provider_set import ProviderSet

    instances = ProviderSet(root, project.settings.project, project.settings.providers, {})
    # provider types, not instance names: `aws_eu: {type: sagemaker}` needs sagemaker
    wanted = {instances.type_of(n) for n in (project.settings.default_provider, *project.settings.providers)}
    for name in sorted(wanted):
        if name in installed:
            mark = click.style("ok", fg="green")
        else:
            mark = click.style("not written yet" if name in NOT_WRITTEN_YET else "missing", fg="red")
        click.echo(f"provider {name}: {mark}")
    missing = sorted(wanted - set(installed))
    backend = project.settings.backend
    click.echo(
        f"backend: {backend['type']}"
        + (f" ({backend['path'] or '.mlops/state.json'})" if backend["type"] == "local" else "")
    )
    (root / ".mlops").mkdir(mode=0o700, exist_ok=True)
    if missing:
        from mlops_decl.diagnostics import Diagnostic, DiagnosticError
        from mlops_decl.provider_set import install_hint

        raise DiagnosticError(
            Diagnostic(
                f"provider(s) not installed: {', '.join(missing)}",
                hint=f"{install_hint(missing[0])}; installed providers: {', '.join(sorted(installed))}",
            )
        )
    click.echo(
        click.style("\nmlops-decl has been initialized.", fg="green", bold=True) + " Next: `mlops-decl plan`."
    )


def _slug(name: str) -> str:
    import re

    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    return slug or "project"
