"""Printing helpers shared by the commands."""

from __future__ import annotations

import functools
import json
import os
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
        except Exception as exc:
            # A state that cannot be read, locked or written (a refused conflicting write): the
            # message says why. Looked up in sys.modules: if the state package is not loaded,
            # this is not one of its errors, and --help does not pay for importing it.
            model = sys.modules.get("mlops_decl.state.model")
            if model is not None and isinstance(exc, model.StateError):
                print_diagnostics([Diagnostic(str(exc), hint=getattr(exc, "hint", None))])
                sys.exit(1)
            from mlops_decl.provider import ProviderError

            if not isinstance(exc, ProviderError):
                raise
            # a provider error no command caught with its context: still one message, no traceback
            hint = getattr(exc, "hint", None) or "set MLOPS_DEBUG=1 to see where it was raised"
            print_diagnostics([Diagnostic(f"provider error: {exc}", hint=hint)])
            if os.environ.get("MLOPS_DEBUG"):
                raise
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
