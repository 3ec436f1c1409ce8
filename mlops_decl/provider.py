"""The provider protocol and provider discovery.

A provider is a class registered under the entry-point group `mlops_decl.providers`. The engine
owns graph, diff, state, locking, parallelism, retries and output; providers own API calls.
Nothing here imports a cloud SDK; providers import theirs inside their own code, when used.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from mlops_decl.config.expressions import UNKNOWN
from mlops_decl.operation import CREATING, TAINTED, Operation, detached

if TYPE_CHECKING:  # importlib.metadata costs ~8 ms (email, zipfile, csv): imported when scanned
    from importlib import metadata

Attributes = dict[str, Any]

ENTRY_POINT_GROUP = "mlops_decl.providers"
NAME_KEY = "_name"  # the engine passes a resource's name under this key to plan/create/update


__all__ = [
    "CREATING",
    "NAME_KEY",
    "TAINTED",
    "UNKNOWN",
    "Attributes",
    "Category",
    "CheckContext",
    "ConfigError",
    "Handler",
    "Operation",
    "Planned",
    "Provider",
    "ProviderContext",
    "ProviderError",
    "RetryPolicy",
]


class Category(str, Enum):
    """What kind of failure an API error is; the engine decides from it whether to retry."""

    THROTTLED = "throttled"  # slow down: retried, with the longer throttling backoff
    TRANSIENT = "transient"  # a blip (5xx, connection reset): retried
    CONFLICT = "conflict"  # the object is busy or changed meanwhile (409, ResourceInUse)
    AUTH = "auth"  # credentials missing, expired or not allowed
    NOT_FOUND = "not_found"  # the object or something it needs does not exist
    INVALID = "invalid"  # the request is wrong; retrying cannot help


RETRIED = frozenset({Category.THROTTLED, Category.TRANSIENT})


class ProviderError(Exception):
    """An API error with its category. `ProviderError(msg, retryable=True)` is shorthand for
    the transient category; with neither, the error is not retried. `retry_after` (seconds)
    is the API's own advice (a Retry-After header) and overrides the backoff."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        category: Category | str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        if category is None and retryable:
            category = Category.TRANSIENT
        self.category: Category | None = Category(category) if category is not None else None
        self.retryable = self.category in RETRIED if retryable is None else retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """How the engine retries one provider's calls. A provider sets `retry_policy` on its
    class; throttling gets its own, longer schedule (AWS asks clients to back off for tens of
    seconds). Delays are exponential with full jitter, capped per attempt."""

    attempts: int = 5  # tries in all, for transient errors
    base: float = 0.2  # seconds; the first retry waits up to this
    max_delay: float = 5.0
    throttle_attempts: int = 8
    throttle_base: float = 1.0
    throttle_max_delay: float = 20.0

    def schedule(self, category: Category | None) -> tuple[int, float, float]:
        """(attempts, base, max_delay) for errors of `category`."""
        if category is Category.THROTTLED:
            return self.throttle_attempts, self.throttle_base, self.throttle_max_delay
        return self.attempts, self.base, self.max_delay


DEFAULT_RETRY = RetryPolicy()
DETACHED = detached()  # the context of calls made outside an apply (tests, scripts)

Path_ = tuple[str | int, ...]  # an attribute path: ("sagemaker", "image_uri"), ("features", 0)


@dataclass
class Planned:
    """What `Handler.plan` returns: the planned attributes (UNKNOWN where known only after
    apply) and the paths whose change forces a replacement. `unknown` lists further paths
    known only after apply, for values the handler cannot put as UNKNOWN itself."""

    attributes: Attributes
    requires_replace: list[Path_] = field(default_factory=list)
    unknown: list[Path_] = field(default_factory=list)

    @classmethod
    def of(cls, got: Planned | Attributes) -> Planned:
        """What a plan() returned, as a Planned (a plain dict is the attributes alone)."""
        return got if isinstance(got, Planned) else cls(dict(got))


@dataclass
class ProviderContext:
    """What a provider may know about the project it serves."""

    project_dir: Path
    data_dir: Path  # .mlops/<provider>/ for the provider's own files
    project: str = "default"


class CheckContext:
    """What a plan-time `Handler.validate` may look at beside the resource itself."""

    def resource(self, kind: str, id: str) -> Attributes | None:
        """The planned attributes of another resource in this plan (the dataset a feature
        group reads), or None when the plan has none of that kind by that id."""
        return None


