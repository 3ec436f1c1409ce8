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


JSON_DIAGNOSTICS = "mlops_decl.json_diagnostics"  # set in the click context: errors as JSON too


def diagnostics_json(diags: Iterable[Diagnostic], **extra: Any) -> dict[str, Any]:
    """Terraform's machine-readable diagnostics (`terraform validate -json`)."""
    items = [d.to_json() for d in diags]
    errors = sum(1 for d in items if d["severity"] == "error")
    return {
        "format_version": "1.0",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": len(items) - errors,
        **extra,
        "diagnostics": items,
    }


def fail_with(diags: list[Diagnostic]) -> None:
    """Print diags (human on stderr; as JSON on stdout too when the command was asked for
    JSON) and exit 1."""
    print_diagnostics(diags)
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(JSON_DIAGNOSTICS):
        echo_json(diagnostics_json(diags))
    sys.exit(1)


def handle_errors(fn: F) -> F:
    """User mistakes become one message each and exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DiagnosticError as exc:
            fail_with(exc.diagnostics)
        except EOFError as exc:
            # Not a prompt's (click turns those into Abort): a file that ended early. Left to
            # click, it would be a bare "Aborted!".
            if os.environ.get("MLOPS_DEBUG"):
                raise
            fail_with(
                [Diagnostic(f"a file ended early: {exc or 'no data'}", hint="set MLOPS_DEBUG=1 to see which")]
            )
        except Exception as exc:
            # A state that cannot be read, locked or written (a refused conflicting write): the
            # message says why. Looked up in sys.modules: if the state package is not loaded,
            # this is not one of its errors, and --help does not pay for importing it.
            model = sys.modules.get("mlops_decl.state.model")
            if model is not None and isinstance(exc, model.StateError):
                fail_with([Diagnostic(str(exc), hint=getattr(exc, "hint", None))])
            from mlops_decl.provider import ProviderError

            if not isinstance(exc, ProviderError):
                raise
            # a provider error no command caught with its context: still one message, no traceback
            hint = getattr(exc, "hint", None) or "set MLOPS_DEBUG=1 to see where it was raised"
            if os.environ.get("MLOPS_DEBUG"):
                print_diagnostics([Diagnostic(f"provider error: {exc}", hint=hint)])
                raise
            fail_with([Diagnostic(f"provider error: {exc}", hint=hint)])

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
