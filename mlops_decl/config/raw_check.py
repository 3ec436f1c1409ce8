"""A file's first check, before references are resolved (DESIGN §2's first validation).

The file's shape is checked against small shell models, then each resource body against its
kind's own model, setting aside errors at values that hold a `${...}` reference: those are
checked once resolved (mlops_decl.resolve). One model per kind serves both checks, so no raw
twin of every kind is built on each start (~50 ms); schema.py still derives the twins, for the
JSON Schema only.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mlops_decl import kinds
from mlops_decl.config.errors import errors_outside, paths_where, translate
from mlops_decl.config.yaml_source import PathKey, Positions
from mlops_decl.diagnostics import Diagnostic, DiagnosticError

PROJECT_FILE = "mlops.yaml"
SETTINGS_KEYS = ("project", "backend", "default_provider", "providers")


class _ResourceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variables: dict[str, dict[str, Any]] | None = None
    resources: dict[str, dict[str, dict[str, Any]] | None] | None = None
    outputs: dict[str, Any] | None = None


class _ProjectFile(_ResourceFile):
    # checked field by field by kinds.ProjectSettings when the project is built
    project: Any = None
    backend: Any = None
    default_provider: Any = None
    providers: Any = None


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
    errors: list[Any] = []
    try:
        (_ProjectFile if is_project else _ResourceFile).model_validate(data)
    except ValidationError as exc:
        errors.extend(exc.errors(include_url=False))
    if isinstance(resources, dict):
        errors.extend(_body_errors(resources))
    variables = data.get("variables")
    if isinstance(variables, dict):
        for name, body in variables.items():
            errors.extend(_model_errors(kinds.Variable, body, ("variables", name)))
    if errors:
        raise DiagnosticError(translate(errors, data, pos, allowed_fields=allowed_fields))


def _check_kinds(resources: dict[Any, Any], pos: Positions) -> None:
    unknown = []
    for kind, by_name in resources.items():
        if kind not in kinds.KINDS:
            close = difflib.get_close_matches(str(kind), list(kinds.KINDS), n=1)
            unknown.append(
                Diagnostic(
                    f"unknown resource kind `{kind}`",
                    pos.source(("resources", kind), key=True),
                    hint=f"did you mean `{close[0]}`?" if close else "kinds: " + ", ".join(kinds.KINDS),
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
                out.extend(_model_errors(kinds.KINDS[kind], body, ("resources", kind, name)))
    return out


def _model_errors(model: type[BaseModel], body: Any, at: PathKey) -> list[Any]:
    """`body` against `model`, references set aside, with the file's path `at` in front."""
    if not isinstance(body, dict):
        return []  # the shell model reported it
    try:
        model.model_validate(body)
    except ValidationError as exc:
        errs = errors_outside(exc.errors(include_url=False), body, paths_where(body, _is_ref))
        return [{**e, "loc": (*at, *e["loc"])} for e in errs]
    return []


def allowed_fields(path: PathKey, value: Any = None) -> list[str]:
    """Field names allowed in the mapping `value` at `path`, for did-you-mean hints."""
    if len(path) == 0:
        return [*SETTINGS_KEYS, "variables", "resources", "outputs"]
    if path[0] == "resources":
        if len(path) == 1:
            return list(kinds.KINDS)
        model: Any = kinds.KINDS.get(str(path[1]))
        if model is None or len(path) < 3:
            return []
        for part in path[3:]:
            if isinstance(part, int):
                continue
            info = model.model_fields.get(part) if hasattr(model, "model_fields") else None
            sub = _pick_model(getattr(info, "annotation", None), value)
            if sub is None:
                return []
            model = sub
        return list(model.model_fields)
    if path[0] == "variables" and len(path) == 2:
        return list(kinds.Variable.model_fields)
    if path[0] == "backend":
        return list(kinds.Backend.model_fields)
    return []


def _models_in(ann: Any) -> list[Any]:
    from typing import get_args

    if isinstance(ann, type) and hasattr(ann, "model_fields"):
        return [ann]
    return [m for arg in get_args(ann) for m in _models_in(arg)]


def _pick_model(ann: Any, value: Any) -> Any:
    """The model an annotation holds; of a tagged union, the member `value`'s `type:` names."""
    from typing import get_args

    models = _models_in(ann)
    if len(models) > 1 and isinstance(value, dict):
        for m in models:
            tag = getattr(m.model_fields.get("type"), "annotation", None)
            if value.get("type") in get_args(tag):
                return m
    return models[0] if models else None
