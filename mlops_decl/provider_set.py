"""The providers a run uses: named instances of installed provider types, found by entry point,
imported on first use and configured once.

`providers: {aws_eu: {type: sagemaker, region: eu-west-1}}` declares the instance `aws_eu`; an
instance named like its type needs no `type` (`local: {}`), and a type named by `provider:` or
`default_provider:` without an entry is an instance with no settings. Each instance keeps its
files under .mlops/<instance>/ and is what state records as a resource's `provider`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_decl.config.expressions import Ref, render
from mlops_decl.config.yaml_source import Positions
from mlops_decl.diagnostics import Diagnostic, DiagnosticError, Source
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
from mlops_decl.provider_hints import NOT_WRITTEN_YET
from mlops_decl.provider_schema import ENGINE_COMPUTED, ProviderSchema, schema_of

if TYPE_CHECKING:  # importlib.metadata is imported only when entry points are scanned
    from importlib.metadata import EntryPoint

TYPE_KEY = "type"  # in an instance's settings: the provider type it is an instance of
FAULTS_KEY = "faults"  # the engine's fault injection around any provider (mlops_decl.testing)

# Provider types this distribution names as extras (pyproject.toml), for "not installed" hints.
EXTRAS = ("sagemaker", "vertex", "databricks")


def install_hint(provider_type: str) -> str:
    if provider_type in EXTRAS:
        hint = f"install it: pip install 'mlops-decl[{provider_type}]'"
        if provider_type in NOT_WRITTEN_YET:
            hint = (
                f"the {provider_type} provider is not written yet; once it ships, "
                f"pip install 'mlops-decl[{provider_type}]' installs it (today the extra brings only its SDK)"
            )
        return hint
    return (
        f"install the package that provides the `{provider_type}` provider (it registers under the "
        "entry-point group mlops_decl.providers)"
    )


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
        self._classes: dict[str, Any] = {}
        self._schemas: dict[str, ProviderSchema] = {}
        self._loaded: dict[str, Provider] = {}
        self._lock = threading.RLock()

    # -- instances and types (no import) ------------------------------------------------

    def type_of(self, instance: str) -> str:
        """The provider type of an instance: its `type:`, else its own name."""
        body = self.settings.get(instance)
        if isinstance(body, dict) and isinstance(body.get(TYPE_KEY), str):
            return str(body[TYPE_KEY])
        return instance

    def declared(self, instance: str) -> bool:
        return instance in self.settings

    def instance_settings(self, instance: str) -> dict[str, Any]:
        """The instance's settings as written (references unrendered), without `type`."""
        body = self.settings.get(instance) or {}
        return {k: v for k, v in body.items() if k != TYPE_KEY}

    def source(self, instance: str) -> Source | None:
        """Where the instance is declared in mlops.yaml (its key), if it is."""
        if self.positions is None:
            return None
        if self.declared(instance):
            return self.positions.source(("providers", instance), key=True)
        return self.positions.source(("default_provider",))

    def _ref(self, provider_type: str) -> BuiltinProvider | EntryPoint | None:
        """Built-in providers are known without reading installed packages' metadata."""
        if provider_type in BUILTIN_PROVIDERS:
            return BUILTIN_PROVIDERS[provider_type]
        if self._scanned is None:
            self._scanned = available_providers()
        return self._scanned.get(provider_type)

    @property
    def names(self) -> list[str]:
        """The installed provider types."""
        if self._scanned is None:
            self._scanned = available_providers()
        return sorted(self._scanned)

    def exists(self, instance: str) -> bool:
        """Whether the instance's provider type is installed."""
        return self._ref(self.type_of(instance)) is not None

    def missing_error(self, instance: str, source: Source | None = None, what: str = "") -> Diagnostic:
        """A provider instance whose type is not installed: a cloud extra is named; an unknown
        name gets a did-you-mean among the installed types and declared instances."""
        import difflib

        ptype = self.type_of(instance)
        installed = f"installed providers: {', '.join(self.names)}"
        if ptype != instance:
            summary = f"{what}provider `{instance}` has type `{ptype}`, which is not installed"
        elif ptype in EXTRAS:
            summary = f"{what}provider `{ptype}` is not installed"
        else:
            summary = f"{what}unknown provider `{ptype}`"
            close = difflib.get_close_matches(ptype, [*self.names, *self.settings], n=1)
            if close:
                return Diagnostic(summary, source, hint=f"did you mean `{close[0]}`? {installed}")
        return Diagnostic(summary, source, hint=f"{install_hint(ptype)}; {installed}")

    # -- schemas (imported, not configured) ---------------------------------------------

    def provider_class(self, instance: str) -> Any:
        ptype = self.type_of(instance)
        with self._lock:
            if ptype not in self._classes:
                ref = self._ref(ptype)
                if ref is None:
                    raise DiagnosticError(self.missing_error(instance, self.source(instance)))
                self._classes[ptype] = ref.load()
            return self._classes[ptype]

    def schema(self, instance: str) -> ProviderSchema:
        """The provider's declared schema; nothing is configured or connected."""
        ptype = self.type_of(instance)
        with self._lock:
            if ptype not in self._schemas:
                self._schemas[ptype] = schema_of(self.provider_class(instance))
            return self._schemas[ptype]

    def declares(self, instance: str, kind: str) -> bool:
        """Whether the instance's provider declares a schema for `kind`."""
        return self.exists(instance) and kind in self.schema(instance).kinds

    def computed(self, instance: str, kind: str) -> frozenset[str]:
        """The attributes the instance's provider computes for `kind` (ids included): as its
        schema declares, else as its configured handler says (`Handler.computed`)."""
        if self.declares(instance, kind):
            return self.schema(instance).kinds[kind].computed_names
        names = frozenset(ENGINE_COMPUTED)
        with self._lock:
            provider = self._loaded.get(instance)
        handler = provider.handler(kind) if provider is not None else None
        return names | frozenset(getattr(handler, "computed", ())) if handler is not None else names

    # -- configured providers -----------------------------------------------------------

    def rendered_settings(self, instance: str) -> dict[str, Any]:
        """The instance's settings with variables filled in (settings may reference only those)."""

        def lookup(ref: Ref) -> Any:
            if ref.kind != "var":
                raise DiagnosticError(
                    Diagnostic(
                        f"provider `{instance}` settings may only reference variables, not ${{{ref}}}",
                        self.source(instance),
                        hint="settings are needed before any resource exists: use ${var.NAME}",
                    )
                )
            return self.variables[ref.name]

        out: dict[str, Any] = render(self.instance_settings(instance), lookup)
        return out

    def get(self, instance: str) -> Provider:
        """The instance, configured on first use (once per process)."""
        with self._lock:
            if instance in self._loaded:
                return self._loaded[instance]
            cls = self.provider_class(instance)
            settings = self.rendered_settings(instance)
            ctx = ProviderContext(
                project_dir=self.root, data_dir=self.root / ".mlops" / instance, project=self.project
            )
            provider: Provider = cls()
            try:
                # `faults:` (or MLOPS_<NAME>_FAULTS) is the engine's: it wraps the provider.
                # Imported only when asked for: a start pays nothing for it.
                faults = None
                if "faults" in settings or any(k.endswith(("_FAULTS", "_FAULT_LOG")) for k in os.environ):
                    from mlops_decl.testing.faults import split_settings

                    settings, faults = split_settings(instance, settings)
                provider.configure(settings, ctx)
                if faults is not None:
                    from mlops_decl.testing.faults import FaultyProvider

                    provider = FaultyProvider(provider, faults)
            except ConfigError as exc:
                raise DiagnosticError(self._config_diagnostic(instance, exc)) from None
            except ProviderError as exc:
                raise DiagnosticError(
                    Diagnostic(
                        f"provider `{instance}`: {exc}",
                        self.source(instance),
                        getattr(exc, "hint", None) or "check the provider's settings",
                    )
                ) from None
            self._loaded[instance] = provider
            return provider

    def _config_diagnostic(self, instance: str, exc: ConfigError) -> Diagnostic:
        src = None
        if self.positions is not None:
            src = (
                self.positions.source(("providers", instance, *exc.field))
                if self.declared(instance)
                else self.source(instance)
            )
        return Diagnostic(f"provider `{instance}`: {exc}", src, exc.hint or "check the provider's settings")

    def check(self, users: dict[str, list[str]], recorded: dict[str, list[str]] | None = None) -> None:
        """Configure each instance once and run its optional `check()` (credentials, reachability)
        before any resource is read: one error per failing instance, at its mlops.yaml entry.

        `users`: instance -> the configured addresses on it; `recorded`: instance -> the
        addresses the state records on it (an instance may be in one, the other or both)."""
        recorded = recorded or {}
        errors: list[Diagnostic] = []
        for instance in sorted(set(users) | set(recorded)):
            if not self.exists(instance):
                errors.append(self._missing(instance, users.get(instance, []), recorded.get(instance, [])))
                continue
            try:
                provider = self.get(instance)
                probe = getattr(provider, "check", None)
                if probe is not None:
                    probe()
            except DiagnosticError as exc:
                errors.extend(exc.diagnostics)
            except ConfigError as exc:
                errors.append(self._config_diagnostic(instance, exc))
            except ProviderError as exc:
                errors.append(
                    Diagnostic(
                        f"provider `{instance}`: {exc}",
                        self.source(instance),
                        getattr(exc, "hint", None) or "check the provider's settings and credentials",
                    )
                )
        if errors:
            raise DiagnosticError(errors)

    def _missing(self, instance: str, users: list[str], recorded: list[str]) -> Diagnostic:
        if users or self.declared(instance):
            return self.missing_error(instance, self.source(instance))
        diag = self.missing_error(instance)
        summary = f"{diag.summary}, and the state records {_count(recorded)} on it"
        if instance in EXTRAS:
            return Diagnostic(summary, None, diag.hint)
        return Diagnostic(
            summary,
            None,
            f"if `{instance}` was an instance, declare it again in mlops.yaml: providers: "
            f"{{{instance}: {{type: TYPE, ...}}}}; else {diag.hint}",
        )

    def handler(self, instance: str, kind: str) -> Handler:
        h = self.get(instance).handler(kind)
        if h is None:
            raise ProviderError(f"provider `{instance}` does not support `{kind}` resources")
        return h


def _count(addresses: list[str]) -> str:
    n = len(addresses)
    return f"{n} resource{'s' if n != 1 else ''} ({', '.join(addresses[:3])}{', ...' if n > 3 else ''})"
