"""Find a project's YAML files, check them against the raw schema and merge them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_decl import kind_check
from mlops_decl.config.errors import translate
from mlops_decl.config.raw_check import PROJECT_FILE, SETTINGS_KEYS, allowed_fields, check_file
from mlops_decl.config.yaml_source import PathKey, Positions, parse_yaml, read_text
from mlops_decl.diagnostics import Diagnostic, DiagnosticError, Source

# Variable files are YAML too; this suffix keeps them out of the config itself.
VAR_FILE_SUFFIXES = (".vars.yaml", ".vars.yml")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass
class ResourceConfig:
    address: str
    kind: str
    name: str
    body: dict[str, Any]
    positions: Positions
    path: PathKey  # where the body sits in its file

    def source(self, sub: PathKey = (), *, key: bool = False) -> Source:
        return self.positions.source((*self.path, *sub), key=key)


@dataclass(frozen=True)
class VariableSpec:
    """A variable's declaration as kinds.Variable validates it (defaults filled in)."""

    type: str = "any"
    default: Any = None
    description: str | None = None
    sensitive: bool = False


@dataclass(frozen=True)
class Settings:
    """mlops.yaml's settings as kinds.ProjectSettings validates them (defaults filled in)."""

    project: str
    backend: dict[str, Any]  # kinds.Backend's fields
    default_provider: str = "local"
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    allow_paths: list[str] = field(default_factory=list)  # data outside the project it may read


@dataclass
class VariableDecl:
    name: str
    decl: VariableSpec
    source: Source


@dataclass
class OutputConfig:
    name: str
    value: Any
    sensitive: bool
    description: str | None
    source: Source
    positions: Positions | None = None
    path: PathKey = ()  # where the value sits in its file

    def value_source(self, sub: PathKey = ()) -> Source:
        """The position of (a part of) the output's value, for reference errors."""
        if self.positions is None:
            return self.source
        return self.positions.source((*self.path, *sub))


@dataclass
class Project:
    root: Path
    settings: Settings
    settings_positions: Positions
    variables: dict[str, VariableDecl] = field(default_factory=dict)
    resources: dict[str, ResourceConfig] = field(default_factory=dict)
    outputs: dict[str, OutputConfig] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> text

    @property
    def config_hash(self) -> str:
        import hashlib  # hashed when a plan asks, from the text already read for parsing

        h = hashlib.sha256()
        for name in sorted(self.files):
            digest = hashlib.sha256(self.files[name].encode()).hexdigest()
            h.update(name.encode() + b"\0" + digest.encode() + b"\n")
        return h.hexdigest()


def discover(root: Path) -> list[Path]:
    """mlops.yaml first, then every other *.yaml/*.yml, skipping dot-directories."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if (
                fn.endswith((".yaml", ".yml"))
                and not fn.endswith(VAR_FILE_SUFFIXES)
                and not fn.startswith(".")
            ):
                found.append(Path(dirpath) / fn)
    top = root / PROJECT_FILE
    rest = [p for p in found if p != top]
    return [top, *rest]


def load_project(root: Path) -> Project:
    """Parse, check against the raw schema, and merge every file of the project."""
    root = root.resolve()
    top = root / PROJECT_FILE
    if not top.is_file():
        raise DiagnosticError(
            Diagnostic(
                f"no {PROJECT_FILE} in {root}",
                hint="run `mlops-decl init` to create one, or pass -C DIR to point at the project",
            )
        )
    project: Project | None = None
    errors: list[Diagnostic] = []
    for path in discover(root):
        rel = path.relative_to(root).as_posix()
        is_project = path == top
        try:
            text = read_text(path, rel)
            data, pos = parse_yaml(text, rel)
            if data is None:
                if is_project:
                    raise DiagnosticError(
                        Diagnostic(
                            f"{PROJECT_FILE} is empty",
                            Source(rel, 1, 1),
                            hint="add `project: NAME` (`mlops-decl init` writes a starting point)",
                        )
                    )
                continue  # an empty resource file declares nothing, as an empty .tf file
            check_file(data, pos, is_project)
        except DiagnosticError as exc:
            errors.extend(exc.diagnostics)
            continue
        if is_project:
            project = _new_project(root, data, pos, errors)
        if project is not None:
            project.files[rel] = text
            _merge(project, data, pos, errors)
        # else: mlops.yaml is broken; the other files were still parsed and checked above
    if errors or project is None:
        raise DiagnosticError(errors)
    return project


def _new_project(
    root: Path, data: dict[str, Any], pos: Positions, errors: list[Diagnostic]
) -> Project | None:
    settings_data = {k: data[k] for k in SETTINGS_KEYS if k in data}
    try:
        settings = Settings(**kind_check.validate("project_settings", settings_data))
    except kind_check.ValidationError as exc:
        errors.extend(translate(exc, settings_data, pos, allowed_fields=allowed_fields))
        return None
    backend_errors = _backend_problems(settings.backend, pos)
    if backend_errors:
        errors.extend(backend_errors)
        return None
    return Project(root, settings, pos)


def _backend_problems(backend: dict[str, Any], pos: Positions) -> list[Diagnostic]:
    """`backend:` checked against the settings schema of the backend its `type` names."""
    if backend.get("type") in (None, "local") and all(v is None for k, v in backend.items() if k != "type"):
        return []  # the default backend with no settings: nothing to check, nothing to import
    from mlops_decl.state.plugins import check_settings

    return [
        Diagnostic(p.message, pos.source(("backend", *p.path), key=p.key), hint=p.hint)
        for p in check_settings(backend)
    ]


def _merge(project: Project, data: dict[str, Any], pos: Positions, errors: list[Diagnostic]) -> None:
    for name, body in (data.get("variables") or {}).items():
        src = pos.source(("variables", name), key=True)
        if name in project.variables:
            errors.append(_dup(f"variable `{name}`", project.variables[name].source, src))
            continue
        try:
            decl = VariableSpec(**kind_check.validate("variable", body or {}))
        except kind_check.ValidationError as exc:
            errors.extend(translate(exc, body, pos, base=("variables", name)))
            continue
        project.variables[name] = VariableDecl(name, decl, src)
    for kind, by_name in (data.get("resources") or {}).items():
        for name, body in (by_name or {}).items():
            address = f"{kind}.{name}"
            src = pos.source(("resources", kind, name), key=True)
            if not _NAME.match(str(name)):
                errors.append(
                    Diagnostic(
                        f"`{name}` is not a valid resource name",
                        src,
                        hint="use letters, digits, `_` and `-`, starting with a letter or `_`",
                    )
                )
                continue
            if address in project.resources:
                errors.append(_dup(address, project.resources[address].source(key=True), src))
                continue
            project.resources[address] = ResourceConfig(
                address, kind, str(name), body or {}, pos, ("resources", kind, name)
            )
    for name, out in (data.get("outputs") or {}).items():
        src = pos.source(("outputs", name), key=True)
        if name in project.outputs:
            errors.append(_dup(f"output `{name}`", project.outputs[name].source, src))
            continue
        if isinstance(out, dict) and "value" in out:
            project.outputs[name] = OutputConfig(
                name,
                out["value"],
                bool(out.get("sensitive", False)),
                out.get("description"),
                src,
                pos,
                ("outputs", name, "value"),
            )
        else:
            project.outputs[name] = OutputConfig(name, out, False, None, src, pos, ("outputs", name))


def _dup(what: str, first: Source, second: Source) -> Diagnostic:
    return Diagnostic(
        f"{what} is defined twice: first at {first}",
        second,
        hint="names must be unique across all files of the project; rename or remove one",
    )
