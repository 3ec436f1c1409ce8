"""Variable values: defaults < MLOPS_VAR_* environment < --var-file files < -var flags.

This is Terraform's precedence (docs/commands.md): a value typed on the command line is never
overridden by a forgotten environment variable.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_decl.config.project import Project
from mlops_decl.config.yaml_source import read_yaml_file
from mlops_decl.diagnostics import Diagnostic, DiagnosticError, Source

ENV_PREFIX = "MLOPS_VAR_"


@dataclass
class Variables:
    values: dict[str, Any] = field(default_factory=dict)
    sensitive: set[str] = field(default_factory=set)
    origin: dict[str, str] = field(default_factory=dict)  # name -> where the value came from


def _coerce(name: str, value: Any, vtype: str, where: str, src: Source | None) -> Any:
    """Check a value against the declared type; strings from flags/env are parsed."""
    if isinstance(value, str) and vtype in ("number", "bool", "list", "map"):
        with contextlib.suppress(yaml.YAMLError):
            value = yaml.safe_load(value) if value.strip() else value
    ok = {
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "map": lambda v: isinstance(v, dict),
        "any": lambda v: True,
    }[vtype]
    if vtype == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not ok(value):
        raise DiagnosticError(
            Diagnostic(
                f"variable `{name}` must be a {vtype}, got {value!r} from {where}",
                src,
                hint=f"give `{name}` a {vtype} value",
            )
        )
    return value


def resolve_variables(
    project: Project,
    *,
    var_files: Sequence[str] = (),
    cli_vars: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Variables:
    env = os.environ if env is None else env
    cwd = cwd or project.root
    out = Variables()
    decls = project.variables
    errors: list[Diagnostic] = []
    failed: set[str] = set()  # given a value of the wrong type: reported once, not again as missing

    def setv(name: str, value: Any, where: str, src: Source | None) -> None:
        if name not in decls:
            errors.append(
                Diagnostic(
                    f"value given for undeclared variable `{name}` ({where})",
                    src,
                    hint=f"declare it under `variables:` or remove it; declared: {', '.join(sorted(decls)) or 'none'}",
                )
            )
            return
        try:
            out.values[name] = _coerce(name, value, decls[name].decl.type, where, src or decls[name].source)
            out.origin[name] = where
        except DiagnosticError as exc:
            failed.add(name)
            errors.extend(exc.diagnostics)

    for name, d in decls.items():
        if d.decl.sensitive:
            out.sensitive.add(name)
        if d.decl.default is not None:
            setv(name, d.decl.default, "its default", d.source)
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :] in decls:
            setv(key[len(ENV_PREFIX) :], value, f"${key}", None)
    for vf in var_files:
        path = (cwd / vf) if not Path(vf).is_absolute() else Path(vf)
        if not path.is_file():
            raise DiagnosticError(
                Diagnostic(f"variable file {vf} does not exist", hint="check the --var-file path")
            )
        data, pos = read_yaml_file(path, vf)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise DiagnosticError(
                Diagnostic("a variable file must be a mapping of name: value", pos.source(()))
            )
        for name, value in data.items():
            setv(name, value, vf, pos.source((name,), key=True))
    for item in cli_vars:
        if "=" not in item:
            errors.append(Diagnostic(f"-var `{item}` is not name=value", hint="write -var name=value"))
            continue
        name, value = item.split("=", 1)
        setv(name.strip(), value, "-var", None)
    for name, d in decls.items():
        if name not in out.values and name not in failed:
            errors.append(
                Diagnostic(
                    f"variable `{name}` has no value",
                    d.source,
                    hint=f"set it with -var {name}=..., --var-file, or {ENV_PREFIX}{name}; or give it a default",
                )
            )
    if errors:
        raise DiagnosticError(errors)
    return out
