"""User-facing problems: a summary, where it happened, and what to do about it.

The engine raises DiagnosticError carrying one or more Diagnostics; only the CLI prints them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """A position in a config file, 1-based like editors show it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    summary: str
    source: Source | None = None
    hint: str | None = None
    detail: str | None = None
    address: str | None = None
    severity: str = "error"

    def render(self) -> str:
        where = f"{self.source}: " if self.source else ""
        named = self.address and not self.source and not self.summary.startswith(f"{self.address}:")
        who = f"{self.address}: " if named else ""
        text = f"Error: {where}{who}{self.summary}"
        if self.detail:
            text += f"\n  {self.detail}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"severity": self.severity, "summary": self.summary}
        if self.source:
            # Terraform's shape; a diagnostic points at one position, so the range ends there too.
            at = {"line": self.source.line, "column": self.source.column}
            out["range"] = {"filename": self.source.file, "start": at, "end": dict(at)}
        for key in ("detail", "hint", "address"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


class DiagnosticError(Exception):
    """One or more user mistakes; the CLI renders them and exits 1."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))


def fail(summary: str, source: Source | None = None, hint: str | None = None, **kw: str) -> DiagnosticError:
    """Build a single-diagnostic error: `raise fail("...", src, hint="...")`."""
    return DiagnosticError(Diagnostic(summary, source, hint, **kw))
