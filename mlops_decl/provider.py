"""The provider protocol and provider discovery.

A provider is a class registered under the entry-point group `mlops_decl.providers`. The engine
owns graph, diff, state, locking, parallelism, retries and output; providers own API calls.
Nothing here imports a cloud SDK; providers import theirs inside their own code, when used.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:  # importlib.metadata costs ~8 ms (email, zipfile, csv): imported when scanned
    from importlib import metadata

Attributes = dict[str, Any]

ENTRY_POINT_GROUP = "mlops_decl.providers"
NAME_KEY = "_name"  # the engine passes a resource's name under this key to plan/create/update


class ProviderError(Exception):
    """An API error. `retryable` errors are retried by the engine with backoff."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass
class ProviderContext:
    """What a provider may know about the project it serves."""

    project_dir: Path
    data_dir: Path  # .mlops/<provider>/ for the provider's own files
    project: str = "default"


class Handler(ABC):
    """Lifecycle of one kind on one provider.

    Attributes are plain JSON-able dicts: the resolved config fields plus computed ones.
    """

    kind: ClassVar[str]
    force_new: ClassVar[frozenset[str]] = frozenset()  # changing these replaces the object
    computed: ClassVar[frozenset[str]] = frozenset()  # known only after apply

    def plan(self, desired: Attributes, prior: Attributes | None) -> Attributes:
        """Fill computed attributes that can be known before apply (a file's hash).

        Return the desired attributes; the default knows nothing more.
        """
        return desired

    @abstractmethod
    def read(self, id: str, prior: Attributes) -> Attributes | None:
        """The live object's attributes, or None when it no longer exists."""

    @abstractmethod
    def create(self, desired: Attributes) -> tuple[str, Attributes]:
        """Make the object; return its id and all its attributes (computed ones filled)."""

    @abstractmethod
    def update(self, id: str, prior: Attributes, desired: Attributes) -> Attributes:
        """Change the object in place; return all its attributes."""

    @abstractmethod
    def delete(self, id: str, prior: Attributes) -> None:
        """Remove the object; a missing object is not an error."""


@dataclass
class RuntimeContext:
    """What a runtime action (run, promote, predict, check, ...) may know about the project.

    `resources` is the state: address -> (kind, id, attributes). `emit` shows progress to the
    user (the CLI prints it; providers never print).
    """

    project_dir: Path
    config_hash: str
    git_commit: str | None
    who: str
    resources: dict[str, tuple[str, str, Attributes]] = field(default_factory=dict)
    emit: Callable[[str], None] = lambda message: None

    def find(self, kind: str, id: str) -> tuple[str, Attributes] | None:
        """(address, attributes) of the managed object of `kind` with `id`."""
        for address, (k, i, attrs) in self.resources.items():
            if k == kind and i == id:
                return address, attrs
        return None


# A runtime action: action(id, attributes, rt, **arguments) -> JSON-able result dict.
Action = Callable[..., dict[str, Any]]


@runtime_checkable
class Provider(Protocol):
    name: str

    def configure(self, settings: dict[str, Any], ctx: ProviderContext) -> None: ...

    def handler(self, kind: str) -> Handler | None: ...

    def kinds(self) -> frozenset[str]: ...

    # Runtime actions a provider supports, by (kind, action name), e.g. ("training_pipeline",
    # "run"); None when it has none. Optional: the engine checks with getattr.
    # def action(self, kind: str, name: str) -> Action | None: ...


@dataclass(frozen=True)
class BuiltinProvider:
    """A provider shipped inside this package, named like an entry point's value."""

    name: str
    value: str

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        return getattr(import_module(module), attr)


# The embedded provider is found without scanning entry points: reading every installed
# distribution's metadata costs ~8 ms a start, which `validate` and `plan` would pay for nothing.
# Third-party providers (and the same names, for tools that list the group) stay entry points.
BUILTIN_PROVIDERS: dict[str, BuiltinProvider] = {
    "local": BuiltinProvider("local", "mlops_decl.providers.local.provider:LocalProvider"),
}


def entry_point_providers() -> dict[str, metadata.EntryPoint]:
    """Installed providers' entry points by name; nothing is imported yet."""
    from importlib import metadata

    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_providers() -> dict[str, BuiltinProvider | metadata.EntryPoint]:
    """Every installed provider by name: entry points, with the built-in ones taking precedence."""
    found: dict[str, BuiltinProvider | metadata.EntryPoint] = dict(entry_point_providers())
    found.update(BUILTIN_PROVIDERS)
    return found


class ConfigError(ProviderError):
    """The user's config is wrong in a way only the provider can see (a data file that does
    not parse, a feature missing from its source). `field` is the attribute path, so the
    engine can point at file:line:column."""

    def __init__(self, message: str, *, field: tuple[str | int, ...] = (), hint: str | None = None):
        super().__init__(message, retryable=False)
        self.field = field
        self.hint = hint
