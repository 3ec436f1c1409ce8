"""Printing helpers shared by the commands."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from mlops_decl.diagnostics import Diagnostic, DiagnosticError

F = TypeVar("F", bound=Callable[..., Any])


def print_diagnostics(diags: Iterable[Diagnostic]) -> None:
    for d in diags:
        text = d.render()
        head, _, rest = text.partition("\n")
        click.echo(click.style(head, fg="red", bold=True) + ("\n" + rest if rest else ""), err=True)


def handle_errors(fn: F) -> F:
    """User mistakes become one message each and exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DiagnosticError as exc:
            print_diagnostics(exc.diagnostics)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
