"""`mlops-decl fmt [--check]`: canonical YAML layout, comments kept (ruamel.yaml round trip).

The canonical layout: two-space indentation for mappings, sequence items indented two under
their key, no line folding, quotes and flow style (`{a: 1}`) as the author wrote them. A file
is only rewritten when the result loads to exactly the same values as before.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import click

from mlops_decl.cli.output import handle_errors, print_diagnostics
from mlops_decl.diagnostics import Diagnostic, DiagnosticError, Source

# long enough that ruamel never folds a scalar or a flow collection onto a second line
_WIDTH = 4096


def _loads(text: str) -> Any:
    import yaml

    try:
        loader: Any = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - PyYAML without libyaml
        loader = yaml.SafeLoader
    return yaml.load(text, Loader=loader)


def format_text(text: str, name: str) -> str:
    """The canonical form of one YAML file's text; DiagnosticError on input that is not YAML."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from mlops_decl.config.yaml_source import parse_yaml

    # the checks (and messages) validate uses: syntax, tabs, duplicate keys, positions
    parse_yaml(text, name)
    if not text.strip():
        return ""
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = _WIDTH
    yaml.preserve_quotes = True
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise DiagnosticError(
            Diagnostic(
                f"YAML syntax error: {exc.problem}",
                Source(name, mark.line + 1, mark.column + 1) if mark else Source(name, 1, 1),
                hint="fix the syntax before formatting",
            )
        ) from None
    except YAMLError as exc:  # pragma: no cover - parse_yaml reports these first
        raise DiagnosticError(Diagnostic(f"YAML error: {exc}", Source(name, 1, 1))) from None
    if data is None:  # only comments
        return text if text.endswith("\n") else text + "\n"
    buf = io.StringIO()
    yaml.dump(data, buf)
    out = buf.getvalue()
    out = out if out.endswith("\n") else out + "\n"
    if _loads(out) != _loads(text):  # pragma: no cover - a ruamel round-trip bug
        raise DiagnosticError(
            Diagnostic(
                "formatting would change what this file means, so it was left as it is",
                Source(name, 1, 1),
                hint="please report this file to the mlops-decl maintainers",
            )
        )
    return out


def _yaml_files(directory: Path) -> list[Path]:
    """Every *.yaml/*.yml under a directory, variable files included, skipping dot-directories."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(
            Path(dirpath) / fn
            for fn in sorted(filenames)
            if fn.endswith((".yaml", ".yml")) and not fn.startswith(".")
        )
    return found


def _targets(paths: tuple[str, ...], root: Path) -> list[Path]:
    if not paths:
        return _yaml_files(root)
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(_yaml_files(path))
        elif path.is_file():
            out.append(path)
        else:
            raise DiagnosticError(
                Diagnostic(f"{p}: no such file or directory", hint="name YAML files or directories to format")
            )
    return out


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


@click.command()
@click.option("--check", "-check", is_flag=True, help="Only list files that need formatting; exit 1 if any.")
@click.option("--diff", "-diff", "show_diff", is_flag=True, help="Show the changes.")
@click.argument("paths", nargs=-1, type=click.Path())
@handle_errors
def fmt(check: bool, show_diff: bool, paths: tuple[str, ...]) -> None:
    """Rewrite config files in canonical format, keeping comments."""
    import difflib

    from mlops_decl.config.yaml_source import read_text

    root = Path.cwd()
    changed: list[str] = []
    errors: list[Diagnostic] = []
    for path in _targets(paths, root):
        name = _display(path, root)
        try:
            text = read_text(path, name)
            new = format_text(text, name)
        except DiagnosticError as exc:
            errors.extend(exc.diagnostics)
            continue
        if new == text:
            continue
        changed.append(name)
        if show_diff:
            click.echo("".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True), name, name)))
        if not check:
            path.write_text(new, encoding="utf-8")
        click.echo(name)
    if errors:
        print_diagnostics(errors)
        sys.exit(1)
    if check and changed:
        sys.exit(1)
