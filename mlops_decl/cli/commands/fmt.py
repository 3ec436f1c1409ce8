"""`mlops-decl fmt [--check]`: canonical YAML layout, comments kept (ruamel.yaml round trip)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from mlops_decl.cli.output import handle_errors
from mlops_decl.diagnostics import Diagnostic, DiagnosticError, Source


def format_text(text: str, name: str) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
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
    if data is None:
        return text
    buf = io.StringIO()
    yaml.dump(data, buf)
    out = buf.getvalue()
    return out if out.endswith("\n") else out + "\n"


@click.command()
@click.option("--check", "-check", is_flag=True, help="Only list files that need formatting; exit 1 if any.")
@click.option("--diff", "-diff", "show_diff", is_flag=True, help="Show the changes.")
@click.argument("paths", nargs=-1, type=click.Path())
@handle_errors
def fmt(check: bool, show_diff: bool, paths: tuple[str, ...]) -> None:
    """Rewrite config files in canonical format, keeping comments."""
    import difflib

    from mlops_decl.config.project import discover

    root = Path.cwd()
    files = [Path(p) for p in paths] if paths else [p for p in discover(root) if p.exists()]
    changed = []
    for path in files:
        name = path.relative_to(root).as_posix() if path.is_absolute() else str(path)
        text = path.read_text(encoding="utf-8")
        new = format_text(text, name)
        if new != text:
            changed.append(name)
            if show_diff:
                click.echo(
                    "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True), name, name))
                )
            if not check:
                path.write_text(new, encoding="utf-8")
            click.echo(name)
    if check and changed:
        sys.exit(1)