class Handler(ABC):
    """Lifecycle of one kind on one provider.

    Attributes are plain JSON-able dicts: the resolved config fields plus computed ones. Every
    call but plan gets an Operation (progress, deadline, cancel, record_id, identity); calls
    made outside an apply get a detached one.
    """

    kind: ClassVar[str]
    force_new: ClassVar[frozenset[str]] = frozenset()  # top-level fields whose change replaces
    computed: ClassVar[frozenset[str]] = frozenset()  # known only after apply
    # True when create, given the same resource again, finds what an earlier attempt made
    # (names from the stable identity, an existing object of its own adopted) instead of
    # making another: the engine then retries a create that failed after recording its id.
    idempotent_create: ClassVar[bool] = False
    # Default time limits in seconds per call ({"create": 1800}); a resource's
    # lifecycle.timeouts and --call-timeout override them.
    timeouts: ClassVar[dict[str, float]] = {}

    def plan(self, desired: Attributes, prior: Attributes | None) -> Planned | Attributes:
        """The planned attributes: desired plus the computed ones known before apply (a
        file's hash), UNKNOWN for the rest. Return a Planned to name nested fields that force
        replacement. No API call: plan must work offline from what refresh read.

        A plain dict is the attributes alone; the default knows nothing more."""
        return desired

    def validate(self, desired: Attributes, ctx: CheckContext) -> list[ConfigError]:
        """Plan-time checks of what only the provider can see (its data, what it can import),
        run before anything is applied: every problem found, each a ConfigError naming its
        field. `desired` may hold UNKNOWN values: skip those. No change and no costly call;
        read at most a bounded sample of data. The default finds nothing."""
        return []

    @abstractmethod
    def read(self, id: str, prior: Attributes, op: Operation = DETACHED) -> Attributes | None:
        """The live object's attributes, or None when it no longer exists. When
        `op.status` is `creating`, the object is one an interrupted apply left half-made:
        wait (within op.deadline) until it settles."""

    @abstractmethod
    def create(self, desired: Attributes, op: Operation = DETACHED) -> tuple[str, Attributes]:
        """Make the object; return its id and all its attributes (computed ones filled).
        Call op.record_id(id) as soon as the API has given the id."""

    @abstractmethod
    def update(self, id: str, prior: Attributes, desired: Attributes, op: Operation = DETACHED) -> Attributes:
        """Change the object in place; return all its attributes."""

    @abstractmethod
    def delete(self, id: str, prior: Attributes, op: Operation = DETACHED) -> None:
        """Remove the object; a missing object is not an error."""

    # Optional: adopt an existing object from what a user knows of it (a name, an ARN).
    # def import_(self, ref: str, op: Operation) -> tuple[str, Attributes] | None:
    #     """(canonical id, attributes) of the object `ref` names, or None when there is none."""


@dataclass
class RuntimeContext:
    """What a runtime action (run, promote, predict, check, ...) may know about the project.

    `resources` is the state: address -> (kind, id, attributes). `emit` shows progress to the
    user (the CLI prints it; providers never print). A `run` calls `started(run_id, job_id)`
    as soon as it knows them: the engine records them at once, so a run whose starter is
    killed is followed by its ids, from any machine.
    """

    project_dir: Path
    config_hash: str
    git_commit: str | None
    who: str
    resources: dict[str, tuple[str, str, Attributes]] = field(default_factory=dict)
    emit: Callable[[str], None] = lambda message: None
    started: Callable[[str, str | None], None] = lambda run_id, job_id: None

    def find(self, kind: str, id: str) -> tuple[str, Attributes] | None:
        """(address, attributes) of the managed object of `kind` with `id`."""
        for address, (k, i, attrs) in self.resources.items():
            if k == kind and i == id:
                return address, attrs
        return None


# A runtime action: action(id, attributes, rt, **arguments) -> its result dataclass
# (mlops_decl/actions/catalog.py names each action's).
Action = Callable[..., Any]


@runtime_checkable
class Provider(Protocol):
    name: str

    def configure(self, settings: dict[str, Any], ctx: ProviderContext) -> None: ...

    def handler(self, kind: str) -> Handler | None: ...

    def kinds(self) -> frozenset[str]: ...

    # Optional class attributes, read with getattr: `retry_policy: RetryPolicy` (else
    # DEFAULT_RETRY) and `concurrency: int` (at most this many of its calls at once, beside
    # the global --parallelism; else no limit of its own).

    # Runtime actions (docs/runtime-actions.md), optional: `actions()`, callable on the class
    # without configuring it, lists the (kind, action) pairs it supports, e.g.
    # ("training_pipeline", "run"); `action(kind, name)` returns the callable. The engine checks
    # both with getattr.
    # @classmethod
    # def actions(cls) -> frozenset[tuple[str, str]]: ...
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
    # its SDK comes with the `sagemaker` extra; configure() says so when boto3 is missing
    "sagemaker": BuiltinProvider("sagemaker", "mlops_decl.providers.sagemaker.provider:SageMakerProvider"),
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
        super().__init__(message, retryable=False, category=Category.INVALID)
        self.field = field
        self.hint = hint
