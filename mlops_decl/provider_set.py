"""The providers a run uses: found by entry point, imported and configured on first use."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.config.expressions import Ref, render
from mlops_decl.config.yaml_source import Positions
from mlops_decl.diagnostics import Diagnostic, DiagnosticError
from mlops_decl.provider import (
    BUILTIN_PROVIDERS,
    BuiltinProvider,
    ConfigError,
    Handler,
    Provider,
    ProviderContext,
    ProviderError,
    available_providers,
)

if TYPE_CHECKING:  # importlib.metadata is imported only when entry points are scanned
    from importlib.metadata import EntryPoint


class ProviderSet:
    def __init__(
        self,
        root: Path,
        project: str,
        settings: dict[str, dict[str, Any]],
        variables: dict[str, Any],
        positions: Positions | None = None,
    ):
        self.root = root
        self.positions = positions
        self.project = project
        self.settings = settings
        self.variables = variables
        self._scanned: dict[str, BuiltinProvider | EntryPoint] | None = None
        self._loaded: dict[str, Provider] = {}
        self._lock = threading.Lock()

    def _ref(self, name: str) -> BuiltinProvider | EntryPoint | None:
        """Built-in providers are known without reading installed packages' metadata."""
        if name in BUILTIN_PROVIDERS:
            return BUILTIN_PROVIDERS[name]
        if self._scanned is None:
            self._scanned = available_providers()
        return self._scanned.get(name)

    @property
    def names(self) -> list[str]:
        if self._scanned is None:
            self._scanned = available_providers()
        return sorted(self._scanned)

    def exists(self, name: str) -> bool:
        return self._ref(name) is not None

    def get(self, name: str) -> Provider:
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            ref = self._ref(name)
            if ref is None:
                raise ProviderError(
                    f"provider `{name}` is not installed (installed: {', '.join(self.names)})"
                )
            cls = ref.load()
            provider: Provider = cls()
            raw = self.settings.get(name) or {}

            def lookup(ref: Ref) -> Any:
                if ref.kind != "var":
                    raise ProviderError(
                        f"provider `{name}` settings may only reference variables, not ${{{ref}}}"
                    )
                return self.variables[ref.name]

            settings = render(raw, lookup)
            ctx = ProviderContext(
                project_dir=self.root, data_dir=self.root / ".mlops" / name, project=self.project
            )
            try:
                # `faults:` (or MLOPS_<NAME>_FAULTS) is the engine's: it wraps the provider.
                # Imported only when asked for: a start pays nothing for it.
                faults = None
                if "faults" in settings or any(k.endswith(("_FAULTS", "_FAULT_LOG")) for k in os.environ):
                    from mlops_decl.testing.faults import split_settings

                    settings, faults = split_settings(name, settings)
                provider.configure(settings, ctx)
                if faults is not None:
                    from mlops_decl.testing.faults import FaultyProvider

                    provider = FaultyProvider(provider, faults)
            except ConfigError as exc:
                src = self.positions.source(("providers", name, *exc.field)) if self.positions else None
                raise DiagnosticError(
                    Diagnostic(f"provider `{name}`: {exc}", src, exc.hint or "check the provider's settings")
                ) from None
            self._loaded[name] = provider
            return provider

    def handler(self, provider: str, kind: str) -> Handler:
        h = self.get(provider).handler(kind)
        if h is None:
            raise ProviderError(f"provider `{provider}` does not support `{kind}` resources")
        return h
