"""A file's first check, before references are resolved (the first of docs/kinds.md's two).

The file's shape is checked against small shell schemas, then each resource body against its
kind's own, setting aside errors at values that hold a `${...}` reference: those are checked
once resolved (mlops_decl.resolve). One schema per kind serves both checks, so no raw twin of
every kind is built on each start; schema.py still derives the twins, for the JSON Schema only.
The schemas are the kinds' models compiled for pydantic-core (kind_check.py).
"""

from __future__ import annotations

import difflib
from typing import Any

from mlops_decl import kind_check
from mlops_decl.config.errors import errors_outside, paths_where, translate
from mlops_decl.config.yaml_source import PathKey, Positions
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.kind_rules import KIND_NAMES

PROJECT_FILE = "mlops.yaml"
SETTINGS_KEYS = ("project", "backend", "default_provider", "providers", "allow_paths")


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def check_file(data: Any, pos: Positions, is_project: bool) -> None:
    if not isinstance(data, dict):
        raise DiagnosticError(
            Diagnostic(
                "the file must be a YAML mapping",
                pos.source(()),
                hint="start with `resources:`, `variables:` or `outputs:`"
                if not is_project
                else "start with `project: NAME`",
            )
        )
    if not is_project:
        for key in SETTINGS_KEYS:
            if key in data:
                raise DiagnosticError(
                    Diagnostic(
                        f"`{key}` belongs in {PROJECT_FILE}",
                        pos.source((key,), key=True),
                        hint=f"move it to {PROJECT_FILE} at the project's root",
                    )
                )
    resources = data.get("resources")
    if isinstance(resources, dict):
        _check_kinds(resources, pos)
    errors = kind_check.errors("project_file" if is_project else "resource_file", data)
    if isinstance(resources, dict):
        errors.extend(_body_errors(resources))
    variables = data.get("variables")
    if isinstance(variables, dict):
        for name, body in variables.items():
            errors.extend(_model_errors("variable", body, ("variables", name)))
    if errors:
        raise DiagnosticError(translate(errors, data, pos, allowed_fields=allowed_fields))


def _check_kinds(resources: dict[Any, Any], pos: Positions) -> None:
    unknown = []
    for kind, by_name in resources.items():
        if kind not in KIND_NAMES:
            close = difflib.get_close_matches(str(kind), KIND_NAMES, n=1)
            unknown.append(
                Diagnostic(
                    f"unknown resource kind `{kind}`",
                    pos.source(("resources", kind), key=True),
                    hint=f"did you mean `{close[0]}`?" if close else "kinds: " + ", ".join(KIND_NAMES),
                )
            )
        elif isinstance(by_name, dict):
            for name, body in by_name.items():
                if body is None:  # `model: {churn: }`: a resource with every field defaulted
                    by_name[name] = {}
    if unknown:
        raise DiagnosticError(unknown)


def _body_errors(resources: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for kind, by_name in resources.items():
        if isinstance(by_name, dict):
            for name, body in by_name.items():
                out.extend(_model_errors(kind, body, ("resources", kind, name)))
    return out


def _model_errors(name: str, body: Any, at: PathKey) -> list[Any]:
    """`body` against the schema `name`, references set aside, with the file's path `at` in front."""
    if not isinstance(body, dict):
        return []  # the shell schema reported it
    errs = kind_check.errors(name, body)
    if errs:
        errs = errors_outside(errs, body, paths_where(body, _is_ref))
    return [{**e, "loc": (*at, *e["loc"])} for e in errs]


def allowed_fields(path: PathKey, value: Any = None) -> list[str]:
    """Field names allowed in the mapping `value` at `path`, for did-you-mean hints."""
    if len(path) == 0:
        return [*SETTINGS_KEYS, "variables", "resources", "outputs"]
    if path[0] == "resources":
        if len(path) == 1:
            return list(KIND_NAMES)
        if path[1] not in KIND_NAMES or len(path) < 3:
            return []
        return kind_check.fields_at(str(path[1]), path[3:], value)
    if path[0] == "variables" and len(path) == 2:
        return list(kind_check.field_names("variable"))
    if path[0] == "backend":
        return kind_check.fields_at("project_settings", path, value)
    return []
